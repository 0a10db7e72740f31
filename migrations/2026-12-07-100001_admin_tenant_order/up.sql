-- The admin dashboard's tenant list (issue 12): keyset pages by name, and the
-- plan and status filters in the default order (newest first), read from an
-- index instead of a sort of every tenant. Ordering by member count or by the
-- plan's catalogue place computes its key per tenant (the count is an
-- index-only scan of the memberships' primary key).
CREATE INDEX tenants_name_idx ON tenants (name, id);
CREATE INDEX tenants_plan_created_idx ON tenants (plan_key, created_at, id);
CREATE INDEX tenants_status_created_idx ON tenants (status, created_at, id);

-- Platform stats count the people active in the last 30 days (a session of
-- theirs used): the platform admins' role reads whose session was used when,
-- and nothing else of it (no address, no user agent).
CREATE POLICY sessions_platform_admin ON sessions FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT (user_id, last_used_at) ON sessions TO tenantgate_platform_admin;
