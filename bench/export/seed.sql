-- The audit trail of bench/export.sh: :entries entries of tenant :tenant over
-- the last 30 days, by its owner, of a handful of actions with small before /
-- after documents, as the server writes them. One INSERT … SELECT as the owner
-- (a superuser: row-level security does not apply); the live feed's NOTIFY
-- trigger is skipped (session_replication_role = replica), as a bulk load
-- would be: nobody is subscribed.
\set ON_ERROR_STOP on
SET TimeZone = 'UTC';
SET session_replication_role = replica;
BEGIN;
INSERT INTO audit_log (id, tenant_id, actor_type, actor_id, actor_label, action, target_type,
                       target_id, ip, user_agent, request_id, before, after, created_at)
    SELECT gen_random_uuid(), :'tenant', 'user', m.user_id, 'owner@export.bench',
           (ARRAY['member.invite', 'api_key.create', 'tenant.update', 'member.role_change'])[1 + g % 4],
           'bench', 'target-' || g, '10.0.' || (g % 250) || '.' || (g % 200), 'bench/1.0',
           'req-' || g, jsonb_build_object('n', g - 1), jsonb_build_object('n', g, 'note', 'seeded'),
           now() - interval '30 days' + (g::float8 / :entries) * interval '30 days'
    FROM generate_series(1, :entries) AS g
    CROSS JOIN (SELECT user_id FROM memberships WHERE tenant_id = :'tenant' LIMIT 1) AS m;
COMMIT;
RESET session_replication_role;
VACUUM (ANALYZE) audit_log;
