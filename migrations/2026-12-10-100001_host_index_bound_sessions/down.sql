ALTER TABLE sessions DROP COLUMN bound_tenant_id;
CREATE FUNCTION tg_host_tenant(p_slug text, p_domain text)
    RETURNS TABLE (id uuid, name text, display_name text, logo_url text,
                   primary_color text, accent_color text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.host_lookup', 'on', true);
    IF p_slug IS NOT NULL THEN
        RETURN QUERY
            SELECT t.id, t.name, t.branding ->> 'displayName', t.branding ->> 'logoUrl',
                   t.branding ->> 'primaryColor', t.branding ->> 'accentColor'
            FROM public.tenants t WHERE t.slug = p_slug;
    ELSIF p_domain IS NOT NULL THEN
        RETURN QUERY
            SELECT t.id, t.name, t.branding ->> 'displayName', t.branding ->> 'logoUrl',
                   t.branding ->> 'primaryColor', t.branding ->> 'accentColor'
            FROM public.tenant_domains d JOIN public.tenants t ON t.id = d.tenant_id
            JOIN public.plans p ON p.key = t.plan_key
            WHERE d.domain = p_domain AND d.verified_at IS NOT NULL
              AND t.status = 'active' AND p.custom_domain;
    END IF;
    PERFORM set_config('app.host_lookup', 'off', true);
END
$$;
REVOKE ALL ON FUNCTION tg_host_tenant(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_host_tenant(text, text) TO tenantgate_app;
DROP FUNCTION tg_host_face(uuid);
DROP FUNCTION tg_host_index(uuid[]);
DROP TRIGGER tenant_domains_hosts_notify_update ON tenant_domains;
DROP TRIGGER tenant_domains_hosts_notify ON tenant_domains;
DROP TRIGGER tenants_hosts_notify_update ON tenants;
DROP TRIGGER tenants_hosts_notify ON tenants;
DROP FUNCTION tg_hosts_notify();
