-- Idempotency keys found by a 16-byte digest (issue 11: ingest at 100,000
-- events/s). The primary key of usage_dedup was (tenant_id, environment,
-- idempotency_key): two variable-length text columns, so every b-tree
-- comparison of a claim (about 23 a key on 10M keys) fetched the key's
-- attribute the slow way (no cached offset after a varlena column) and
-- compared it with the database's collation (strcoll under C.UTF-8).
-- Measured with bench/usage.sh, key comparisons were about a fifth of
-- PostgreSQL's CPU per ingested batch.
--
-- Now the key is (tenant_id, key_digest): two fixed-width uuids compared
-- with memcmp. `key_digest` is the first 16 bytes of
-- SHA-256(environment || ':' || idempotency_key), computed by the server
-- (`db::usage::key_digest`) and by `tg_usage_key_digest` below for the
-- keys stored before (a test checks that the two agree). Two
-- different keys of one tenant would have to collide in 128 bits of SHA-256
-- to be taken for each other. The environment and the key stay in the row
-- (what was claimed, readable), no longer indexed.
CREATE FUNCTION tg_usage_key_digest(environment text, idempotency_key text) RETURNS uuid
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN encode(substring(sha256(convert_to(environment || ':' || idempotency_key, 'UTF8'))
                            FROM 1 FOR 16), 'hex')::uuid;
SELECT set_config('app.usage_prune', 'on', true);
ALTER TABLE usage_dedup ADD COLUMN key_digest uuid;
UPDATE usage_dedup SET key_digest = tg_usage_key_digest(environment, idempotency_key);
ALTER TABLE usage_dedup ALTER COLUMN key_digest SET NOT NULL;
ALTER TABLE usage_dedup DROP CONSTRAINT usage_dedup_pkey;
ALTER TABLE usage_dedup ADD PRIMARY KEY (tenant_id, key_digest);
SELECT set_config('app.usage_prune', '', true);
