-- Back to the database's collation and (tenant, environment, key).
ALTER TABLE usage_dedup DROP CONSTRAINT usage_dedup_pkey;
ALTER TABLE usage_dedup ALTER COLUMN idempotency_key TYPE text COLLATE "default";
ALTER TABLE usage_dedup ALTER COLUMN environment TYPE text COLLATE "default";
ALTER TABLE usage_dedup ADD PRIMARY KEY (tenant_id, environment, idempotency_key);
