DROP FUNCTION tg_user_erase_self();
DROP FUNCTION tg_tenant_purge_now(uuid);
DROP FUNCTION tg_tenant_purge_finish(uuid);
DROP FUNCTION tg_tenant_purge_batch(uuid, integer);
DROP FUNCTION tg_tenant_purge_people(uuid);
DROP FUNCTION tg_tenant_purge_members(uuid);
DROP FUNCTION tg_erase_user_rows(uuid);
DROP FUNCTION tg_tenant_purge_check(uuid);
DROP FUNCTION tg_tenant_purge_claim(uuid, interval, uuid);
DROP FUNCTION tg_tenants_due_for_purge(integer);
DROP FUNCTION tg_tenant_cancel_deletion();
DROP FUNCTION tg_tenant_request_deletion(interval);
DROP FUNCTION tg_erasure_caller_is_owner();
CREATE OR REPLACE FUNCTION tg_keep_an_owner() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.role = 'owner'
       AND EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id)
       AND NOT EXISTS (SELECT 1 FROM memberships WHERE tenant_id = OLD.tenant_id AND role = 'owner')
    THEN
        RAISE EXCEPTION 'a tenant must keep at least one owner' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'users', 'memberships', 'audit_log', 'invitations',
                             'sessions', 'tenant_tombstones'] LOOP
        EXECUTE format('DROP POLICY IF EXISTS %I ON %I', t || '_erasure', t);
    END LOOP;
END
$$;
DROP TABLE tenant_tombstones;
UPDATE tenants SET status = 'active', status_reason = NULL WHERE status = 'pending_deletion';
DROP INDEX tenants_purge_due_idx;
ALTER TABLE tenants
    DROP CONSTRAINT tenants_deletion_dates,
    DROP COLUMN purge_leased_by,
    DROP COLUMN purge_leased_until,
    DROP COLUMN purge_after,
    DROP COLUMN deletion_requested_by,
    DROP COLUMN deletion_requested_at;
