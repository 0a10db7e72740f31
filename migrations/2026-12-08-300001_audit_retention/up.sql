-- Audit retention. Entries older than their tenant's plan keeps them
-- (plans.audit_retention_days) go, and the platform's own trail (no tenant)
-- after a setting of at least 30 days, through tg_audit_retention, which the
-- server runs at start and daily. The runtime roles still have no DELETE on
-- the trail: the function alone decides what is old, from the database's
-- clock and the plan, so a caller cannot choose what goes.
--
-- The table's owner runs the function (SECURITY DEFINER). Row-level security
-- is forced on audit_log and tenants, so the owner gets policies of its own,
-- open only while the function has set app.audit_retention in its
-- transaction (a superuser owner bypasses them anyway).
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
-- come within 300 ms (retried on the next run). Tenants' entries first, each
-- tenant's oldest through audit_log_tenant_idx, then the platform's.
CREATE FUNCTION tg_audit_retention(platform_days integer, batch integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    gone bigint := 0;
    n bigint;
BEGIN
    platform_days := LEAST(GREATEST(COALESCE(platform_days, 365), 30), 3650);
    batch := LEAST(GREATEST(COALESCE(batch, 1), 1), 10000);
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate audit retention')) THEN
        RETURN -1;
    END IF;
    PERFORM set_config('app.audit_retention', 'on', true);
    BEGIN
        DELETE FROM public.audit_log WHERE ctid = ANY (ARRAY(
            SELECT old.ctid
            FROM public.tenants t
            JOIN public.plans p ON p.key = t.plan_key
            CROSS JOIN LATERAL (
                SELECT a.ctid FROM public.audit_log a
                WHERE a.tenant_id = t.id
                  AND a.created_at < now() - make_interval(days => p.audit_retention_days)
                LIMIT batch) old
            LIMIT batch));
        GET DIAGNOSTICS n = ROW_COUNT;
        gone := n;
        IF gone < batch THEN
            DELETE FROM public.audit_log WHERE ctid = ANY (ARRAY(
                SELECT a.ctid FROM public.audit_log a
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
REVOKE ALL ON FUNCTION tg_audit_retention(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_audit_retention(integer, integer) TO tenantgate_app;
