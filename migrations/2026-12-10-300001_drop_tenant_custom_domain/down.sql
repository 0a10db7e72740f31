ALTER TABLE tenants ADD COLUMN custom_domain text UNIQUE;
GRANT UPDATE (custom_domain) ON tenants TO tenantgate_app;
