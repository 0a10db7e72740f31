-- Publishable keys and origin allow-lists: what a tenant's web pages may call
-- from a browser. A publishable key (`tg_pk_live_…`, `tg_pk_test_…`) is not a
-- secret (it ships in the tenant's pages), so it is stored as it is and shown
-- again, as Stripe shows its publishable keys; it only ever reaches
-- `/v1/public/{key}/…`, and only from an origin on its tenant's allow-list.
CREATE TABLE publishable_keys (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    environment  text NOT NULL CHECK (environment IN ('live', 'test')),
    key          text NOT NULL UNIQUE CHECK (key ~ '^tg_pk_(live|test)_[0-9A-Za-z]{40}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX publishable_keys_tenant_idx ON publishable_keys (tenant_id, created_at, id);
ALTER TABLE publishable_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE publishable_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY publishable_keys_isolation ON publishable_keys
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
GRANT SELECT, INSERT ON publishable_keys TO tenantgate_app;
GRANT UPDATE (revoked_at) ON publishable_keys TO tenantgate_app;

-- The origins (`scheme://host[:port]`, normalised by the server) whose pages
-- may use the tenant's publishable keys.
CREATE TABLE allowed_origins (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    origin      text NOT NULL CHECK (origin ~ '^https?://[a-z0-9.:\[\]-]+$' AND length(origin) <= 300),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, origin)
);
ALTER TABLE allowed_origins ENABLE ROW LEVEL SECURITY;
ALTER TABLE allowed_origins FORCE ROW LEVEL SECURITY;
CREATE POLICY allowed_origins_isolation ON allowed_origins
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
GRANT SELECT, INSERT, DELETE ON allowed_origins TO tenantgate_app;

-- Every publishable key with its tenant: read only by the lookup below (no
-- grants), as api_key_hashes is for secret keys.
CREATE TABLE publishable_key_index (
    key        text PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
REVOKE ALL ON publishable_key_index FROM PUBLIC;

CREATE FUNCTION tg_publishable_key_index_sync() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM public.publishable_key_index WHERE key = OLD.key;
    ELSE
        INSERT INTO public.publishable_key_index (key, tenant_id) VALUES (NEW.key, NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tg_publishable_key_index_sync() FROM PUBLIC;
CREATE TRIGGER publishable_keys_index_sync
    AFTER INSERT OR DELETE ON publishable_keys
    FOR EACH ROW EXECUTE FUNCTION tg_publishable_key_index_sync();

-- Admitting a publishable key: the key, its tenant's status and plan, public
-- branding and allowed origins, in one statement. Knowing the key is all it
-- takes, and all it gives is what any page of the tenant's shows.
CREATE FUNCTION tg_publishable_key_lookup(presented text)
    RETURNS TABLE (id uuid, tenant_id uuid, environment text, revoked_at timestamptz,
                   tenant_slug text, tenant_name text, tenant_status text, plan_key text,
                   branding jsonb, origins text[])
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
DECLARE
    found_tenant uuid;
    -- The caller's tenant context, restored after the read.
    previous text := current_setting('app.tenant_id', true);
BEGIN
    SELECT i.tenant_id INTO found_tenant FROM public.publishable_key_index i WHERE i.key = presented;
    IF found_tenant IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', found_tenant::text, true);
    RETURN QUERY
        SELECT k.id, k.tenant_id, k.environment, k.revoked_at,
               t.slug, t.name, t.status, t.plan_key, t.branding,
               ARRAY(SELECT o.origin FROM public.allowed_origins o
                     WHERE o.tenant_id = k.tenant_id ORDER BY o.origin)
        FROM public.publishable_keys k
        JOIN public.tenants t ON t.id = k.tenant_id
        WHERE k.key = presented;
    PERFORM set_config('app.tenant_id', COALESCE(previous, ''), true);
END
$$;
REVOKE ALL ON FUNCTION tg_publishable_key_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_publishable_key_lookup(text) TO tenantgate_app;

-- Every instance caches admitted publishable keys next to secret keys: a
-- change of a key, the origins or what the lookup returns of the tenant is
-- announced on the keys' channel as `p:<tenant id>` (which drops the
-- tenant's publishable keys, not its secret keys, and also forgets every
-- "no such key", so a new key is never met by a stale miss).
CREATE FUNCTION tg_publishable_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_TABLE_NAME = 'tenants' THEN
        PERFORM pg_notify('tenantgate_keys', 'p:' || COALESCE(NEW.id, OLD.id)::text);
    ELSE
        PERFORM pg_notify('tenantgate_keys', 'p:' || COALESCE(NEW.tenant_id, OLD.tenant_id)::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER publishable_keys_notify
    AFTER INSERT OR DELETE OR UPDATE OF revoked_at ON publishable_keys
    FOR EACH ROW EXECUTE FUNCTION tg_publishable_notify();
CREATE TRIGGER allowed_origins_notify
    AFTER INSERT OR DELETE ON allowed_origins
    FOR EACH ROW EXECUTE FUNCTION tg_publishable_notify();
CREATE TRIGGER tenants_publishable_notify
    AFTER UPDATE OF name, branding ON tenants
    FOR EACH ROW EXECUTE FUNCTION tg_publishable_notify();
