-- Back to the idempotency key itself as usage_dedup's primary key.
ALTER TABLE usage_dedup DROP CONSTRAINT usage_dedup_pkey;
ALTER TABLE usage_dedup ADD PRIMARY KEY (tenant_id, environment, idempotency_key);
ALTER TABLE usage_dedup DROP COLUMN key_digest;
DROP FUNCTION tg_usage_key_digest(text, text);
