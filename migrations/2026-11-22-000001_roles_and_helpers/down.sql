DROP FUNCTION IF EXISTS tg_touch_updated_at();
DROP FUNCTION IF EXISTS tg_current_user();
DROP FUNCTION IF EXISTS tg_current_tenant();
REVOKE ALL ON __diesel_schema_migrations FROM tenantgate_app;
REVOKE USAGE ON SCHEMA public FROM tenantgate_app, tenantgate_platform_admin;
-- The role is cluster-wide and may serve other databases; it is left in place.
