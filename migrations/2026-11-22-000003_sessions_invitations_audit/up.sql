-- One narrow capability a transaction can be given by the tenant-scoped handle
-- (transaction-local, like the tenant): app.lookup_email, the one email whose
-- user row may be read (invitations, sign-in links).
CREATE FUNCTION tg_lookup_email() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.lookup_email', true), '') $$;

CREATE POLICY users_email_lookup ON users FOR SELECT
    USING (email = tg_lookup_email());

-- Platform admins. No row-level security and no grants: only the owner (the
-- `tenantgate admin` command) writes it, and the functions below read it.
CREATE TABLE platform_admins (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON platform_admins FROM PUBLIC;

-- Whether the transaction's user is a platform admin: the database's own
-- answer, whatever the application claims.
CREATE FUNCTION tg_current_user_is_platform_admin() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$ SELECT EXISTS (SELECT 1 FROM public.platform_admins WHERE user_id = public.tg_current_user()) $$;
REVOKE ALL ON FUNCTION tg_current_user_is_platform_admin() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_current_user_is_platform_admin() TO tenantgate_app, tenantgate_platform_admin;

-- Sign-in: the id and password hash of one email, for the runtime role, which
-- cannot read password hashes otherwise.
CREATE FUNCTION tg_login_lookup(login_email text) RETURNS TABLE (id uuid, password_hash text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM set_config('app.lookup_email', lower(login_email), true);
    RETURN QUERY SELECT u.id, u.password_hash FROM public.users u WHERE u.email = lower(login_email);
    PERFORM set_config('app.lookup_email', '', true);
END
$$;
REVOKE ALL ON FUNCTION tg_login_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_login_lookup(text) TO tenantgate_app;

-- A user's own memberships and tenants, across tenants, only when no tenant is
-- set: a tenant-scoped transaction still sees exactly one tenant.
CREATE POLICY memberships_own ON memberships FOR SELECT
    USING (user_id = tg_current_user() AND tg_current_tenant() IS NULL);
CREATE POLICY tenants_own ON tenants FOR SELECT
    USING (tg_current_tenant() IS NULL AND EXISTS (
        SELECT 1 FROM memberships m WHERE m.tenant_id = tenants.id AND m.user_id = tg_current_user()));

-- The platform-admin path: its own role, its own policies (so the runtime
-- role's tenant policies stay simple and indexable), each re-checking that
-- the transaction's user really is a platform admin.
CREATE POLICY tenants_platform_admin ON tenants TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()))
    WITH CHECK ((SELECT tg_current_user_is_platform_admin()));
CREATE POLICY users_platform_admin ON users FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
CREATE POLICY memberships_platform_admin ON memberships FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT ON tenants, memberships, plans TO tenantgate_platform_admin;
GRANT UPDATE (status, status_reason, plan_key) ON tenants TO tenantgate_platform_admin;
GRANT SELECT (id, email, email_verified_at, created_at, updated_at) ON users TO tenantgate_platform_admin;

-- Sessions: a refresh-token family per sign-in. Refresh tokens are stored only
-- as SHA-256 hashes and rotated on every use; presenting a rotated one revokes
-- the whole family.
CREATE TABLE sessions (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    default_tenant_id  uuid,
    user_agent         text,
    ip                 text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_used_at       timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    revoked_reason     text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_owner ON sessions
    USING (user_id = tg_current_user())
    WITH CHECK (user_id = tg_current_user());
GRANT SELECT, INSERT ON sessions TO tenantgate_app;
GRANT UPDATE (last_used_at, revoked_at, revoked_reason, default_tenant_id) ON sessions TO tenantgate_app;

CREATE TABLE refresh_tokens (
    token_hash   bytea PRIMARY KEY,
    session_id   uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    rotated_at   timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY refresh_tokens_owner ON refresh_tokens
    USING (user_id = tg_current_user())
    WITH CHECK (user_id = tg_current_user());
GRANT SELECT, INSERT ON refresh_tokens TO tenantgate_app;
GRANT UPDATE (rotated_at) ON refresh_tokens TO tenantgate_app;

-- Single-use tokens sent by email: magic links, password resets, email checks.
CREATE TABLE email_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('magic_link', 'password_reset', 'verify_email')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id);
ALTER TABLE email_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY email_tokens_owner ON email_tokens
    USING (user_id = tg_current_user())
    WITH CHECK (user_id = tg_current_user());
GRANT SELECT, INSERT ON email_tokens TO tenantgate_app;
GRANT UPDATE (used_at) ON email_tokens TO tenantgate_app;

-- Invitations to a tenant: email + role + single-use token (hash only).
CREATE TABLE invitations (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email        text NOT NULL,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'billing', 'viewer')),
    token_hash   bytea NOT NULL UNIQUE,
    invited_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (tenant_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_tenant_created_idx ON invitations (tenant_id, created_at, id);
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY invitations_isolation ON invitations
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY invitations_platform_admin ON invitations FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT, INSERT ON invitations TO tenantgate_app;
GRANT SELECT ON invitations TO tenantgate_platform_admin;
GRANT UPDATE (accepted_at, revoked_at) ON invitations TO tenantgate_app;

CREATE INDEX memberships_tenant_created_idx ON memberships (tenant_id, created_at, user_id);

-- The audit trail: append-only for the runtime role (no UPDATE, no DELETE
-- granted), written in the same transaction as the change it records.
CREATE TABLE audit_log (
    id           uuid PRIMARY KEY,
    tenant_id    uuid REFERENCES tenants (id) ON DELETE CASCADE,
    actor_type   text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'platform_admin', 'stripe', 'system', 'anonymous')),
    actor_id     uuid,
    actor_label  text,
    action       text NOT NULL,
    target_type  text,
    target_id    text,
    ip           text,
    user_agent   text,
    request_id   text,
    before       jsonb,
    after        jsonb,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at DESC, id DESC);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_isolation ON audit_log FOR SELECT
    USING (tenant_id = tg_current_tenant());
