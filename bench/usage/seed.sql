-- The data of bench/usage.sh: :events usage events already stored, spread
-- evenly over the 30 days before now over every live API key of the
-- database (each key's tenant) and the metrics api_calls (sum), emails
-- (count) and storage_gb (max), with their idempotency keys and their
-- hourly and daily rollups (per key and per tenant), as ingest would have
-- left them. Written directly in SQL as the owner (a superuser: row-level
-- security does not apply), in one transaction.
\set ON_ERROR_STOP on
SET TimeZone = 'UTC';
SET maintenance_work_mem = '256MB';
SET work_mem = '256MB';
BEGIN;
CREATE TEMP TABLE bench_keys ON COMMIT DROP AS
    SELECT (row_number() OVER (ORDER BY id) - 1)::int AS n, id AS key_id, tenant_id
    FROM api_keys WHERE environment = 'live' AND revoked_at IS NULL;
CREATE TEMP TABLE bench_metrics (n int, metric text, aggregation text) ON COMMIT DROP;
INSERT INTO bench_metrics VALUES (0, 'api_calls', 'sum'), (1, 'api_calls', 'sum'),
    (2, 'emails', 'count'), (3, 'storage_gb', 'max');
SELECT count(*) AS nkeys FROM bench_keys \gset
-- The events first in a temporary table, then stored as ingest stores them:
-- a row of usage_batches per 1,000 events of a key's tenant and month.
CREATE TEMP TABLE bench_events ON COMMIT DROP AS
    SELECT g, k.tenant_id, 'live'::text AS environment, m.metric, (1 + g % 7)::bigint AS quantity,
           k.key_id AS api_key_id, 'seed-' || g AS idempotency_key,
           now() - interval '30 days' + (g::float8 / :events) * interval '30 days' - interval '1 minute'
               AS occurred_at
    FROM generate_series(1, :events) AS g
    JOIN bench_keys k ON k.n = g % :nkeys
    JOIN bench_metrics m ON m.n = (g / :nkeys) % 4;
INSERT INTO usage_batches (id, tenant_id, environment, month, events, metrics, quantities,
                           api_key_ids, idempotency_keys, properties, occurred_at)
    SELECT gen_random_uuid(), tenant_id, environment, month, count(*)::int,
           array_agg(metric ORDER BY g), array_agg(quantity ORDER BY g),
           array_agg(api_key_id ORDER BY g), array_agg(idempotency_key ORDER BY g),
           array_agg(NULL::jsonb), array_agg(occurred_at ORDER BY g)
    FROM (SELECT e.*, date_trunc('month', occurred_at) AS month,
                 (row_number() OVER (PARTITION BY tenant_id, date_trunc('month', occurred_at)
                                     ORDER BY g) - 1) / 1000 AS chunk
          FROM bench_events e) e
    GROUP BY tenant_id, environment, month, chunk;
INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at)
    SELECT tenant_id, environment, idempotency_key, occurred_at FROM bench_events;
CREATE TEMP TABLE bench_hours ON COMMIT DROP AS
    SELECT e.tenant_id, e.api_key_id, e.metric, date_trunc('hour', e.occurred_at) AS bucket,
           CASE m.aggregation WHEN 'sum' THEN sum(e.quantity) WHEN 'count' THEN count(*)
                              ELSE max(e.quantity) END AS value,
           count(*) AS events, m.aggregation
    FROM bench_events e JOIN (SELECT DISTINCT metric, aggregation FROM bench_metrics) m USING (metric)
    GROUP BY 1, 2, 3, 4, m.aggregation;
INSERT INTO usage_rollups (tenant_id, environment, metric, granularity, api_key_id, bucket,
                           value, events)
    SELECT tenant_id, 'live', metric, g.granularity, k.key_id,
           date_trunc(g.granularity, bucket) AS b,
           CASE WHEN aggregation = 'max' THEN max(value) ELSE sum(value) END, sum(events)
    FROM bench_hours
    CROSS JOIN (VALUES ('hour'), ('day')) AS g (granularity)
    CROSS JOIN LATERAL (VALUES ('00000000-0000-0000-0000-000000000000'::uuid), (api_key_id))
        AS k (key_id)
    GROUP BY tenant_id, metric, g.granularity, k.key_id, b, aggregation;
COMMIT;
VACUUM (ANALYZE) usage_batches, usage_dedup, usage_rollups;
CHECKPOINT;
