-- Two costs per row of a usage write (issue 11: ingest at 100,000
-- events/s), measured with bench/usage.sh.
--
-- 1. Idempotency keys compared byte by byte. The primary key of usage_dedup was (tenant_id, environment,
-- idempotency_key) under the database's collation: every b-tree comparison
-- of a claim (about 23 a key on 10M keys) fetched the key after the
-- variable-length `environment` the slow way (no cached offset) and compared
-- it with strcoll (C.UTF-8, en_US…). Measured with bench/usage.sh, key
-- comparisons were about a fifth of PostgreSQL's CPU per ingested batch.
--
-- A key is an opaque string matched exactly, so its order may as well be
-- the bytes': both columns get the "C" collation (memcmp), and the key comes
-- right after the fixed-width tenant (its offset cached), the environment
-- last (compared only between equal keys). Keys a client sends in order
-- (counters, time-ordered ids) stay together in the index, so a batch's
-- claims touch a few pages; a 16-byte digest as the key (tried) scattered
-- them over the whole index and, once it outgrew shared_buffers, cost more
-- than the comparisons it saved.
--
-- Changing a column's collation does not rewrite the table; the primary key
-- is rebuilt.
ALTER TABLE usage_dedup DROP CONSTRAINT usage_dedup_pkey;
ALTER TABLE usage_dedup ALTER COLUMN idempotency_key TYPE text COLLATE "C";
ALTER TABLE usage_dedup ALTER COLUMN environment TYPE text COLLATE "C";
ALTER TABLE usage_dedup ADD PRIMARY KEY (tenant_id, idempotency_key, environment);

-- 2. The transaction's tenant read once per statement, not once per row.
--    `tg_current_tenant()` is inlined into a policy as
--    NULLIF(current_setting('app.tenant_id', true), '')::uuid and evaluated
--    for every row an INSERT checks or a scan filters: a setting looked up by
--    name and a uuid parsed (16 strtoul calls), ~0.55 µs a row, 1,500 rows a
--    batch of 1,000 events (keys, distinct values). As a scalar subquery it
--    is an InitPlan, evaluated once; an index still uses it (a Param).
--    Same meaning: the setting cannot change within a statement.
ALTER POLICY usage_dedup_isolation ON usage_dedup
    USING (tenant_id = (SELECT tg_current_tenant()))
    WITH CHECK (tenant_id = (SELECT tg_current_tenant()));
ALTER POLICY usage_distinct_isolation ON usage_distinct
    USING (tenant_id = (SELECT tg_current_tenant()))
    WITH CHECK (tenant_id = (SELECT tg_current_tenant()));
ALTER POLICY usage_rollups_isolation ON usage_rollups
    USING (tenant_id = (SELECT tg_current_tenant()))
    WITH CHECK (tenant_id = (SELECT tg_current_tenant()));
ALTER POLICY usage_batches_isolation ON usage_batches
    USING (tenant_id = (SELECT tg_current_tenant()))
    WITH CHECK (tenant_id = (SELECT tg_current_tenant()));
