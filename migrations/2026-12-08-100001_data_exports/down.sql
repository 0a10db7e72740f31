DROP FUNCTION IF EXISTS tg_data_exports_delete(uuid, uuid);
DROP FUNCTION IF EXISTS tg_data_export_my_audit(timestamptz, uuid, integer);
DROP FUNCTION IF EXISTS tg_data_export_expired(uuid);
DROP FUNCTION IF EXISTS tg_data_exports_expiring(integer);
DROP FUNCTION IF EXISTS tg_data_export_claim(uuid, integer);
DROP INDEX IF EXISTS audit_log_actor_idx;
DROP POLICY IF EXISTS audit_log_person_export ON audit_log;
DROP TABLE IF EXISTS data_export_links;
DROP TABLE IF EXISTS data_exports;
