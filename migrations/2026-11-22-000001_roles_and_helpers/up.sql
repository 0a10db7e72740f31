-- The runtime role. The server runs every statement of its request path as this
-- role (`SET ROLE` when a pooled connection is made): it owns nothing, is not a
-- superuser and has no BYPASSRLS, so row-level security always applies to it.
-- Roles are cluster-wide, so this is idempotent across databases.
-- A second role, tenantgate_platform_admin, is the platform admins' explicit
-- path across tenants: the runtime role switches to it (SET LOCAL ROLE) only for
-- such transactions, and its policies also require the transaction's user to be
-- listed in platform_admins.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantgate_app') THEN
        CREATE ROLE tenantgate_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    -- NOINHERIT: membership in the admin role lets it SET ROLE to that role for
    -- an admin transaction, but grants it none of that role's privileges or
    -- policies otherwise.
    ALTER ROLE tenantgate_app NOINHERIT;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantgate_platform_admin') THEN
        CREATE ROLE tenantgate_platform_admin NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    -- From PostgreSQL 16 inheritance is a property of each grant: say it there too.
    IF current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE 'GRANT tenantgate_platform_admin TO tenantgate_app WITH INHERIT FALSE, SET TRUE';
    ELSE
        GRANT tenantgate_platform_admin TO tenantgate_app;
    END IF;
    -- The migration (owner) role must be able to switch to the runtime role.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT tenantgate_app TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO tenantgate_app, tenantgate_platform_admin;
GRANT SELECT ON __diesel_schema_migrations TO tenantgate_app;

-- The tenant and user of the current transaction, set only with
-- set_config(..., true) by the tenant-scoped handle. After a transaction the
-- setting reads '' (not NULL), so NULLIF makes "no tenant" match zero rows.
CREATE FUNCTION tg_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION tg_current_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

CREATE FUNCTION tg_touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
