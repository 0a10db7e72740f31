-- The metric catalogue: what usage can be recorded, in which unit, and how
-- its events add up (sum of quantities, count of events, largest quantity,
-- or the number of distinct values of one property). Platform data like
-- plans: everyone reads it, only platform admins write it (each write
-- re-checks in the database that the transaction's user is one). A metric's
-- aggregation is fixed once created: its rollups were added up by it.
CREATE TABLE metrics (
    key              text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    unit             text NOT NULL CHECK (char_length(unit) BETWEEN 1 AND 32),
    aggregation      text NOT NULL CHECK (aggregation IN ('sum', 'count', 'max', 'unique_count')),
    unique_property  text CHECK (unique_property ~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((aggregation = 'unique_count') = (unique_property IS NOT NULL))
);
CREATE TRIGGER metrics_touch BEFORE UPDATE ON metrics
    FOR EACH ROW EXECUTE FUNCTION tg_touch_updated_at();
INSERT INTO metrics (key, name, unit, aggregation)
    VALUES ('api_calls', 'API calls', 'calls', 'sum');

ALTER TABLE metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE metrics FORCE ROW LEVEL SECURITY;
CREATE POLICY metrics_read ON metrics FOR SELECT USING (true);
CREATE POLICY metrics_platform_admin_insert ON metrics FOR INSERT TO tenantgate_platform_admin
    WITH CHECK ((SELECT tg_current_user_is_platform_admin()));
CREATE POLICY metrics_platform_admin_update ON metrics FOR UPDATE TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()))
    WITH CHECK ((SELECT tg_current_user_is_platform_admin()));
GRANT SELECT ON metrics TO tenantgate_app, tenantgate_platform_admin;
GRANT UPDATE (name, unit) ON metrics TO tenantgate_platform_admin;
GRANT INSERT ON metrics TO tenantgate_platform_admin;

-- Every instance keeps the catalogue in memory; any change is announced on
-- commit so every instance drops its copy at once.
CREATE FUNCTION tg_metrics_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tenantgate_metrics', '*');
    RETURN NULL;
END
$$;
CREATE TRIGGER metrics_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON metrics
    FOR EACH STATEMENT EXECUTE FUNCTION tg_metrics_notify();
