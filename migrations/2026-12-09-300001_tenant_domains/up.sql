-- Tenants found by their own domain (issue 14). A tenant may claim one custom
-- domain; it routes only once verified, by a TXT record `_tenantgate.<domain>`
-- holding the token issued here (the token is not a secret: it is published in
-- DNS, and shown to the tenant's owners until the domain is removed). A domain
-- may be claimed by several tenants while pending (nobody can squat on a
-- domain by claiming it first), but verified by one tenant at a time: the
-- partial unique index decides.
CREATE TABLE tenant_domains (
    tenant_id        uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    domain           text NOT NULL
                     CHECK (char_length(domain) BETWEEN 4 AND 253 AND domain ~ '^[a-z0-9.-]+$'),
    token            text NOT NULL CHECK (token ~ '^tg-verify-[A-Za-z0-9_-]{32,64}$'),
    verified_at      timestamptz,
    -- The last look at the record (a verification or the daily re-check), what
    -- it found, and since when a verified domain's record has been missing.
    last_checked_at  timestamptz,
    last_result      text CHECK (char_length(last_result) <= 500),
    missing_since    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenant_domains_verified_idx ON tenant_domains (domain) WHERE verified_at IS NOT NULL;
CREATE INDEX tenant_domains_recheck_idx ON tenant_domains (last_checked_at) WHERE verified_at IS NOT NULL;
ALTER TABLE tenant_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_domains_isolation ON tenant_domains
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
GRANT SELECT, INSERT, DELETE ON tenant_domains TO tenantgate_app;
GRANT UPDATE (verified_at, last_checked_at, last_result, missing_since) ON tenant_domains TO tenantgate_app;

-- The owner reads across tenants only inside the functions below, which set
-- app.host_lookup for their own statements and clear it before returning.
-- The policies name the owner: a runtime role setting app.host_lookup gains
-- nothing.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY tenants_host_lookup ON tenants FOR SELECT TO %I '
                   'USING (current_setting(''app.host_lookup'', true) = ''on'')', current_user);
    EXECUTE format('CREATE POLICY tenant_domains_host_lookup ON tenant_domains FOR SELECT TO %I '
                   'USING (current_setting(''app.host_lookup'', true) = ''on'')', current_user);
END
$$;

-- The tenant a request's host names, for anonymous routing: by slug (a
-- subdomain of the base domain, which only the server knows) or by a verified
-- custom domain (only while the tenant is active and its plan includes
-- custom domains). Only what routing and the sign-in page need: the id, the
-- name and the public part of the branding (never the support email, the
-- plan, the status or anything of its members).
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
              -- A custom domain routes only for an active tenant whose plan
              -- still includes it (a downgrade, a suspension or a pending
              -- deletion stops it; the claim is kept, so it comes back).
              AND t.status = 'active' AND p.custom_domain;
    END IF;
    PERFORM set_config('app.host_lookup', 'off', true);
END
$$;
REVOKE ALL ON FUNCTION tg_host_tenant(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_host_tenant(text, text) TO tenantgate_app;

-- Whether a tenant other than the transaction's has verified `p_domain`
-- (routing or not: a claim of a domain another tenant holds is CONFLICT even
-- while the holder's plan or status keeps it from routing). Only a yes or no.
CREATE FUNCTION tg_domain_verified_elsewhere(p_domain text)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    found boolean;
BEGIN
    PERFORM set_config('app.host_lookup', 'on', true);
    SELECT EXISTS (
        SELECT 1 FROM public.tenant_domains d
        WHERE d.domain = p_domain AND d.verified_at IS NOT NULL
          AND d.tenant_id IS DISTINCT FROM public.tg_current_tenant())
    INTO found;
    PERFORM set_config('app.host_lookup', 'off', true);
    RETURN found;
END
$$;
REVOKE ALL ON FUNCTION tg_domain_verified_elsewhere(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_domain_verified_elsewhere(text) TO tenantgate_app;

-- Verified domains whose record was last looked at before `p_before`, or
-- whose record is missing (those at every run, whatever their last look: a
-- tenant's own Verify cannot push the 72-hour rule back), longest waiting
-- first (the re-check; each is then updated in its own tenant's scope).
CREATE FUNCTION tg_domains_due(p_before timestamptz, p_limit integer)
    RETURNS TABLE (tenant_id uuid, domain text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.host_lookup', 'on', true);
    RETURN QUERY
        SELECT d.tenant_id, d.domain FROM public.tenant_domains d
        WHERE d.verified_at IS NOT NULL
          AND (d.last_checked_at IS NULL OR d.last_checked_at < p_before
               OR d.missing_since IS NOT NULL)
        ORDER BY LEAST(d.missing_since, d.last_checked_at) NULLS FIRST
        LIMIT LEAST(GREATEST(COALESCE(p_limit, 1), 1), 1000);
    PERFORM set_config('app.host_lookup', 'off', true);
END
$$;
REVOKE ALL ON FUNCTION tg_domains_due(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_domains_due(timestamptz, integer) TO tenantgate_app;
