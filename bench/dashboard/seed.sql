-- The data of bench/dashboard.sh, written as the owner (a superuser of the
-- bench's private cluster) after `tenantgate migrate`, with psql variables:
--   tenants, members, keys, audit   rows per tenant (members and keys per tenant)
--   hash                            one argon2id password hash, given to every user
--
-- Ids are deterministic, so the wrk and pgbench scripts can name a tenant by its
-- number n (1..tenants): tenant 00000000-0000-4000-8000-<n in hex, 12 digits>;
-- user m (0..members-1) of tenant n is o<n>-m<m>@bench.test (m = 0: the owner),
-- id 00000001-0000-4000-8000-<(n-1)*members+m>.
--
-- Server-side INSERT ... SELECT from generate_series (no client round trip per
-- row, as fast as COPY here). `session_replication_role = replica` switches
-- off every trigger (foreign-key checks, updated_at touches, the NOTIFY of the
-- audit feed and of the key cache, the api_key_hashes sync): the rows are
-- consistent by construction, and api_key_hashes is written here directly.
\set ON_ERROR_STOP 1
BEGIN;
SET LOCAL session_replication_role = replica;

CREATE TEMP TABLE bench_n ON COMMIT DROP AS
SELECT n,
       ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid AS tenant_id
FROM generate_series(1, :tenants) AS n;

INSERT INTO tenants (id, name, slug, status, plan_key, created_at, updated_at)
SELECT tenant_id, 'Bench tenant ' || n, 'bench-' || n, 'active',
       (ARRAY['free', 'basic', 'pro', 'enterprise'])[1 + n % 4],
       now() - make_interval(secs => (:tenants - n) * 60), now()
FROM bench_n;

INSERT INTO users (id, email, password_hash, email_verified_at, created_at, updated_at)
SELECT ('00000001-0000-4000-8000-' || lpad(to_hex((n - 1) * :members + m), 12, '0'))::uuid,
       'o' || n || '-m' || m || '@bench.test', :'hash', now(), now(), now()
FROM bench_n, generate_series(0, :members - 1) AS m;

INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at)
SELECT tenant_id,
       ('00000001-0000-4000-8000-' || lpad(to_hex((n - 1) * :members + m), 12, '0'))::uuid,
       CASE WHEN m = 0 THEN 'owner'
            ELSE (ARRAY['admin', 'member', 'member', 'billing', 'viewer'])[1 + m % 5] END,
       now() - interval '30 days' + make_interval(secs => m * 60), now()
FROM bench_n, generate_series(0, :members - 1) AS m;

INSERT INTO api_keys (id, tenant_id, created_by, name, environment, display_prefix, secret_hash,
                      scopes, rate_limit, rate_limit_period, expires_at, revoked_at, last_used_at,
                      created_at, updated_at)
SELECT ('00000002-0000-4000-8000-' || lpad(to_hex((n - 1) * :keys + k), 12, '0'))::uuid,
       tenant_id,
       ('00000001-0000-4000-8000-' || lpad(to_hex((n - 1) * :members), 12, '0'))::uuid,
       'key ' || k,
       CASE WHEN k % 3 = 0 THEN 'test' ELSE 'live' END,
       CASE WHEN k % 3 = 0 THEN 'tg_test_' ELSE 'tg_live_' END || substr(md5(n || '-' || k), 1, 6),
       sha256(convert_to('bench-secret-' || n || '-' || k, 'UTF8')),
       CASE k % 4 WHEN 0 THEN ARRAY['tenant:read', 'usage:write']
                  WHEN 1 THEN ARRAY['usage:write']
                  WHEN 2 THEN ARRAY['keys:read', 'tenant:read']
                  ELSE ARRAY['tenant:read'] END,
       CASE WHEN k % 5 = 0 THEN 1000 END, CASE WHEN k % 5 = 0 THEN 3600 END,
       CASE WHEN k % 10 = 7 THEN now() - interval '1 day' END,
       CASE WHEN k % 10 = 9 THEN now() - interval '2 days' END,
       CASE WHEN k % 2 = 0 THEN now() - make_interval(secs => k * 17) END,
       now() - interval '20 days' + make_interval(secs => k * 60), now()
FROM bench_n, generate_series(0, :keys - 1) AS k;

INSERT INTO api_key_hashes (hash, tenant_id)
SELECT secret_hash, tenant_id FROM api_keys;

INSERT INTO audit_log (id, tenant_id, actor_type, actor_id, actor_label, action, target_type,
                       target_id, ip, user_agent, request_id, before, after, created_at)
SELECT gen_random_uuid(), tenant_id, 'user',
       ('00000001-0000-4000-8000-' || lpad(to_hex((n - 1) * :members), 12, '0'))::uuid,
       'o' || n || '-m0@bench.test',
       (ARRAY['api_key.created', 'member.invited', 'member.role_changed', 'tenant.updated'])[1 + a % 4],
       'api_key', a::text, '10.0.0.1', 'bench', 'bench-' || n || '-' || a,
       NULL, jsonb_build_object('n', a),
       now() - make_interval(secs => a * 600)
FROM bench_n, generate_series(1, :audit) AS a;

COMMIT;
ANALYZE;
