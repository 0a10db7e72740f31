-- Idempotency keys compared byte by byte (issue 11: ingest at 100,000
-- events/s). The primary key of usage_dedup was (tenant_id, environment,
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
