-- Platform admins edit the plan catalogue (createPlan, updatePlan). Plans are
-- platform data, not a tenant's: everyone may read them, and only the
-- platform-admin role may write them, each write re-checking in the database
-- that the transaction's user is a platform admin (as every policy of that
-- role does). The owner (migrations, `billing sync-prices`) is not subject to
-- these policies (row-level security is enabled, not forced).
ALTER TABLE plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY plans_read ON plans FOR SELECT USING (true);
CREATE POLICY plans_platform_admin_insert ON plans FOR INSERT TO tenantgate_platform_admin
    WITH CHECK ((SELECT tg_current_user_is_platform_admin()));
CREATE POLICY plans_platform_admin_update ON plans FOR UPDATE TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()))
    WITH CHECK ((SELECT tg_current_user_is_platform_admin()));
GRANT INSERT, UPDATE ON plans TO tenantgate_platform_admin;

-- Every instance keeps the catalogue in memory; any change to it is announced
-- on commit so every instance drops its copy at once.
CREATE FUNCTION tg_plans_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tenantgate_plans', '*');
    RETURN NULL;
END
$$;
CREATE TRIGGER plans_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION tg_plans_notify();
