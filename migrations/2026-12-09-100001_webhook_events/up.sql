-- Outgoing webhooks, part one: the outbox of events. Every change a tenant's
-- webhook endpoints may hear of writes one row here in the same transaction
-- as the change (and its audit entry), so a rolled-back change sends nothing
-- and a committed one is never lost. Deliveries to endpoints are made from
-- these rows (migration 2026-12-09-100002).
CREATE TABLE webhook_events (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_type  text NOT NULL CHECK (event_type ~ '^[a-z_]+\.[a-z_]+$' AND length(event_type) <= 64),
    payload     jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhook_events_tenant_idx ON webhook_events (tenant_id, created_at DESC, id DESC);
ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
-- Tenant policies name no role: they bind the runtime role, the billing role
-- and the platform admins' role alike (one tenant per transaction).
CREATE POLICY webhook_events_isolation ON webhook_events FOR SELECT
    USING (tenant_id = tg_current_tenant());
CREATE POLICY webhook_events_append ON webhook_events FOR INSERT
    WITH CHECK (tenant_id = tg_current_tenant());
GRANT SELECT, INSERT ON webhook_events TO tenantgate_app, tenantgate_billing, tenantgate_platform_admin;
-- Platform admins act across tenants (suspend, reactivate) with no tenant in
-- scope: their role may append any tenant's events, re-checked in the database.
CREATE POLICY webhook_events_platform_admin ON webhook_events FOR INSERT TO tenantgate_platform_admin
    WITH CHECK ((SELECT tg_current_user_is_platform_admin()));
