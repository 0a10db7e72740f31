-- Back to per-row policies, the database's collation and (tenant,
-- environment, key).
ALTER POLICY usage_dedup_isolation ON usage_dedup
    USING (tenant_id = tg_current_tenant()) WITH CHECK (tenant_id = tg_current_tenant());
ALTER POLICY usage_distinct_isolation ON usage_distinct
    USING (tenant_id = tg_current_tenant()) WITH CHECK (tenant_id = tg_current_tenant());
ALTER POLICY usage_rollups_isolation ON usage_rollups
    USING (tenant_id = tg_current_tenant()) WITH CHECK (tenant_id = tg_current_tenant());
ALTER POLICY usage_batches_isolation ON usage_batches
    USING (tenant_id = tg_current_tenant()) WITH CHECK (tenant_id = tg_current_tenant());
ALTER TABLE usage_dedup DROP CONSTRAINT usage_dedup_pkey;
ALTER TABLE usage_dedup ALTER COLUMN idempotency_key TYPE text COLLATE "default";
ALTER TABLE usage_dedup ALTER COLUMN environment TYPE text COLLATE "default";
ALTER TABLE usage_dedup ADD PRIMARY KEY (tenant_id, environment, idempotency_key);
