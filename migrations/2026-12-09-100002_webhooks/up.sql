-- Outgoing webhooks, part two: endpoints, deliveries and their attempts.
--
-- An endpoint belongs to one tenant; its signing secret (and, for 24 hours
-- after a rotation, the previous one) is stored sealed (XChaCha20-Poly1305
-- under a key derived from the server's signing secret, as email bodies are),
-- so a dump of the database holds no usable secret.
--
-- A delivery is one message (an event of webhook_events) to one endpoint. The
-- fan-out is a trigger on webhook_events (tg_webhook_fan_out, SECURITY
-- DEFINER: emit runs as the runtime, billing and platform admins' roles), so
-- the deliveries are written in the transaction that writes the event: a
-- rolled-back change has none, a committed one all of those its tenant's
-- endpoints subscribed to at that moment. The worker of every instance claims
-- due deliveries through tg_webhook_claim (FOR UPDATE SKIP LOCKED and a lease)
-- and records each attempt in the delivery's tenant scope as the runtime role.
CREATE TABLE webhook_endpoints (
    id                          uuid PRIMARY KEY,
    tenant_id                   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                         text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    description                 text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    -- The event types it wants; empty: every type.
    event_types                 text[] NOT NULL DEFAULT '{}' CHECK (cardinality(event_types) <= 64),
    enabled                     boolean NOT NULL DEFAULT true,
    disabled_reason             text CHECK (length(disabled_reason) <= 500),
    disabled_at                 timestamptz,
    secret_sealed               bytea NOT NULL CHECK (length(secret_sealed) <= 256),
    previous_secret_sealed      bytea CHECK (length(previous_secret_sealed) <= 256),
    previous_secret_expires_at  timestamptz,
    -- The first failed attempt since the last success (5 days of it disable).
    failing_since               timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, created_at, id);
-- The fan-out's lookup: a tenant's enabled endpoints.
CREATE INDEX webhook_endpoints_enabled_idx ON webhook_endpoints (tenant_id) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    -- pending: attempts to come; succeeded: a 2xx; failed: the schedule ran
    -- out; canceled: the endpoint was disabled first.
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
    attempt_count    integer NOT NULL DEFAULT 0 CHECK (attempt_count BETWEEN 0 AND 100),
    -- When the next attempt is due (while pending; a claim moves it past its lease).
    next_attempt_at  timestamptz,
    leased_by        uuid,
    -- The delivery this one replays (replayWebhookDelivery), if any.
    replay_of        uuid REFERENCES webhook_deliveries (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    completed_at     timestamptz,
    CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);
-- The worker's due query (pending ones only: the index stays small).
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- An endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_tenant_idx ON webhook_deliveries (tenant_id);
CREATE INDEX webhook_deliveries_replay_idx ON webhook_deliveries (replay_of) WHERE replay_of IS NOT NULL;

CREATE TABLE webhook_attempts (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    delivery_id       uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at      timestamptz NOT NULL,
    status_code       integer CHECK (status_code BETWEEN 100 AND 999),
    latency_ms        integer NOT NULL CHECK (latency_ms >= 0),
    -- The first 1 KB of the response body (cut at a character boundary).
    response_excerpt  text CHECK (octet_length(response_excerpt) <= 1024),
    error             text CHECK (length(error) <= 500)
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempted_at, id);
CREATE INDEX webhook_attempts_tenant_idx ON webhook_attempts (tenant_id);

GRANT SELECT, INSERT, DELETE ON webhook_endpoints TO tenantgate_app;
GRANT UPDATE (url, description, event_types, enabled, disabled_reason, disabled_at, secret_sealed,
              previous_secret_sealed, previous_secret_expires_at, failing_since, updated_at)
    ON webhook_endpoints TO tenantgate_app;
GRANT SELECT, INSERT ON webhook_deliveries TO tenantgate_app;
GRANT UPDATE (status, attempt_count, next_attempt_at, leased_by, completed_at)
    ON webhook_deliveries TO tenantgate_app;
GRANT SELECT, INSERT ON webhook_attempts TO tenantgate_app;

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_isolation ON webhook_endpoints
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY webhook_deliveries_isolation ON webhook_deliveries
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY webhook_attempts_isolation ON webhook_attempts
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());

-- The owner's own access for the functions below, each of which switches it
-- on in its body for its own duration only: no runtime role can use it.
-- The fan-out reads one tenant's endpoints and writes that tenant's
-- deliveries (the event's tenant, named in app.webhook_fan_out); the claim
-- sees every tenant's pending deliveries (app.webhook_worker).
DO $$
BEGIN
    EXECUTE format('CREATE POLICY webhook_endpoints_fan_out ON webhook_endpoints FOR SELECT TO %I '
                   'USING (tenant_id::text = current_setting(''app.webhook_fan_out'', true))', current_user);
    EXECUTE format('CREATE POLICY webhook_deliveries_fan_out ON webhook_deliveries FOR INSERT TO %I '
                   'WITH CHECK (tenant_id::text = current_setting(''app.webhook_fan_out'', true))', current_user);
    EXECUTE format('CREATE POLICY webhook_deliveries_worker ON webhook_deliveries TO %I '
                   'USING (current_setting(''app.webhook_worker'', true) = ''on'') '
                   'WITH CHECK (current_setting(''app.webhook_worker'', true) = ''on'')', current_user);
END
$$;

-- One delivery per enabled endpoint of the event's tenant that wants its type
-- (none wanted: all), due at once. `webhook.test` goes to one endpoint only
-- (sendTestWebhook writes that delivery itself).
CREATE FUNCTION tg_webhook_fan_out() RETURNS trigger
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
REVOKE ALL ON FUNCTION tg_webhook_fan_out() FROM PUBLIC;
CREATE TRIGGER webhook_events_fan_out AFTER INSERT ON webhook_events
    FOR EACH ROW EXECUTE FUNCTION tg_webhook_fan_out();

-- Claims up to `n` deliveries due at `at` (the worker's clock), oldest due
-- first and at most `per_endpoint` of one endpoint, none of the endpoints in
-- `busy` (those this instance already has enough attempts in flight to),
-- leasing each to `lease` for `lease_secs` (5 to 600): its next_attempt_at
-- moves past the lease, so no other instance claims it while the attempt
-- runs, and one whose instance died is claimed again after the lease. Rows
-- are locked with SKIP LOCKED: two instances never claim the same delivery.
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
