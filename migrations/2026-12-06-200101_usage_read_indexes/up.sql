-- Platform admins' usage reads (admin { usage topConsumers stats }) take
-- the tenant-wide live rows of every tenant by bucket; the primary keys lead
-- with tenant_id and cannot serve them. Partial indexes: only those rows,
-- and only columns that never change (value and events are updated on
-- every batch; leaving them out keeps those updates HOT).
CREATE INDEX usage_rollups_platform_idx ON usage_rollups (granularity, bucket, metric)
    WHERE environment = 'live' AND api_key_id = '00000000-0000-0000-0000-000000000000';
CREATE INDEX usage_distinct_platform_idx ON usage_distinct (granularity, bucket, metric)
    WHERE environment = 'live' AND api_key_id = '00000000-0000-0000-0000-000000000000';
