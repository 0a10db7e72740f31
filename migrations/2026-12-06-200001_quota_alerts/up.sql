-- Quota thresholds (80, 90 and 100 % of a plan's monthly quota) that have
-- fired: one row per tenant, metric, month (its first day, UTC) and
-- threshold. Instances insert with ON CONFLICT DO NOTHING and only the one
-- whose row went in writes the audit entry and emails the owners, so each
-- fires once a month whatever the number of instances.
CREATE TABLE quota_alerts (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    metric      text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
    period      date NOT NULL,
    threshold   smallint NOT NULL CHECK (threshold IN (80, 90, 100)),
    used        bigint NOT NULL,
    quota       bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, metric, period, threshold)
);
GRANT SELECT, INSERT ON quota_alerts TO tenantgate_app;
GRANT SELECT ON quota_alerts TO tenantgate_platform_admin;
ALTER TABLE quota_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE quota_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY quota_alerts_isolation ON quota_alerts
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY quota_alerts_platform_admin ON quota_alerts FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
