DROP FUNCTION tg_audit_retention(integer, integer);
DROP POLICY tenants_audit_retention ON tenants;
DROP POLICY audit_log_retention ON audit_log;
DROP POLICY audit_log_retention_read ON audit_log;
