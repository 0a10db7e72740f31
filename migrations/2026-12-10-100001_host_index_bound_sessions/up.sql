-- Hosts routed from memory, and sessions bound to the tenant of the custom
-- domain they were signed in on (the review of issue 14).

-- Every instance keeps in memory what routes: each tenant's slug and, when it
-- routes, its verified custom domain. The whole index is read at start and
-- every 30 s (a lost notification heals); a change is announced on commit,
-- with the tenant's id, so every instance reloads that tenant alone (and
-- drops its cached name and branding).
CREATE FUNCTION tg_hosts_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    changed record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
    ELSE
        changed := NEW;
    END IF;
    -- Each branch names only a field its table has (plpgsql resolves fields
    -- when a statement is first run).
    IF TG_TABLE_NAME = 'tenants' THEN
        PERFORM pg_notify('tenantgate_hosts', changed.id::text);
    ELSE
        PERFORM pg_notify('tenantgate_hosts', changed.tenant_id::text);
    END IF;
    RETURN NULL;
END
$$;
-- Only changes of what routing or the face reads are announced: an update
-- that leaves those columns as they were (a domain's recheck writing
-- last_checked_at, a no-op UPDATE) says nothing, so a burst of them never
-- makes every instance read the whole index.
CREATE TRIGGER tenants_hosts_notify
    AFTER INSERT OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION tg_hosts_notify();
CREATE TRIGGER tenants_hosts_notify_update
    AFTER UPDATE OF slug, status, plan_key, name, branding ON tenants
    FOR EACH ROW
    WHEN (OLD.slug IS DISTINCT FROM NEW.slug
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.plan_key IS DISTINCT FROM NEW.plan_key
          OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.branding IS DISTINCT FROM NEW.branding)
    EXECUTE FUNCTION tg_hosts_notify();
CREATE TRIGGER tenant_domains_hosts_notify
    AFTER INSERT OR DELETE ON tenant_domains
    FOR EACH ROW EXECUTE FUNCTION tg_hosts_notify();
CREATE TRIGGER tenant_domains_hosts_notify_update
    AFTER UPDATE OF tenant_id, domain, verified_at ON tenant_domains
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
          OR OLD.domain IS DISTINCT FROM NEW.domain
          OR OLD.verified_at IS DISTINCT FROM NEW.verified_at)
    EXECUTE FUNCTION tg_hosts_notify();
-- A plan losing or gaining `customDomain` is announced on `tenantgate_plans`
-- (tg_plans_notify): the index is then read whole.

-- The routing index: every tenant of `p_tenants` (all when NULL) with its
-- slug, and its custom domain only while that routes (verified, the tenant
-- active and its plan with customDomain). Only what routing needs: ids, slugs
-- and domains, nothing else of the tenant.
CREATE FUNCTION tg_host_index(p_tenants uuid[])
    RETURNS TABLE (tenant_id uuid, slug text, domain text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.host_lookup', 'on', true);
    RETURN QUERY
        SELECT t.id, t.slug,
               CASE WHEN d.verified_at IS NOT NULL AND t.status = 'active' AND p.custom_domain
                    THEN d.domain END
        FROM public.tenants t
        JOIN public.plans p ON p.key = t.plan_key
        LEFT JOIN public.tenant_domains d ON d.tenant_id = t.id
        WHERE p_tenants IS NULL OR t.id = ANY (p_tenants);
    PERFORM set_config('app.host_lookup', 'off', true);
END
$$;
REVOKE ALL ON FUNCTION tg_host_index(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_host_index(uuid[]) TO tenantgate_app;

-- What the sign-in page of a routed host wears: the tenant's name and the
-- public part of its branding (never the support email, plan, status or
-- anything of its members).
CREATE FUNCTION tg_host_face(p_tenant uuid)
    RETURNS TABLE (id uuid, name text, display_name text, logo_url text,
                   primary_color text, accent_color text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.host_lookup', 'on', true);
    RETURN QUERY
        SELECT t.id, t.name, t.branding ->> 'displayName', t.branding ->> 'logoUrl',
               t.branding ->> 'primaryColor', t.branding ->> 'accentColor'
        FROM public.tenants t WHERE t.id = p_tenant;
    PERFORM set_config('app.host_lookup', 'off', true);
END
$$;
REVOKE ALL ON FUNCTION tg_host_face(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_host_face(uuid) TO tenantgate_app;

-- The per-host lookup is gone: nothing runs SQL for a host any more.
DROP FUNCTION tg_host_tenant(text, text);

-- A session signed in on a tenant's custom domain acts only in that tenant,
-- and never with platform-admin powers. Set when the session is opened; the
-- runtime role may not update it (its UPDATE grant names other columns), so
-- a refresh keeps it and nothing removes it.
ALTER TABLE sessions ADD COLUMN bound_tenant_id uuid;
