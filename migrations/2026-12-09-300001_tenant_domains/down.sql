DROP FUNCTION tg_domain_verified_elsewhere(text);
DROP FUNCTION tg_domains_due(timestamptz, integer);
DROP FUNCTION tg_host_tenant(text, text);
DROP POLICY tenants_host_lookup ON tenants;
DROP TABLE tenant_domains;
