DROP TRIGGER IF EXISTS tenants_publishable_notify ON tenants;
DROP TABLE IF EXISTS allowed_origins;
DROP TABLE IF EXISTS publishable_keys;
DROP TABLE IF EXISTS publishable_key_index;
DROP FUNCTION IF EXISTS tg_publishable_notify();
DROP FUNCTION IF EXISTS tg_publishable_key_lookup(text);
DROP FUNCTION IF EXISTS tg_publishable_key_index_sync();
