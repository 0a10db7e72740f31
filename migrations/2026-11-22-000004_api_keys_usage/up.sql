-- API keys: a tenant's credentials for machine callers. Only the SHA-256 of a
-- key is stored (the key has >= 190 random bits, so a fast hash is enough);
-- `previous_hash` is the secret being rotated out, valid until
-- `previous_valid_until`.
CREATE TABLE api_keys (
    id                    uuid PRIMARY KEY,
    tenant_id             uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    created_by            uuid REFERENCES users (id) ON DELETE SET NULL,
    name                  text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    environment           text NOT NULL CHECK (environment IN ('live', 'test')),
    display_prefix        text NOT NULL,
    secret_hash           bytea NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    previous_hash         bytea UNIQUE CHECK (octet_length(previous_hash) = 32),
    previous_valid_until  timestamptz,
    scopes                text[] NOT NULL DEFAULT '{}',
    rate_limit            integer CHECK (rate_limit > 0),
    rate_limit_period     integer CHECK (rate_limit_period BETWEEN 1 AND 86400),
    expires_at            timestamptz,
    revoked_at            timestamptz,
    last_used_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((rate_limit IS NULL) = (rate_limit_period IS NULL)),
    CHECK ((previous_hash IS NULL) = (previous_valid_until IS NULL))
);
CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at, id);
CREATE TRIGGER api_keys_touch BEFORE UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION tg_touch_updated_at();
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_isolation ON api_keys
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY api_keys_platform_admin ON api_keys FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT, INSERT ON api_keys TO tenantgate_app;
GRANT SELECT ON api_keys TO tenantgate_platform_admin;
GRANT UPDATE (name, display_prefix, secret_hash, previous_hash, previous_valid_until, scopes,
              rate_limit, rate_limit_period, revoked_at, last_used_at) ON api_keys TO tenantgate_app;

-- Every current and previous key hash with its tenant: read only by the
-- functions below (no grants), so verifying a key needs no cross-tenant
-- policy on api_keys.
CREATE TABLE api_key_hashes (
    hash       bytea PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
REVOKE ALL ON api_key_hashes FROM PUBLIC;

-- Verifying a key: the one key whose current or previous hash is `key_hash`,
-- with what the request path needs of its tenant and plan. The runtime role
-- cannot read keys across tenants otherwise; knowing the hash means holding
-- the key.
CREATE FUNCTION tg_api_key_lookup(key_hash bytea)
    RETURNS TABLE (id uuid, tenant_id uuid, created_by uuid, name text, environment text,
                   display_prefix text, is_previous boolean, valid_until timestamptz,
                   scopes text[], rate_limit integer, rate_limit_period integer,
                   expires_at timestamptz, revoked_at timestamptz,
                   tenant_slug text, tenant_status text, plan_key text, api_calls_per_hour integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
DECLARE
    found_tenant uuid;
BEGIN
    -- The owner is subject to row-level security too (FORCE): read the key's
    -- tenant in that tenant's own context.
    SELECT h.tenant_id INTO found_tenant FROM public.api_key_hashes h WHERE h.hash = key_hash;
    IF found_tenant IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', found_tenant::text, true);
    RETURN QUERY
        SELECT k.id, k.tenant_id, k.created_by, k.name, k.environment, k.display_prefix,
               (k.secret_hash <> key_hash) AS is_previous,
               CASE WHEN k.secret_hash = key_hash THEN NULL ELSE k.previous_valid_until END,
               k.scopes, k.rate_limit, k.rate_limit_period, k.expires_at, k.revoked_at,
               t.slug, t.status, t.plan_key, p.api_calls_per_hour
        FROM public.api_keys k
        JOIN public.tenants t ON t.id = k.tenant_id
        JOIN public.plans p ON p.key = t.plan_key
        WHERE k.secret_hash = key_hash OR k.previous_hash = key_hash;
    PERFORM set_config('app.tenant_id', '', true);
END
$$;

REVOKE ALL ON FUNCTION tg_api_key_lookup(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_api_key_lookup(bytea) TO tenantgate_app;

-- Keeps api_key_hashes equal to the current and previous hashes of every key.
CREATE FUNCTION tg_api_key_hashes_sync() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM public.api_key_hashes
        WHERE hash IN (OLD.secret_hash, OLD.previous_hash);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO public.api_key_hashes (hash, tenant_id) VALUES (NEW.secret_hash, NEW.tenant_id);
        IF NEW.previous_hash IS NOT NULL THEN
            INSERT INTO public.api_key_hashes (hash, tenant_id) VALUES (NEW.previous_hash, NEW.tenant_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tg_api_key_hashes_sync() FROM PUBLIC;
CREATE TRIGGER api_keys_hashes_sync
    AFTER INSERT OR DELETE OR UPDATE OF secret_hash, previous_hash ON api_keys
    FOR EACH ROW EXECUTE FUNCTION tg_api_key_hashes_sync();

-- Every instance caches verified keys; any change that can alter a key's
-- answer is announced on commit so every instance drops its copy at once:
-- `k:<key id>` for a key, `t:<tenant id>` for a tenant (status, plan), `*` for
-- a plan (its limits).
CREATE FUNCTION tg_api_keys_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_TABLE_NAME = 'api_keys' THEN
        PERFORM pg_notify('tenantgate_keys', 'k:' || COALESCE(NEW.id, OLD.id)::text);
    ELSIF TG_TABLE_NAME = 'tenants' THEN
        PERFORM pg_notify('tenantgate_keys', 't:' || COALESCE(NEW.id, OLD.id)::text);
    ELSE
        PERFORM pg_notify('tenantgate_keys', '*');
    END IF;
    RETURN NULL;
END
$$;
-- last_used_at is bookkeeping (flushed in batches): it changes no answer.
CREATE TRIGGER api_keys_notify
    AFTER DELETE OR UPDATE OF name, secret_hash, previous_hash, previous_valid_until, scopes,
                              rate_limit, rate_limit_period, expires_at, revoked_at ON api_keys
    FOR EACH ROW EXECUTE FUNCTION tg_api_keys_notify();
CREATE TRIGGER tenants_keys_notify
    AFTER DELETE OR UPDATE OF slug, status, plan_key ON tenants
    FOR EACH ROW EXECUTE FUNCTION tg_api_keys_notify();
CREATE TRIGGER plans_keys_notify
    AFTER UPDATE OF api_calls_per_hour ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION tg_api_keys_notify();

-- Usage events (the metering issue adds rollups and quotas). Test-mode events
-- are kept apart by `environment` and never count against quotas or billing.
CREATE TABLE usage_events (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    metric           text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
    quantity         bigint NOT NULL CHECK (quantity > 0),
    environment      text NOT NULL CHECK (environment IN ('live', 'test')),
    api_key_id       uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    idempotency_key  text CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    occurred_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX usage_events_idempotency ON usage_events (tenant_id, environment, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX usage_events_tenant_metric_idx ON usage_events (tenant_id, metric, occurred_at);
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_events_isolation ON usage_events
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY usage_events_platform_admin ON usage_events FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT, INSERT ON usage_events TO tenantgate_app;
GRANT SELECT ON usage_events TO tenantgate_platform_admin;
