DROP FUNCTION tg_webhook_claim(uuid, integer, timestamptz, integer, integer, uuid[]);
DROP TRIGGER webhook_events_fan_out ON webhook_events;
DROP FUNCTION tg_webhook_fan_out();
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
