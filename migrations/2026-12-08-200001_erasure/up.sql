-- Erasure (issue 13, part B): a tenant's deletion with a grace period, its
-- purge, and a person's own deletion.
--
-- The runtime role gets no DELETE right on any tenant table. Everything it may
-- not do directly goes through the narrow SECURITY DEFINER functions below,
-- each re-checking its preconditions in the database (the tenant is pending
-- deletion and due; the caller is an owner; the person has no membership
-- left), in the style of tg_usage_prune. The functions run as the owner, which
-- row-level security binds too (FORCE): they set the tenant (app.tenant_id)
-- for the tenant policies, and `app.erasure = 'on'` for the owner-only
-- policies added here (a setting the runtime role may set too, but those
-- policies name the owner role only).

-- When the deletion was asked for, by whom (a user id, no foreign key: the
-- person may be erased before the purge), and when the purge is due. The
-- lease keeps one purge of a tenant at a time across instances.
ALTER TABLE tenants
    ADD COLUMN deletion_requested_at timestamptz,
    ADD COLUMN deletion_requested_by uuid,
    ADD COLUMN purge_after timestamptz,
    ADD COLUMN purge_leased_until timestamptz,
    ADD COLUMN purge_leased_by uuid,
    ADD CONSTRAINT tenants_deletion_dates
        CHECK ((status = 'pending_deletion') = (purge_after IS NOT NULL));
CREATE INDEX tenants_purge_due_idx ON tenants (purge_after) WHERE status = 'pending_deletion';

-- What is left of a purged tenant: platform data without personal data (the
-- tenant's id, when the deletion was asked for and by whom as an id, when it
-- was purged, and whether the owner or a platform admin asked). No tenant
-- policy: only the platform admins' role reads it; the purge writes it.
CREATE TABLE tenant_tombstones (
    id            uuid PRIMARY KEY,
    requested_at  timestamptz NOT NULL,
    requested_by  uuid,
    purged_at     timestamptz NOT NULL DEFAULT now(),
    reason        text NOT NULL CHECK (reason IN ('owner', 'platform_admin'))
);
ALTER TABLE tenant_tombstones ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_tombstones FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_tombstones_platform_admin ON tenant_tombstones FOR SELECT
    TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT ON tenant_tombstones TO tenantgate_platform_admin;

-- The owner's own policies for the erasure functions (FORCE binds it when it
-- is not a superuser), each only while a function has set app.erasure.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'users', 'memberships', 'audit_log', 'invitations',
                             'sessions', 'tenant_tombstones'] LOOP
        EXECUTE format('CREATE POLICY %I ON %I TO %I '
                       'USING (current_setting(''app.erasure'', true) = ''on'') '
                       'WITH CHECK (current_setting(''app.erasure'', true) = ''on'')',
                       t || '_erasure', t, current_user);
    END LOOP;
END
$$;

-- A tenant being purged needs no owner: the purge removes its members (the
-- tenant row goes last). Otherwise every tenant keeps one (as before).
CREATE OR REPLACE FUNCTION tg_keep_an_owner() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.role = 'owner'
       -- Only the purge's member step (it names the tenant in
       -- app.purging_tenant until its transaction ends: this trigger is
       -- deferred to the commit) may leave a tenant pending deletion without
       -- an owner; during the grace period one must stay, to cancel or to
       -- take the data away.
       AND EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id
                   AND NOT (status = 'pending_deletion'
                            AND coalesce(current_setting('app.purging_tenant', true), '') = OLD.tenant_id::text))
       AND NOT EXISTS (SELECT 1 FROM memberships WHERE tenant_id = OLD.tenant_id AND role = 'owner')
    THEN
        RAISE EXCEPTION 'a tenant must keep at least one owner' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

-- Whether the transaction's user is an owner of the transaction's tenant
-- (the membership row locked FOR SHARE until the transaction ends).
CREATE FUNCTION tg_erasure_caller_is_owner() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM public.memberships m
                   WHERE m.tenant_id = public.tg_current_tenant()
                     AND m.user_id = public.tg_current_user()
                     AND m.role = 'owner'
                   FOR SHARE);
