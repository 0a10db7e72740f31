DROP TRIGGER plans_notify ON plans;
DROP FUNCTION tg_plans_notify();
REVOKE INSERT, UPDATE ON plans FROM tenantgate_platform_admin;
DROP POLICY plans_platform_admin_update ON plans;
DROP POLICY plans_platform_admin_insert ON plans;
DROP POLICY plans_read ON plans;
ALTER TABLE plans DISABLE ROW LEVEL SECURITY;
