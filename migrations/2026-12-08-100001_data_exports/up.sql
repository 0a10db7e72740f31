-- Data exports (issue 13): a tenant's archive (tenant_id set, owners see it)
-- or a person's own (tenant_id NULL, user_id set: only that person sees it).
-- The worker of every instance claims queued ones through
-- tg_data_export_claim (FOR UPDATE SKIP LOCKED with a lease) and then reads
-- and updates each export in that tenant's or person's own scope, as the
-- runtime role, under the policies below.
CREATE TABLE data_exports (
    id            uuid PRIMARY KEY,
    tenant_id     uuid REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       uuid REFERENCES users (id) ON DELETE CASCADE,
    requested_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
    progress      smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    attempts      integer NOT NULL DEFAULT 0,
    leased_by     uuid,
    leased_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    expires_at    timestamptz,
    size_bytes    bigint,
    sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    error         text,
    -- Exactly one owner: a tenant, or a person.
    CHECK ((tenant_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX data_exports_tenant_idx ON data_exports (tenant_id, created_at, id);
CREATE INDEX data_exports_user_idx ON data_exports (user_id, created_at, id);
CREATE INDEX data_exports_requested_by_idx ON data_exports (requested_by);
CREATE INDEX data_exports_due_idx ON data_exports (created_at)
    WHERE status IN ('queued', 'running');
CREATE INDEX data_exports_expiry_idx ON data_exports (expires_at) WHERE status = 'ready';
-- One export in the making per tenant, and per person (CONFLICT otherwise).
CREATE UNIQUE INDEX data_exports_one_tenant_active ON data_exports (tenant_id)
    WHERE status IN ('queued', 'running') AND tenant_id IS NOT NULL;
CREATE UNIQUE INDEX data_exports_one_user_active ON data_exports (user_id)
    WHERE status IN ('queued', 'running') AND user_id IS NOT NULL;

GRANT SELECT, INSERT ON data_exports TO tenantgate_app;
GRANT UPDATE (status, progress, leased_until, finished_at, expires_at, size_bytes, sha256, error)
    ON data_exports TO tenantgate_app;
ALTER TABLE data_exports ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_exports FORCE ROW LEVEL SECURITY;
-- A tenant's exports: that tenant's scope only (a person's rows have no tenant).
CREATE POLICY data_exports_tenant ON data_exports
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
-- A person's own exports: that user's scope, and no tenant in it (so a
-- tenant scope never shows a member's personal exports).
CREATE POLICY data_exports_person ON data_exports
    USING (tenant_id IS NULL AND user_id = tg_current_user() AND tg_current_tenant() IS NULL)
    WITH CHECK (tenant_id IS NULL AND user_id = tg_current_user() AND tg_current_tenant() IS NULL);

-- Download links: each read of `downloadUrl` mints one (a random nonce, kept
-- as its SHA-256, and the SHA-256 of a secret set as an HttpOnly cookie for
-- that export's download path), bound to the user who read it; spent once.
-- The URL names that user, and the lookup runs in that user's scope.
CREATE TABLE data_export_links (
    nonce_hash    bytea PRIMARY KEY CHECK (length(nonce_hash) = 32),
    export_id     uuid NOT NULL REFERENCES data_exports (id) ON DELETE CASCADE,
    -- The export's tenant (NULL: a personal export), copied when minted.
    tenant_id     uuid REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    binding_hash  bytea NOT NULL CHECK (length(binding_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);
CREATE INDEX data_export_links_export_idx ON data_export_links (export_id);
CREATE INDEX data_export_links_user_idx ON data_export_links (user_id);
CREATE INDEX data_export_links_tenant_idx ON data_export_links (tenant_id);
GRANT SELECT, INSERT ON data_export_links TO tenantgate_app;
GRANT UPDATE (used_at) ON data_export_links TO tenantgate_app;
ALTER TABLE data_export_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_export_links FORCE ROW LEVEL SECURITY;
CREATE POLICY data_export_links_own ON data_export_links
    USING (user_id = tg_current_user())
    WITH CHECK (user_id = tg_current_user());

-- The owner's own access for the functions below, each of which switches it on
-- with its SET clause for its own duration only: no runtime role can use it.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY data_exports_worker ON data_exports TO %I '
                   'USING (current_setting(''app.export_worker'', true) = ''on'') '
                   'WITH CHECK (current_setting(''app.export_worker'', true) = ''on'')', current_user);
    EXECUTE format('CREATE POLICY data_export_links_worker ON data_export_links TO %I '
                   'USING (current_setting(''app.export_worker'', true) = ''on'') '
                   'WITH CHECK (current_setting(''app.export_worker'', true) = ''on'')', current_user);
    -- A person's export reads the audit entries they are the actor of, in
    -- every tenant: only through tg_data_export_my_audit, for the
    -- transaction's own user.
    EXECUTE format('CREATE POLICY audit_log_person_export ON audit_log FOR SELECT TO %I '
                   'USING (current_setting(''app.person_export'', true) = ''on'' '
                   'AND actor_id = tg_current_user() AND actor_type IN (''user'', ''platform_admin''))',
                   current_user);
END
$$;
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, created_at, id) WHERE actor_id IS NOT NULL;

-- Claims the oldest queued export, or a running one whose lease ran out (its
-- instance died): the row is locked with SKIP LOCKED, so two instances never
-- claim the same one, and leased to `worker` for `lease_secs`.
CREATE FUNCTION tg_data_export_claim(worker uuid, lease_secs integer)
    RETURNS TABLE (id uuid, tenant_id uuid, user_id uuid, requested_by uuid, attempts integer)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    -- Set in the body, not with a SET clause: a non-superuser owner may not
    -- attach a custom setting to a function.
    PERFORM set_config('app.export_worker', 'on', true);
    RETURN QUERY
    UPDATE data_exports e
       SET status = 'running', leased_by = worker,
           leased_until = now() + make_interval(secs => least(greatest(lease_secs, 5), 3600)),
           attempts = e.attempts + 1, started_at = coalesce(e.started_at, now()), progress = 0
     WHERE e.id = (SELECT d.id FROM data_exports d
                    WHERE d.status = 'queued'
                       OR (d.status = 'running' AND d.leased_until < now())
                    ORDER BY d.created_at, d.id
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED)
    RETURNING e.id, e.tenant_id, e.user_id, e.requested_by, e.attempts;
    PERFORM set_config('app.export_worker', '', true);
END
$$;

-- Ready exports past their expiry (their files are deleted first, then
-- tg_data_export_expired marks them).
CREATE FUNCTION tg_data_exports_expiring(n integer)
    RETURNS TABLE (id uuid, tenant_id uuid, user_id uuid)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.export_worker', 'on', true);
    RETURN QUERY
    SELECT d.id, d.tenant_id, d.user_id FROM data_exports d
     WHERE d.status = 'ready' AND d.expires_at <= now()
     ORDER BY d.expires_at LIMIT least(greatest(n, 1), 1000);
    PERFORM set_config('app.export_worker', '', true);
END
$$;

-- Marks an export expired (its file is gone) and spends its open links.
CREATE FUNCTION tg_data_export_expired(export uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.export_worker', 'on', true);
    UPDATE data_exports SET status = 'expired'
     WHERE id = export AND status = 'ready' AND expires_at <= now();
    IF NOT FOUND THEN
        PERFORM set_config('app.export_worker', '', true);
        RETURN false;
    END IF;
    UPDATE data_export_links SET used_at = now() WHERE export_id = export AND used_at IS NULL;
    PERFORM set_config('app.export_worker', '', true);
    RETURN true;
END
$$;

-- The audit entries the transaction's user is the actor of, in every tenant,
-- in keyset pages (a person's export; the caller runs in that user's scope
-- with no tenant).
CREATE FUNCTION tg_data_export_my_audit(after_at timestamptz, after_id uuid, n integer)
    RETURNS SETOF audit_log
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.person_export', 'on', true);
    RETURN QUERY
    SELECT a.* FROM audit_log a
     WHERE tg_current_user() IS NOT NULL AND tg_current_tenant() IS NULL
       AND a.actor_id = tg_current_user() AND a.actor_type IN ('user', 'platform_admin')
       AND (after_at IS NULL OR (a.created_at, a.id) > (after_at, after_id))
     ORDER BY a.created_at, a.id
     LIMIT least(greatest(n, 1), 10000);
    PERFORM set_config('app.person_export', '', true);
END
$$;

-- Deletes a tenant's export rows (called in that tenant's scope while it is
-- pending deletion, or once its row is gone) or a person's own (called in
-- that person's scope, no tenant): the erasure's step after their files are
-- deleted. Returns how many rows went.
CREATE FUNCTION tg_data_exports_delete(tenant uuid, person uuid)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM set_config('app.export_worker', 'on', true);
    IF (tenant IS NULL) = (person IS NULL) THEN
        RAISE EXCEPTION 'name a tenant or a person' USING ERRCODE = '22023';
    END IF;
    IF tenant IS NOT NULL THEN
        IF tenant IS DISTINCT FROM tg_current_tenant()
           OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = tenant AND t.status <> 'pending_deletion') THEN
            RAISE EXCEPTION 'a tenant''s exports go only with the tenant' USING ERRCODE = '42501';
        END IF;
        DELETE FROM data_exports WHERE tenant_id = tenant;
    ELSE
        IF person IS DISTINCT FROM tg_current_user() OR tg_current_tenant() IS NOT NULL THEN
            RAISE EXCEPTION 'a person''s exports go only in their own scope' USING ERRCODE = '42501';
        END IF;
        DELETE FROM data_export_links WHERE user_id = person;
        DELETE FROM data_exports WHERE user_id = person;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('app.export_worker', '', true);
    RETURN n;
END
$$;

REVOKE ALL ON FUNCTION tg_data_exports_delete(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_data_exports_delete(uuid, uuid) TO tenantgate_app;
REVOKE ALL ON FUNCTION tg_data_export_claim(uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION tg_data_exports_expiring(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION tg_data_export_expired(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tg_data_export_my_audit(timestamptz, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_data_export_claim(uuid, integer) TO tenantgate_app;
GRANT EXECUTE ON FUNCTION tg_data_exports_expiring(integer) TO tenantgate_app;
GRANT EXECUTE ON FUNCTION tg_data_export_expired(uuid) TO tenantgate_app;
GRANT EXECUTE ON FUNCTION tg_data_export_my_audit(timestamptz, uuid, integer) TO tenantgate_app;
