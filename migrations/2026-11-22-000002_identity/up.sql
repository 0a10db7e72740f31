-- Plans are global catalogue data: readable by the runtime role, changed only by
-- migrations and (later) platform-admin paths.
CREATE TABLE plans (
    key                  text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,31}$'),
    name                 text NOT NULL,
    monthly_price_cents  integer NOT NULL CHECK (monthly_price_cents >= 0),
    currency             text NOT NULL DEFAULT 'usd',
    stripe_price_id      text,
    max_members          integer NOT NULL CHECK (max_members > 0),
    api_calls_per_hour   integer NOT NULL CHECK (api_calls_per_hour > 0),
    monthly_quotas       jsonb NOT NULL DEFAULT '{}',
    custom_branding      boolean NOT NULL DEFAULT false,
    audit_retention_days integer NOT NULL DEFAULT 30,
    sso_ready            boolean NOT NULL DEFAULT false,
    custom_domain        boolean NOT NULL DEFAULT false,
    sort_order           integer NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

INSERT INTO plans (key, name, monthly_price_cents, max_members, api_calls_per_hour,
                   custom_branding, audit_retention_days, sso_ready, custom_domain, sort_order)
VALUES ('free',       'Free',        0,    5,   1000, false,  7, false, false, 0),
       ('basic',      'Basic',    2900,   25,  10000, false, 30, false, false, 1),
       ('pro',        'Pro',      9900,  100,  50000, true,  90, true,  true,  2),
       ('enterprise', 'Enterprise', 29900, 1000, 200000, true, 365, true,  true,  3);

CREATE TRIGGER plans_touch BEFORE UPDATE ON plans
    FOR EACH ROW EXECUTE FUNCTION tg_touch_updated_at();
GRANT SELECT ON plans TO tenantgate_app;

-- Tenants: the row *is* the tenant, so its own id is the isolation key.
CREATE TABLE tenants (
    id               uuid PRIMARY KEY,
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    slug             text NOT NULL UNIQUE
                     CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$'),
    custom_domain    text UNIQUE,
    status           text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'suspended', 'pending_deletion')),
    status_reason    text,
    plan_key         text NOT NULL DEFAULT 'free' REFERENCES plans (key),
    branding         jsonb NOT NULL DEFAULT '{}',
    settings         jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_created_idx ON tenants (created_at, id);
CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION tg_touch_updated_at();
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_isolation ON tenants
    USING (id = tg_current_tenant())
    WITH CHECK (id = tg_current_tenant());
-- Members may change their tenant's details; its status and plan are changed
-- only on the platform-admin path (granted to that role alone).
GRANT SELECT ON tenants TO tenantgate_app;
GRANT INSERT (id, name, slug) ON tenants TO tenantgate_app;
GRANT UPDATE (name, slug, custom_domain, branding, settings) ON tenants TO tenantgate_app;

-- Users are global identities (one person, many tenants). A user row is visible
-- to the user itself and, read-only, to the tenants the user is a member of.
CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    -- Stored normalised (lower-case), so lookups compare with `=`, which row-level
    -- security lets use the index (lower() is not leakproof).
    email              text NOT NULL UNIQUE
                       CHECK (char_length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    password_hash      text,
    email_verified_at  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION tg_touch_updated_at();

-- Memberships: (tenant, user, role).
CREATE TABLE memberships (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'billing', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);
CREATE TRIGGER memberships_touch BEFORE UPDATE ON memberships
    FOR EACH ROW EXECUTE FUNCTION tg_touch_updated_at();
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_isolation ON memberships
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
-- A new membership is always the acting user's own (sign-up, accepting an
-- invitation): a tenant cannot pull an arbitrary existing user in.
CREATE POLICY memberships_join ON memberships AS RESTRICTIVE FOR INSERT
    WITH CHECK (user_id = tg_current_user());
GRANT SELECT, INSERT, DELETE ON memberships TO tenantgate_app;
GRANT UPDATE (role) ON memberships TO tenantgate_app;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_self ON users
    USING (id = tg_current_user())
    WITH CHECK (id = tg_current_user());
CREATE POLICY users_tenant_members ON users FOR SELECT
    USING (EXISTS (SELECT 1 FROM memberships m
                   WHERE m.user_id = users.id AND m.tenant_id = tg_current_tenant()));
-- Password hashes are not readable by the runtime role (sign-in checks them
-- through tg_login_lookup); they are only written.
GRANT SELECT (id, email, email_verified_at, created_at, updated_at) ON users TO tenantgate_app;
GRANT INSERT (id, email, password_hash, email_verified_at) ON users TO tenantgate_app;
GRANT UPDATE (email, password_hash, email_verified_at) ON users TO tenantgate_app;
