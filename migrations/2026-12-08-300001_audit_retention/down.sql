DROP INDEX audit_log_tenant_actor_idx;
DROP INDEX audit_log_tenant_action_idx;
DROP FUNCTION tg_audit_retention(integer);
DROP POLICY tenants_audit_retention ON tenants;
DROP POLICY audit_log_retention ON audit_log;
DROP POLICY audit_log_retention_read ON audit_log;
DROP TABLE audit_settings;
