DROP INDEX IF EXISTS tenants_status_created_idx;
DROP INDEX IF EXISTS tenants_plan_created_idx;
DROP INDEX IF EXISTS tenants_name_idx;