CREATE POLICY audit_log_append ON audit_log FOR INSERT
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tg_current_tenant());
CREATE POLICY audit_log_platform_admin ON audit_log TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()))
    WITH CHECK ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT, INSERT ON audit_log TO tenantgate_app, tenantgate_platform_admin;

-- Live audit feed: every instance LISTENs and forwards new entries.
CREATE FUNCTION tg_audit_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tenantgate_audit',
        json_build_object('id', NEW.id, 'tenant_id', NEW.tenant_id)::text);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_notify AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tg_audit_notify();

-- Outgoing email when no SMTP server is configured (and a record either way).
-- Bodies hold sign-in links: only the platform-admin path may read them.
CREATE TABLE email_outbox (
    id          uuid PRIMARY KEY,
    recipient   text NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    -- When to try again after a failure; a message that failed too often is
    -- given up (failed_at) and stays for inspection.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    failed_at   timestamptz
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
ALTER TABLE email_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY email_outbox_write ON email_outbox FOR INSERT WITH CHECK (true);
CREATE POLICY email_outbox_platform_admin ON email_outbox FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
GRANT INSERT ON email_outbox TO tenantgate_app;
-- The SMTP dispatcher works over the owner connection (it reads bodies and
-- marks messages sent); a policy for that role keeps it working when the owner
-- is not a superuser (row-level security is forced).
DO $$
BEGIN
    EXECUTE format('CREATE POLICY email_outbox_dispatch ON email_outbox TO %I USING (true) WITH CHECK (true)', current_user);
END
$$;
GRANT SELECT ON email_outbox TO tenantgate_platform_admin;

-- Failed sign-in budget per account and per client address, shared by every
-- instance. Keys are 'account:<email>' and 'ip:<address>'; nothing tenant-owned.
CREATE TABLE login_failures (
    key           text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_failures TO tenantgate_app;

-- Every tenant keeps at least one owner: checked at commit, as a backstop to
-- the application's own check (which gives the clear CONFLICT error).
CREATE FUNCTION tg_keep_an_owner() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.role = 'owner'
       AND EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id)
       AND NOT EXISTS (SELECT 1 FROM memberships WHERE tenant_id = OLD.tenant_id AND role = 'owner')
    THEN
        RAISE EXCEPTION 'a tenant must keep at least one owner' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER memberships_keep_an_owner AFTER UPDATE OR DELETE ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tg_keep_an_owner();
