-- Back to 2026-12-06-400001's shapes. Rows of tenants deleted meanwhile
-- (no cascade reached them) are deleted first, as the foreign keys would
-- have done, so that the keys can be restored.
GRANT EXECUTE ON FUNCTION tg_usage_prune(timestamptz, timestamptz, integer) TO tenantgate_app;
DROP FUNCTION tg_usage_prune_distinct(timestamptz, integer);
DROP FUNCTION tg_usage_prune_keys(timestamptz, integer);

DROP INDEX usage_distinct_bucket_idx;
DROP INDEX usage_dedup_recorded_brin;
CREATE INDEX usage_dedup_recorded_idx ON usage_dedup (recorded_at);

ALTER TABLE usage_events ADD CONSTRAINT usage_events_metric_check
    CHECK (metric ~ '^[a-z][a-z0-9_.:-]{0,63}$');

SELECT set_config('app.usage_prune', 'on', true);
DELETE FROM usage_events e WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = e.tenant_id);
DELETE FROM usage_dedup d WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id);
DELETE FROM usage_distinct d WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id);
SELECT set_config('app.usage_prune', '', true);
ALTER TABLE usage_events ADD CONSTRAINT usage_events_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE usage_dedup ADD CONSTRAINT usage_dedup_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE usage_distinct ADD CONSTRAINT usage_distinct_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
