-- A new key is announced too (`k:<id>`): every instance then forgets the
-- hashes it remembers as "no such key", so a key created after someone asked
-- for its hash works at once everywhere.
DROP TRIGGER api_keys_notify ON api_keys;
CREATE TRIGGER api_keys_notify
    AFTER INSERT OR DELETE OR UPDATE OF name, secret_hash, previous_hash, previous_valid_until, scopes,
                              rate_limit, rate_limit_period, expires_at, revoked_at ON api_keys
    FOR EACH ROW EXECUTE FUNCTION tg_api_keys_notify();
