-- tenants.custom_domain was never read or written: a tenant's custom domain
-- lives in tenant_domains (2026-12-09-300001), with its token and state.
-- The column (and the runtime role's UPDATE grant on it) goes.
ALTER TABLE tenants DROP COLUMN custom_domain;
