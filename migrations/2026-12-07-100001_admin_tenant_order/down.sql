REVOKE SELECT (user_id, last_used_at) ON sessions FROM tenantgate_platform_admin;
DROP POLICY IF EXISTS sessions_platform_admin ON sessions;
DROP INDEX IF EXISTS tenants_status_created_idx;
DROP INDEX IF EXISTS tenants_plan_created_idx;
DROP INDEX IF EXISTS tenants_name_idx;
