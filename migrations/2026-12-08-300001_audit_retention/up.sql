-- Audit retention. Entries older than their tenant's plan keeps them
-- (plans.audit_retention_days) go, and the platform's own trail (no tenant)
-- after audit_settings.platform_days (30 to 3,650, written by the server's
-- owner connection at start-up from --platform-audit-retention-days), through
-- tg_audit_retention, which the server runs at start and daily. The runtime
-- roles still have no DELETE on the trail and no access to audit_settings:
-- the function alone decides what is old, from the database's clock, the
-- plans and that setting, so a caller cannot choose what goes.
--
-- The table's owner runs the function (SECURITY DEFINER). Row-level security
-- is forced on audit_log and tenants, so the owner gets policies of its own,
-- open only while the function has set app.audit_retention in its
-- transaction (a superuser owner bypasses them anyway). Other roles setting
-- app.audit_retention gain nothing: the policies name the owner.
CREATE TABLE audit_settings (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    platform_days  integer NOT NULL DEFAULT 365 CHECK (platform_days BETWEEN 30 AND 3650)
);
INSERT INTO audit_settings DEFAULT VALUES;
REVOKE ALL ON audit_settings FROM PUBLIC;

DO $$
BEGIN
    EXECUTE format('CREATE POLICY audit_log_retention_read ON audit_log FOR SELECT TO %I '
                   'USING (current_setting(''app.audit_retention'', true) = ''on'')', current_user);
    EXECUTE format('CREATE POLICY audit_log_retention ON audit_log FOR DELETE TO %I '
                   'USING (current_setting(''app.audit_retention'', true) = ''on'')', current_user);
    EXECUTE format('CREATE POLICY tenants_audit_retention ON tenants FOR SELECT TO %I '
                   'USING (current_setting(''app.audit_retention'', true) = ''on'')', current_user);
END
$$;

-- Deletes at most `batch` (1..10,000) entries past their retention; how many
-- it deleted, or -1 when another instance holds the job or a lock did not
-- come within 300 ms (retried on the next run). Tenants' entries first (each
-- tenant's through audit_log_tenant_idx), then the platform's.
CREATE FUNCTION tg_audit_retention(batch integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    gone bigint := 0;
    n bigint;
    platform_days integer;
BEGIN
    batch := LEAST(GREATEST(COALESCE(batch, 1), 1), 10000);
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate audit retention')) THEN
        RETURN -1;
    END IF;
    SELECT s.platform_days INTO platform_days FROM public.audit_settings s;
    platform_days := LEAST(GREATEST(COALESCE(platform_days, 365), 30), 3650);
    PERFORM set_config('app.audit_retention', 'on', true);
    BEGIN
        DELETE FROM public.audit_log WHERE id = ANY (ARRAY(
            SELECT old.id
            FROM public.tenants t
            JOIN public.plans p ON p.key = t.plan_key
            CROSS JOIN LATERAL (
                SELECT a.id FROM public.audit_log a
                WHERE a.tenant_id = t.id
                  AND a.created_at < now() - make_interval(days => p.audit_retention_days)
                LIMIT batch) old
            LIMIT batch));
        GET DIAGNOSTICS n = ROW_COUNT;
        gone := n;
        IF gone < batch THEN
            DELETE FROM public.audit_log WHERE id = ANY (ARRAY(
                SELECT a.id FROM public.audit_log a
                WHERE a.tenant_id IS NULL
                  AND a.created_at < now() - make_interval(days => platform_days)
                LIMIT batch - gone));
            GET DIAGNOSTICS n = ROW_COUNT;
            gone := gone + n;
        END IF;
    EXCEPTION WHEN lock_not_available THEN
        gone := -1;
    END;
    PERFORM set_config('app.audit_retention', '', true);
    RETURN gone;
END
$$;
REVOKE ALL ON FUNCTION tg_audit_retention(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_audit_retention(integer) TO tenantgate_app;

-- The query's and the export's filters by action and by actor read their
-- range of a tenant's trail in order instead of scanning it.
CREATE INDEX audit_log_tenant_action_idx ON audit_log (tenant_id, action, created_at DESC, id DESC);
CREATE INDEX audit_log_tenant_actor_idx ON audit_log (tenant_id, actor_id, created_at DESC, id DESC);