END
$$;
REVOKE ALL ON FUNCTION tg_erasure_caller_is_owner() FROM PUBLIC;

-- Schedules the transaction's tenant for deletion: an owner of it asks (the
-- fresh sign-in and the typed slug are checked by the server before), the
-- tenant is active; it becomes pending_deletion at once (its keys are
-- refused everywhere by the tenants_keys_notify trigger), due after `grace`
-- (0 to 365 days).
CREATE FUNCTION tg_tenant_request_deletion(grace interval) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    tenant uuid := public.tg_current_tenant();
    current_status text;
BEGIN
    IF tenant IS NULL OR public.tg_current_user() IS NULL THEN
        RAISE EXCEPTION 'erasure: no tenant or user in this transaction';
    END IF;
    IF grace < interval '0' OR grace > interval '365 days' THEN
        RAISE EXCEPTION 'erasure: the grace period must be 0 to 365 days';
    END IF;
    PERFORM set_config('app.erasure', 'on', true);
    SELECT t.status INTO current_status FROM public.tenants t WHERE t.id = tenant FOR UPDATE;
    IF NOT public.tg_erasure_caller_is_owner() THEN
        PERFORM set_config('app.erasure', '', true);
        RAISE EXCEPTION 'erasure: only an owner may delete the tenant';
    END IF;
    IF current_status IS DISTINCT FROM 'active' THEN
        PERFORM set_config('app.erasure', '', true);
        RAISE EXCEPTION 'erasure: the tenant is %', coalesce(current_status, 'gone');
    END IF;
    UPDATE public.tenants t
    SET status = 'pending_deletion', status_reason = 'deletion requested',
        deletion_requested_at = now(), deletion_requested_by = public.tg_current_user(),
        purge_after = now() + grace, purge_leased_until = NULL, purge_leased_by = NULL
    WHERE t.id = tenant;
    PERFORM set_config('app.erasure', '', true);
END
$$;

-- Cancels the transaction's tenant's deletion: an owner asks while the grace
-- period runs (a purge that is due may have begun: too late).
CREATE FUNCTION tg_tenant_cancel_deletion() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    tenant uuid := public.tg_current_tenant();
    cur record;
BEGIN
    IF tenant IS NULL OR public.tg_current_user() IS NULL THEN
        RAISE EXCEPTION 'erasure: no tenant or user in this transaction';
    END IF;
    PERFORM set_config('app.erasure', 'on', true);
    SELECT t.status, t.purge_after INTO cur FROM public.tenants t WHERE t.id = tenant FOR UPDATE;
    IF NOT public.tg_erasure_caller_is_owner() THEN
        PERFORM set_config('app.erasure', '', true);
        RAISE EXCEPTION 'erasure: only an owner may cancel the deletion';
    END IF;
    IF cur.status IS DISTINCT FROM 'pending_deletion' OR cur.purge_after <= now() THEN
        PERFORM set_config('app.erasure', '', true);
        RETURN false;
    END IF;
    UPDATE public.tenants t
    SET status = 'active', status_reason = NULL, deletion_requested_at = NULL,
        deletion_requested_by = NULL, purge_after = NULL, purge_leased_until = NULL,
        purge_leased_by = NULL
    WHERE t.id = tenant;
    PERFORM set_config('app.erasure', '', true);
    RETURN true;
END
$$;

-- The tenants whose purge is due (at most `max`, oldest first). Ids only.
CREATE FUNCTION tg_tenants_due_for_purge(max integer) RETURNS SETOF uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.erasure', 'on', true);
    RETURN QUERY
        SELECT t.id FROM public.tenants t
        WHERE t.status = 'pending_deletion' AND t.purge_after <= now()
          AND (t.purge_leased_until IS NULL OR t.purge_leased_until < now())
        ORDER BY t.purge_after
        LIMIT LEAST(GREATEST(max, 1), 100);
    PERFORM set_config('app.erasure', '', true);
END
$$;

