DROP FUNCTION tg_usage_partitions(timestamptz, timestamptz, timestamptz, timestamptz);
DROP TABLE usage_distinct;
DROP TABLE usage_rollups;
DROP TABLE usage_dedup;
DROP TABLE usage_events;
CREATE TABLE usage_events (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    metric           text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
    quantity         bigint NOT NULL CHECK (quantity > 0),
    environment      text NOT NULL CHECK (environment IN ('live', 'test')),
    api_key_id       uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    idempotency_key  text CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    occurred_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX usage_events_idempotency ON usage_events (tenant_id, environment, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX usage_events_tenant_metric_idx ON usage_events (tenant_id, metric, occurred_at);
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_events_isolation ON usage_events
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY usage_events_platform_admin ON usage_events FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT, INSERT ON usage_events TO tenantgate_app;
GRANT SELECT ON usage_events TO tenantgate_platform_admin;
