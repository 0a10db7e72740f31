DROP TRIGGER api_keys_notify ON api_keys;
CREATE TRIGGER api_keys_notify
    AFTER DELETE OR UPDATE OF name, secret_hash, previous_hash, previous_valid_until, scopes,
                              rate_limit, rate_limit_period, expires_at, revoked_at ON api_keys
    FOR EACH ROW EXECUTE FUNCTION tg_api_keys_notify();