-- Takes (or renews) the purge lease of a due tenant for `lease` (at most an
-- hour) for run `holder`: true when that run holds it now.
CREATE FUNCTION tg_tenant_purge_claim(tenant uuid, lease interval, holder uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    claimed boolean;
BEGIN
    PERFORM set_config('app.erasure', 'on', true);
    UPDATE public.tenants t
    SET purge_leased_until = now() + LEAST(lease, interval '1 hour'), purge_leased_by = holder
    WHERE t.id = tenant AND t.status = 'pending_deletion' AND t.purge_after <= now()
      AND (t.purge_leased_until IS NULL OR t.purge_leased_until < now()
           OR t.purge_leased_by = holder);
    claimed := FOUND;
    PERFORM set_config('app.erasure', '', true);
    RETURN claimed;
END
$$;

-- The re-check every purge step starts with: the tenant exists, is pending
-- deletion and due. Raises otherwise (nothing is done).
CREATE FUNCTION tg_tenant_purge_check(tenant uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.erasure', 'on', true);
    IF NOT EXISTS (SELECT 1 FROM public.tenants t
                   WHERE t.id = tenant AND t.status = 'pending_deletion'
                     AND t.purge_after <= now()
                   FOR SHARE) THEN
        PERFORM set_config('app.erasure', '', true);
        RAISE EXCEPTION 'erasure: tenant % is not due for purging', tenant;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tg_tenant_purge_check(uuid) FROM PUBLIC;

-- Erases one person's rows: their user row (its sessions, refresh tokens,
-- email tokens, memberships and platform-admin row go with it by foreign
-- key; keys and invitations they made keep a NULL maker), the mail queued to
-- them (and their email in the subject of mail to others), their sign-in
-- budget, invitations addressed to them, and in every
-- audit trail their email, address and user agent on the entries they made,
-- and their email wherever an entry's before/after holds it. The entries keep
-- `actor_id` (an opaque id). Not callable by the runtime role.
CREATE FUNCTION tg_erase_user_rows(person uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    address text;
    needle jsonb;
BEGIN
    PERFORM set_config('app.erasure', 'on', true);
    SELECT u.email INTO address FROM public.users u WHERE u.id = person;
    IF address IS NULL THEN
        RETURN;
    END IF;
    needle := jsonb_build_object('e', address);
    UPDATE public.audit_log a
    SET actor_label = NULL, ip = NULL, user_agent = NULL
    WHERE a.actor_type IN ('user', 'platform_admin') AND a.actor_id = person;
    UPDATE public.audit_log a
    SET before = replace(a.before::text, to_jsonb(address)::text, '"[erased]"')::jsonb,
        after = replace(a.after::text, to_jsonb(address)::text, '"[erased]"')::jsonb
    WHERE jsonb_path_exists(a.before, '$.** ? (@ == $e)', needle)
       OR jsonb_path_exists(a.after, '$.** ? (@ == $e)', needle);
    DELETE FROM public.invitations i WHERE lower(i.email) = address;
    DELETE FROM public.email_outbox o WHERE lower(o.recipient) = address;
    -- Mail to others that names them in its subject (an invitation they sent).
    -- Its body stays sealed until delivered, then goes (see the mail module).
    UPDATE public.email_outbox o SET subject = replace(o.subject, address, '[erased]')
    WHERE strpos(lower(o.subject), address) > 0;
    DELETE FROM public.login_failures f
    WHERE f.key = 'account:' || address
       OR right(f.key, length(address) + 1) IN ('|' || address, ':' || address);
    DELETE FROM public.users u WHERE u.id = person;
END
$$;
REVOKE ALL ON FUNCTION tg_erase_user_rows(uuid) FROM PUBLIC;

-- Purge step 1: the tenant's members. Every member who belongs to no other
-- tenant and is not a platform admin is erased (tg_erase_user_rows); then
-- every membership of the tenant goes. One transaction: done or not at all.
-- Returns the number of people erased.
CREATE FUNCTION tg_tenant_purge_members(tenant uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '2s'
    AS $$
DECLARE
    person uuid;
    erased integer := 0;
BEGIN
    PERFORM public.tg_tenant_purge_check(tenant);
    PERFORM set_config('app.tenant_id', tenant::text, true);
    -- Kept to the commit, where tg_keep_an_owner (deferred) reads it.
    PERFORM set_config('app.purging_tenant', tenant::text, true);
    FOR person IN
        SELECT m.user_id FROM public.memberships m
        WHERE m.tenant_id = tenant
          AND NOT EXISTS (SELECT 1 FROM public.memberships o
                          WHERE o.user_id = m.user_id AND o.tenant_id <> tenant)
          AND NOT EXISTS (SELECT 1 FROM public.platform_admins p WHERE p.user_id = m.user_id)
        ORDER BY m.user_id
    LOOP
        PERFORM public.tg_erase_user_rows(person);
        PERFORM set_config('app.erasure', 'on', true);
        erased := erased + 1;
    END LOOP;
    DELETE FROM public.memberships m WHERE m.tenant_id = tenant;
    PERFORM set_config('app.erasure', '', true);
    RETURN erased;
END
$$;

-- Who the purge's member step will erase (members of no other tenant, not
-- platform admins), asked before it runs so their own stored exports can be
-- deleted first (files live outside the database). Same precondition.
CREATE FUNCTION tg_tenant_purge_people(tenant uuid) RETURNS SETOF uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM public.tg_tenant_purge_check(tenant);
    PERFORM set_config('app.tenant_id', tenant::text, true);
    RETURN QUERY
        SELECT m.user_id FROM public.memberships m
        WHERE m.tenant_id = tenant
          AND NOT EXISTS (SELECT 1 FROM public.memberships o
                          WHERE o.user_id = m.user_id AND o.tenant_id <> tenant)
          AND NOT EXISTS (SELECT 1 FROM public.platform_admins p WHERE p.user_id = m.user_id)
        ORDER BY m.user_id;
    PERFORM set_config('app.erasure', '', true);
END
$$;

-- Purge step 2, repeated: deletes at most `batch` (1 to 10,000) rows of the
-- tenant from the first table (by name) that still has some, among every
-- table of the schema with a tenant_id column (read from the catalogue, so
-- tables added later are covered: usage months attached or detached, usage
-- keys and distinct values, which have no foreign key to tenants, the audit
-- trail, billing rows, exports' rows…), memberships aside (step 1). Returns
-- the rows deleted: 0 when none is left.
CREATE FUNCTION tg_tenant_purge_batch(tenant uuid, batch integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '2s'
    AS $$
DECLARE
    tbl text;
    n bigint;
BEGIN
    PERFORM public.tg_tenant_purge_check(tenant);
    batch := LEAST(GREATEST(batch, 1), 10000);
    PERFORM set_config('app.tenant_id', tenant::text, true);
    FOR tbl IN
        SELECT c.relname
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace AND ns.nspname = 'public'
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
                                        AND NOT a.attisdropped
        WHERE c.relkind = 'r' AND c.relname <> 'memberships'
        ORDER BY c.relname
    LOOP
        EXECUTE format('DELETE FROM public.%I WHERE ctid = ANY (ARRAY('
                       'SELECT ctid FROM public.%I WHERE tenant_id = $1 LIMIT $2))', tbl, tbl)
            USING tenant, batch;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            PERFORM set_config('app.erasure', '', true);
            RETURN n;
        END IF;
    END LOOP;
    PERFORM set_config('app.erasure', '', true);
    RETURN 0;
END
$$;

-- Purge step 3: the tenant row itself (anything a concurrent write left
-- goes with it by foreign key), replaced by its tombstone, and sessions that
-- named it as their default forget it. True when the tenant is gone (also
-- when a previous run finished it).
CREATE FUNCTION tg_tenant_purge_finish(tenant uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '2s'
    AS $$
DECLARE
    cur record;
BEGIN
    PERFORM set_config('app.erasure', 'on', true);
    IF EXISTS (SELECT 1 FROM public.tenant_tombstones s WHERE s.id = tenant)
       AND NOT EXISTS (SELECT 1 FROM public.tenants t WHERE t.id = tenant) THEN
        PERFORM set_config('app.erasure', '', true);
        RETURN true;
    END IF;
    PERFORM public.tg_tenant_purge_check(tenant);
    IF EXISTS (SELECT 1 FROM public.memberships m WHERE m.tenant_id = tenant) THEN
        PERFORM set_config('app.erasure', '', true);
        RAISE EXCEPTION 'erasure: tenant % still has members (purge them first)', tenant;
    END IF;
    SELECT t.deletion_requested_at, t.deletion_requested_by INTO cur
    FROM public.tenants t WHERE t.id = tenant;
    INSERT INTO public.tenant_tombstones (id, requested_at, requested_by, reason)
    VALUES (tenant, cur.deletion_requested_at, cur.deletion_requested_by,
            CASE WHEN EXISTS (SELECT 1 FROM public.platform_admins p
                              WHERE p.user_id = cur.deletion_requested_by)
                 THEN 'platform_admin' ELSE 'owner' END)
    ON CONFLICT (id) DO NOTHING;
    UPDATE public.sessions s SET default_tenant_id = NULL WHERE s.default_tenant_id = tenant;
    PERFORM set_config('app.tenant_id', tenant::text, true);
    DELETE FROM public.tenants t WHERE t.id = tenant;
    PERFORM set_config('app.erasure', '', true);
    RETURN true;
END
$$;

-- Schedules any tenant for an immediate purge: a platform admin asks (the
-- database re-checks that the transaction's user is one). A run that holds
-- the tenant's lease keeps it. Returns false when the tenant does not exist.
CREATE FUNCTION tg_tenant_purge_now(tenant uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    found_it boolean;
BEGIN
    IF NOT public.tg_current_user_is_platform_admin() THEN
        RAISE EXCEPTION 'erasure: only a platform admin may purge a tenant at once';
    END IF;
    PERFORM set_config('app.erasure', 'on', true);
    UPDATE public.tenants t
    SET status = 'pending_deletion', status_reason = 'purged by a platform admin',
        deletion_requested_at = coalesce(t.deletion_requested_at, now()),
        deletion_requested_by = public.tg_current_user(),
        purge_after = now()
    WHERE t.id = tenant;
    found_it := FOUND;
    PERFORM set_config('app.erasure', '', true);
    RETURN found_it;
END
$$;

-- A person's own erasure (deleteMyAccount): the transaction's user, who must
-- no longer be a member of any tenant (the server removes them first, tenant
-- by tenant, with the member-removal rules) and not be a platform admin.
CREATE FUNCTION tg_user_erase_self() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '2s'
    AS $$
DECLARE
    person uuid := public.tg_current_user();
BEGIN
    IF person IS NULL THEN
        RAISE EXCEPTION 'erasure: no user in this transaction';
    END IF;
    PERFORM set_config('app.erasure', 'on', true);
    IF EXISTS (SELECT 1 FROM public.memberships m WHERE m.user_id = person) THEN
        PERFORM set_config('app.erasure', '', true);
        RAISE EXCEPTION 'erasure: the user is still a member of a tenant';
    END IF;
    IF EXISTS (SELECT 1 FROM public.platform_admins p WHERE p.user_id = person) THEN
        PERFORM set_config('app.erasure', '', true);
        RAISE EXCEPTION 'erasure: a platform admin is demoted first';
    END IF;
    PERFORM public.tg_erase_user_rows(person);
    PERFORM set_config('app.erasure', '', true);
END
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['tg_tenant_request_deletion(interval)',
                             'tg_tenant_cancel_deletion()',
                             'tg_tenants_due_for_purge(integer)',
                             'tg_tenant_purge_claim(uuid, interval, uuid)',
                             'tg_tenant_purge_members(uuid)',
                             'tg_tenant_purge_people(uuid)',
                             'tg_tenant_purge_batch(uuid, integer)',
                             'tg_tenant_purge_finish(uuid)',
                             'tg_user_erase_self()'] LOOP
        EXECUTE 'REVOKE ALL ON FUNCTION ' || f || ' FROM PUBLIC';
        EXECUTE 'GRANT EXECUTE ON FUNCTION ' || f || ' TO tenantgate_app';
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tg_tenant_purge_now(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_tenant_purge_now(uuid) TO tenantgate_platform_admin;
