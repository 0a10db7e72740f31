DROP FUNCTION tg_webhook_drops_to_report(integer);
DROP FUNCTION tg_webhook_prune(integer);
DROP FUNCTION tg_webhook_claim(uuid, integer, interval, integer, integer, uuid[], uuid[], integer[]);
DROP TABLE webhook_claim_cursor;
CREATE FUNCTION tg_webhook_claim(lease uuid, n integer, at timestamptz, lease_secs integer,
                                 per_endpoint integer, busy uuid[])
    RETURNS TABLE (id uuid, tenant_id uuid, endpoint_id uuid)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.webhook_worker', 'on', true);
    RETURN QUERY
    UPDATE webhook_deliveries d
       SET leased_by = lease,
           next_attempt_at = at + make_interval(secs => least(greatest(lease_secs, 5), 600))
     WHERE d.id = ANY (ARRAY(
             SELECT y.id FROM webhook_deliveries y
              WHERE y.id = ANY (ARRAY(
                      SELECT z.id FROM (
                          SELECT x.id, x.next_attempt_at,
                                 row_number() OVER (PARTITION BY x.endpoint_id
                                                    ORDER BY x.next_attempt_at, x.id) AS rn
                            FROM (SELECT w.id, w.endpoint_id, w.next_attempt_at
                                    FROM webhook_deliveries w
                                   WHERE w.status = 'pending' AND w.next_attempt_at <= at
                                     AND w.endpoint_id <> ALL (coalesce(busy, '{}'))
                                   ORDER BY w.next_attempt_at
                                   LIMIT 2000) x) z
                       WHERE z.rn <= greatest(per_endpoint, 1)
                       ORDER BY z.next_attempt_at
                       LIMIT least(greatest(n, 1), 500)))
                AND y.status = 'pending' AND y.next_attempt_at <= at
              FOR UPDATE SKIP LOCKED))
    RETURNING d.id, d.tenant_id, d.endpoint_id;
    PERFORM set_config('app.webhook_worker', '', true);
END
$$;
REVOKE ALL ON FUNCTION tg_webhook_claim(uuid, integer, timestamptz, integer, integer, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_webhook_claim(uuid, integer, timestamptz, integer, integer, uuid[]) TO tenantgate_app;

CREATE OR REPLACE FUNCTION tg_webhook_fan_out() RETURNS trigger
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    IF NEW.event_type = 'webhook.test' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('app.webhook_fan_out', NEW.tenant_id::text, true);
    INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, next_attempt_at)
    SELECT gen_random_uuid(), NEW.tenant_id, e.id, NEW.id, clock_timestamp()
      FROM webhook_endpoints e
     WHERE e.tenant_id = NEW.tenant_id AND e.enabled
       AND (cardinality(e.event_types) = 0 OR NEW.event_type = ANY (e.event_types));
    PERFORM set_config('app.webhook_fan_out', '', true);
    RETURN NULL;
END
$$;

DROP TABLE webhook_endpoint_drops;
DROP POLICY webhook_endpoints_drops_fold ON webhook_endpoints;
ALTER TABLE webhook_endpoints DROP COLUMN pending_counted_at, DROP COLUMN at_cap;
DROP POLICY webhook_endpoints_drops ON webhook_endpoints;
DROP POLICY webhook_attempts_retention ON webhook_attempts;
DROP POLICY webhook_events_retention ON webhook_events;
DROP POLICY webhook_deliveries_retention ON webhook_deliveries;
DROP POLICY webhook_events_worker ON webhook_events;
DROP POLICY webhook_endpoints_worker ON webhook_endpoints;
DROP POLICY webhook_endpoints_fan_out_drop ON webhook_endpoints;
DROP POLICY webhook_deliveries_fan_out_read ON webhook_deliveries;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_attempts_bound;
DROP INDEX webhook_endpoints_dropped_idx;
DROP INDEX webhook_events_created_idx;
DROP INDEX webhook_deliveries_completed_idx;
DROP INDEX webhook_deliveries_pending_idx;
REVOKE UPDATE (drop_reported_count, drop_reported_at) ON webhook_endpoints FROM tenantgate_app;
ALTER TABLE webhook_endpoints
    DROP COLUMN drop_reported_at,
    DROP COLUMN drop_reported_count,
    DROP COLUMN last_dropped_at,
    DROP COLUMN dropped_count;
