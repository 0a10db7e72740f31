-- Back to 2026-12-06-100002's shapes without losing usage: the upkeep
-- steps go (the old function is callable again); distinct values written
-- since hold their digest as text ('sha256:' and hex), so every row stays;
-- the keys' fingerprints and recording times have no place in the old
-- shape and are dropped (the keys themselves stay).
GRANT EXECUTE ON FUNCTION tg_usage_partitions(timestamptz, timestamptz, timestamptz, timestamptz)
    TO tenantgate_app;
DROP FUNCTION tg_usage_prune(timestamptz, timestamptz, integer);
DROP FUNCTION tg_usage_partition_drop(timestamptz);
DROP FUNCTION tg_usage_partition_detach(timestamptz);
DROP FUNCTION tg_usage_partition_add(timestamptz);

SELECT set_config('app.usage_prune', 'on', true);
UPDATE usage_distinct SET value = 'sha256:' || encode(digest, 'hex') WHERE value IS NULL;
SELECT set_config('app.usage_prune', '', true);
ALTER TABLE usage_distinct DROP CONSTRAINT usage_distinct_pkey;
ALTER TABLE usage_distinct ALTER COLUMN value SET NOT NULL;
ALTER TABLE usage_distinct ADD PRIMARY KEY
    (tenant_id, environment, metric, granularity, api_key_id, bucket, value);
ALTER TABLE usage_distinct DROP COLUMN digest;

CREATE INDEX usage_dedup_occurred_idx ON usage_dedup (occurred_at);
DROP INDEX usage_dedup_recorded_idx;
ALTER TABLE usage_dedup DROP COLUMN fingerprint;
ALTER TABLE usage_dedup DROP COLUMN recorded_at;
