-- The ceiling of bench/dashboard.sh (pgbench, -M prepared, as tenantgate_app):
-- the dashboard query's whole answer, in the shape the GraphQL endpoint sends,
-- as one hand-written statement for a random tenant, under the same row-level
-- security. The tenant is set (transaction-local) in the same statement: the
-- outer row computes set_config, and the lists are correlated subqueries of
-- that row, so they run after it (OFFSET 0 keeps the planner from flattening
-- the outer subquery). The bench checks that the answer holds 50 members and 50
-- keys, and none without the setting.
\set t random(1, :tenants)
SELECT json_build_object('data', json_build_object('tenant', json_build_object(
  'members', json_build_object('edges', (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
             'role', upper(m.role), 'user', json_build_object('email', u.email)))
           ORDER BY m.created_at, m.user_id), '[]')
    FROM (SELECT * FROM memberships
          WHERE tenant_id = s.tenant_id
          ORDER BY created_at, user_id LIMIT 50) m
    JOIN users u ON u.id = m.user_id)),
  'apiKeys', json_build_object('edges', (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
             'id', k.id, 'name', k.name, 'displayPrefix', k.display_prefix,
             'state', CASE WHEN k.revoked_at IS NOT NULL THEN 'REVOKED'
                           WHEN k.expires_at <= now() THEN 'EXPIRED'
                           WHEN k.previous_valid_until > now() THEN 'ROTATING'
                           ELSE 'ACTIVE' END,
             'scopes', (SELECT array_agg(upper(replace(sc, ':', '_'))) FROM unnest(k.scopes) sc),
             'environment', upper(k.environment),
             'lastUsedAt', k.last_used_at))
           ORDER BY k.created_at, k.id), '[]')
    FROM (SELECT * FROM api_keys
          WHERE tenant_id = s.tenant_id
          ORDER BY created_at, id LIMIT 50) k))
)))
FROM (SELECT set_config('app.tenant_id',
                        '00000000-0000-4000-8000-' || lpad(to_hex(:t::int), 12, '0'), true)::uuid
             AS tenant_id
      OFFSET 0) s;
