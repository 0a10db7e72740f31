DROP TABLE usage_events;
DROP TRIGGER plans_keys_notify ON plans;
DROP TRIGGER tenants_keys_notify ON tenants;
DROP TABLE api_keys;
DROP FUNCTION tg_api_keys_notify();
DROP FUNCTION tg_api_key_hashes_sync();
DROP FUNCTION tg_api_key_lookup(bytea);
DROP TABLE api_key_hashes;
