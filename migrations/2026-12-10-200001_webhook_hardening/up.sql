-- Webhook hardening (issue 14, second review).
--
-- 1. A cap on an endpoint's pending deliveries (10,000): the fan-out sends a
--    new event no further to an endpoint at its cap; it counts what it
--    dropped on the endpoint (dropped_count, last_dropped_at), which the
--    worker's upkeep reports to the audit trail at most once a day per
--    endpoint (drop_reported_count, drop_reported_at).
-- 2. Retention: tg_webhook_prune deletes, in bounded batches, deliveries that
--    ended (succeeded, failed, canceled) more than 30 days ago (their
--    attempts with them) and events older than 30 days that no delivery
--    still needs. The 30 days are the database's, not the caller's.
-- 3. A fair claim: tg_webhook_claim takes deliveries round-robin across
--    tenants (and their endpoints), so one tenant's backlog does not starve
--    another tenant's single event; due times and leases are the database
--    clock's (clock_timestamp(), plus the test clock's skew), never an
--    instance's; and it returns what an attempt needs (the endpoint's URL
--    and sealed secrets, the event), so the worker reads nothing else.
ALTER TABLE webhook_endpoints
    ADD COLUMN dropped_count        bigint NOT NULL DEFAULT 0 CHECK (dropped_count >= 0),
    ADD COLUMN last_dropped_at      timestamptz,
    ADD COLUMN drop_reported_count  bigint NOT NULL DEFAULT 0 CHECK (drop_reported_count >= 0),
    ADD COLUMN drop_reported_at     timestamptz;
GRANT UPDATE (drop_reported_count, drop_reported_at) ON webhook_endpoints TO tenantgate_app;

-- 4. The delivery log's bound: a delivery has at most 8 attempts (the first
--    and the schedule's 7 retries; each attempt row is written with its
--    increment), so a page of `first` deliveries reads at most 8 × first
--    attempt rows.
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_attempts_bound CHECK (attempt_count <= 8);

-- The fan-out's count of an endpoint's pending deliveries, and the claim's
-- walk over (tenant, endpoint) pairs with pending deliveries.
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (tenant_id, endpoint_id, next_attempt_at)
    WHERE status = 'pending';
-- Retention's scans.
CREATE INDEX webhook_deliveries_completed_idx ON webhook_deliveries (completed_at) WHERE status <> 'pending';
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);
-- The upkeep's look for drops to report.
CREATE INDEX webhook_endpoints_dropped_idx ON webhook_endpoints (last_dropped_at)
    WHERE dropped_count > drop_reported_count;

DO $$
BEGIN
    -- The fan-out counts an endpoint's pending deliveries and marks drops.
    EXECUTE format('CREATE POLICY webhook_deliveries_fan_out_read ON webhook_deliveries FOR SELECT TO %I '
                   'USING (tenant_id::text = current_setting(''app.webhook_fan_out'', true))', current_user);
    EXECUTE format('CREATE POLICY webhook_endpoints_fan_out_drop ON webhook_endpoints FOR UPDATE TO %I '
                   'USING (tenant_id::text = current_setting(''app.webhook_fan_out'', true)) '
                   'WITH CHECK (tenant_id::text = current_setting(''app.webhook_fan_out'', true))', current_user);
    -- The claim returns the endpoint and the event with each delivery.
    EXECUTE format('CREATE POLICY webhook_endpoints_worker ON webhook_endpoints FOR SELECT TO %I '
                   'USING (current_setting(''app.webhook_worker'', true) = ''on'')', current_user);
    EXECUTE format('CREATE POLICY webhook_events_worker ON webhook_events FOR SELECT TO %I '
                   'USING (current_setting(''app.webhook_worker'', true) = ''on'')', current_user);
    -- Retention deletes ended deliveries and unneeded events.
    EXECUTE format('CREATE POLICY webhook_deliveries_retention ON webhook_deliveries TO %I '
                   'USING (current_setting(''app.webhook_retention'', true) = ''on'') '
                   'WITH CHECK (current_setting(''app.webhook_retention'', true) = ''on'')', current_user);
    EXECUTE format('CREATE POLICY webhook_events_retention ON webhook_events TO %I '
                   'USING (current_setting(''app.webhook_retention'', true) = ''on'') '
                   'WITH CHECK (false)', current_user);
    EXECUTE format('CREATE POLICY webhook_attempts_retention ON webhook_attempts TO %I '
                   'USING (current_setting(''app.webhook_retention'', true) = ''on'') '
                   'WITH CHECK (false)', current_user);
    -- The upkeep's list of endpoints with drops to report.
    EXECUTE format('CREATE POLICY webhook_endpoints_drops ON webhook_endpoints FOR SELECT TO %I '
                   'USING (current_setting(''app.webhook_drops'', true) = ''on'')', current_user);
END
$$;

-- 1b. The cap's mark: whether the endpoint had 10,000 pending deliveries
--     when last counted (at_cap, pending_counted_at). The fan-out recounts
--     it at most once a minute per endpoint (up to 10,000 index entries),
--     and only when it can lock the endpoint's row at once (SKIP LOCKED:
--     another emitter or the worker holding it means the mark stays as it
--     is), so no emitting transaction waits for another, and between counts
--     an event costs one read of the mark. The cap is thus soft by what
--     arrives within a minute. A drop is one row appended to
--     webhook_endpoint_drops (no lock on the endpoint); drops are folded into
--     dropped_count and last_dropped_at by the recount and by the upkeep
--     (tg_webhook_drops_to_report), so droppedEvents trails by minutes at most.
ALTER TABLE webhook_endpoints
    ADD COLUMN at_cap              boolean NOT NULL DEFAULT false,
    ADD COLUMN pending_counted_at  timestamptz;

-- Only the owner's functions touch it (no runtime role has any privilege).
CREATE TABLE webhook_endpoint_drops (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id  uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    dropped_at   timestamptz NOT NULL
);
CREATE INDEX webhook_endpoint_drops_endpoint_idx ON webhook_endpoint_drops (endpoint_id);
CREATE INDEX webhook_endpoint_drops_tenant_idx ON webhook_endpoint_drops (tenant_id);
ALTER TABLE webhook_endpoint_drops ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoint_drops FORCE ROW LEVEL SECURITY;
REVOKE ALL ON webhook_endpoint_drops FROM PUBLIC;
DO $$
BEGIN
    EXECUTE format('CREATE POLICY webhook_endpoint_drops_fan_out ON webhook_endpoint_drops TO %I '
                   'USING (tenant_id::text = current_setting(''app.webhook_fan_out'', true)) '
                   'WITH CHECK (tenant_id::text = current_setting(''app.webhook_fan_out'', true))', current_user);
    EXECUTE format('CREATE POLICY webhook_endpoint_drops_upkeep ON webhook_endpoint_drops TO %I '
                   'USING (current_setting(''app.webhook_drops'', true) = ''on'') '
                   'WITH CHECK (false)', current_user);
    EXECUTE format('CREATE POLICY webhook_endpoint_drops_erasure ON webhook_endpoint_drops TO %I '
                   'USING (current_setting(''app.erasure'', true) = ''on'') '
                   'WITH CHECK (false)', current_user);
    EXECUTE format('CREATE POLICY webhook_endpoints_drops_fold ON webhook_endpoints FOR UPDATE TO %I '
                   'USING (current_setting(''app.webhook_drops'', true) = ''on'') '
                   'WITH CHECK (current_setting(''app.webhook_drops'', true) = ''on'')', current_user);
END
$$;

-- As in 2026-12-09-100002, with the cap: an endpoint marked at its cap
-- (10,000 pending deliveries) gets no new one; the drop is appended instead.
CREATE OR REPLACE FUNCTION tg_webhook_fan_out() RETURNS trigger
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    cap CONSTANT integer := 10000;
    w record;
    capped boolean;
    folded bigint;
    last_drop timestamptz;
BEGIN
    IF NEW.event_type = 'webhook.test' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('app.webhook_fan_out', NEW.tenant_id::text, true);
    FOR w IN SELECT e.id, e.at_cap, e.pending_counted_at FROM webhook_endpoints e
              WHERE e.tenant_id = NEW.tenant_id AND e.enabled
                AND (cardinality(e.event_types) = 0 OR NEW.event_type = ANY (e.event_types))
              ORDER BY e.id
    LOOP
        capped := w.at_cap;
        IF w.pending_counted_at IS NULL
           OR w.pending_counted_at < clock_timestamp() - interval '1 minute' THEN
            PERFORM 1 FROM webhook_endpoints e WHERE e.id = w.id FOR NO KEY UPDATE SKIP LOCKED;
            IF FOUND THEN
                capped := (SELECT count(*) FROM (SELECT 1 FROM webhook_deliveries d
                                                WHERE d.tenant_id = NEW.tenant_id AND d.endpoint_id = w.id
                                                  AND d.status = 'pending'
                                                LIMIT cap) p) >= cap;
                WITH gone AS (
                    DELETE FROM webhook_endpoint_drops x WHERE x.endpoint_id = w.id
                    RETURNING x.dropped_at
                ) SELECT count(*), max(gone.dropped_at) INTO folded, last_drop FROM gone;
                UPDATE webhook_endpoints e
                   SET at_cap = capped, pending_counted_at = clock_timestamp(),
                       dropped_count = e.dropped_count + folded,
                       last_dropped_at = greatest(e.last_dropped_at, last_drop)
                 WHERE e.id = w.id;
            END IF;
        END IF;
        IF capped THEN
            INSERT INTO webhook_endpoint_drops (tenant_id, endpoint_id, dropped_at)
            VALUES (NEW.tenant_id, w.id, clock_timestamp());
        ELSE
            INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, next_attempt_at)
            VALUES (gen_random_uuid(), NEW.tenant_id, w.id, NEW.id, clock_timestamp());
        END IF;
    END LOOP;
    PERFORM set_config('app.webhook_fan_out', '', true);
    RETURN NULL;
END
$$;

-- The claim's round-robin cursor: the last (tenant, endpoint) pair a claim
-- walked; the next claim starts after it (wrapping around). Only the claim
-- touches it (no runtime role has any privilege).
-- max_skew bounds the test clock's skew a caller may pass (zero: none; only
-- the owner may raise it, as the tests' template does).
CREATE TABLE webhook_claim_cursor (
    only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_tenant    uuid,
    last_endpoint  uuid,
    max_skew       interval NOT NULL DEFAULT interval '0'
);
INSERT INTO webhook_claim_cursor (only_row) VALUES (true);
REVOKE ALL ON webhook_claim_cursor FROM PUBLIC;

-- The claim hands over every tenant's due payloads, URLs and sealed secrets:
-- only tenantgate_webhook_worker may run it, a NOLOGIN role the worker enters
-- with SET LOCAL ROLE (as billing's role; tenantgate_app is NOINHERIT, so its
-- membership grants nothing until it does).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantgate_webhook_worker') THEN
        CREATE ROLE tenantgate_webhook_worker NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE 'GRANT tenantgate_webhook_worker TO tenantgate_app WITH INHERIT FALSE, SET TRUE';
    ELSE
        GRANT tenantgate_webhook_worker TO tenantgate_app;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO tenantgate_webhook_worker;

-- The claim, fair and on the database's clock. `skew` is the test clock's
-- offset (zero in production), bounded by webhook_claim_cursor.max_skew
-- (zero unless the owner raised it, as the tests do). Pairs of (tenant, endpoint) with pending
-- deliveries are walked in index order from the persisted cursor (wrapping
-- around), one index probe each, which also gives the pair's earliest due
-- time: up to 1,000 pairs each side of the cursor, stopping once 200 pairs
-- with something due (and not in `busy`) are found; the cursor is left at
-- the last pair walked. Of each due pair, up to `per_endpoint` due
-- deliveries are candidates, ranked by the tenant's turn (its first, its
-- second, ...) plus its attempts in flight on the calling instance (`loads`
-- of `tenants`), then by the walk's order: a tenant with every slot busy
-- yields the next free one to a tenant with none. Four times `n` (at most
-- 500) candidates are locked in that order with SKIP LOCKED until `n` are
-- held, so two instances claiming at once both get work; each claimed one
-- is leased to `lease` for `lease_secs` (5 to 600) past the database's now.
DROP FUNCTION tg_webhook_claim(uuid, integer, timestamptz, integer, integer, uuid[]);
CREATE FUNCTION tg_webhook_claim(lease uuid, n integer, skew interval, lease_secs integer,
                                 per_endpoint integer, busy uuid[], tenants uuid[], loads integer[])
    RETURNS TABLE (id uuid, tenant_id uuid, endpoint_id uuid, attempt_count integer,
                   event_id uuid, event_type text, payload jsonb, event_created_at timestamptz,
                   url text, enabled boolean, secret_sealed bytea, previous_secret_sealed bytea,
                   previous_secret_expires_at timestamptz, failing_since timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    due_at timestamptz;
    zero CONSTANT uuid := '00000000-0000-0000-0000-000000000000';
    pivot_t uuid;
    pivot_e uuid;
    busy_e uuid[] := coalesce(busy, '{}');
    take integer := least(greatest(n, 1), 500);
    per integer := least(greatest(per_endpoint, 1), 100);
    held interval := make_interval(secs => least(greatest(lease_secs, 5), 600));
BEGIN
    PERFORM set_config('app.webhook_worker', 'on', true);
    SELECT coalesce(c.last_tenant, zero), coalesce(c.last_endpoint, zero),
           clock_timestamp() + least(greatest(coalesce(skew, interval '0'), -c.max_skew), c.max_skew)
      INTO pivot_t, pivot_e, due_at FROM webhook_claim_cursor c;
    RETURN QUERY
    WITH RECURSIVE high(t, e, first_due, step, found) AS (
        (SELECT w.tenant_id, w.endpoint_id, w.next_attempt_at, 1,
                (w.next_attempt_at <= due_at AND w.endpoint_id <> ALL (busy_e))::int
           FROM webhook_deliveries w
          WHERE w.status = 'pending' AND (w.tenant_id, w.endpoint_id) > (pivot_t, pivot_e)
          ORDER BY w.tenant_id, w.endpoint_id, w.next_attempt_at LIMIT 1)
        UNION ALL
        SELECT nx.tenant_id, nx.endpoint_id, nx.next_attempt_at, h.step + 1,
               h.found + (nx.next_attempt_at <= due_at AND nx.endpoint_id <> ALL (busy_e))::int
          FROM high h CROSS JOIN LATERAL (
              SELECT w.tenant_id, w.endpoint_id, w.next_attempt_at FROM webhook_deliveries w
               WHERE w.status = 'pending' AND (w.tenant_id, w.endpoint_id) > (h.t, h.e)
               ORDER BY w.tenant_id, w.endpoint_id, w.next_attempt_at LIMIT 1) nx
         WHERE h.step < 1000 AND h.found < 200
    ), low(t, e, first_due, step, found) AS (
        (SELECT w.tenant_id, w.endpoint_id, w.next_attempt_at, 1,
                (w.next_attempt_at <= due_at AND w.endpoint_id <> ALL (busy_e))::int
           FROM webhook_deliveries w
          WHERE w.status = 'pending' AND (w.tenant_id, w.endpoint_id) <= (pivot_t, pivot_e)
          ORDER BY w.tenant_id, w.endpoint_id, w.next_attempt_at LIMIT 1)
        UNION ALL
        SELECT nx.tenant_id, nx.endpoint_id, nx.next_attempt_at, l.step + 1,
               l.found + (nx.next_attempt_at <= due_at AND nx.endpoint_id <> ALL (busy_e))::int
          FROM low l CROSS JOIN LATERAL (
              SELECT w.tenant_id, w.endpoint_id, w.next_attempt_at FROM webhook_deliveries w
               WHERE w.status = 'pending' AND (w.tenant_id, w.endpoint_id) > (l.t, l.e)
                 AND (w.tenant_id, w.endpoint_id) <= (pivot_t, pivot_e)
               ORDER BY w.tenant_id, w.endpoint_id, w.next_attempt_at LIMIT 1) nx
         WHERE l.step < 1000 AND l.found < 200
    ), walked AS (
        SELECT h.t, h.e, h.first_due, h.step AS pos FROM high h
        UNION ALL SELECT l.t, l.e, l.first_due, 1000 + l.step FROM low l
    ), cursor_moved AS (
        -- Moved only if no other claim holds it (SKIP LOCKED): claims never
        -- wait for each other.
        UPDATE webhook_claim_cursor c SET last_tenant = lp.t, last_endpoint = lp.e
          FROM (SELECT wk.t, wk.e FROM walked wk ORDER BY wk.pos DESC LIMIT 1) lp
         WHERE c.only_row IN (SELECT k.only_row FROM webhook_claim_cursor k FOR UPDATE SKIP LOCKED)
        RETURNING 1
    ), due AS (
        SELECT c.id, c.next_attempt_at, p.pos,
               row_number() OVER (PARTITION BY p.t ORDER BY c.next_attempt_at, c.id)
                 + coalesce((SELECT u.l FROM unnest(tenants, loads) AS u(tn, l) WHERE u.tn = p.t
                             LIMIT 1), 0) AS rank
          FROM walked p CROSS JOIN LATERAL (
              SELECT w.id, w.next_attempt_at FROM webhook_deliveries w
               WHERE w.status = 'pending' AND w.tenant_id = p.t AND w.endpoint_id = p.e
                 AND w.next_attempt_at <= due_at
               ORDER BY w.next_attempt_at LIMIT per) c
         WHERE p.first_due <= due_at AND p.e <> ALL (busy_e)
    ), chosen AS (
        SELECT y.id FROM unnest(ARRAY(SELECT d.id FROM due d
                                       ORDER BY d.rank, d.pos, d.next_attempt_at
                                       LIMIT take * 4)) WITH ORDINALITY AS o(cid, ord)
          JOIN webhook_deliveries y ON y.id = o.cid
         WHERE y.status = 'pending' AND y.next_attempt_at <= due_at
         ORDER BY o.ord
         LIMIT take
         FOR UPDATE OF y SKIP LOCKED
    ), claimed AS (
        UPDATE webhook_deliveries d
           SET leased_by = lease, next_attempt_at = due_at + held
          FROM chosen
         WHERE d.id = chosen.id
        RETURNING d.id, d.tenant_id, d.endpoint_id, d.attempt_count, d.event_id
    )
    SELECT c.id, c.tenant_id, c.endpoint_id, c.attempt_count, c.event_id,
           ev.event_type, ev.payload, ev.created_at,
           ep.url, ep.enabled, ep.secret_sealed, ep.previous_secret_sealed,
           ep.previous_secret_expires_at, ep.failing_since
      FROM claimed c
      JOIN webhook_events ev ON ev.id = c.event_id
      JOIN webhook_endpoints ep ON ep.id = c.endpoint_id;
    PERFORM set_config('app.webhook_worker', '', true);
END
$$;
REVOKE ALL ON FUNCTION tg_webhook_claim(uuid, integer, interval, integer, integer, uuid[], uuid[], integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_webhook_claim(uuid, integer, interval, integer, integer, uuid[], uuid[], integer[]) TO tenantgate_webhook_worker;

-- Retention, one bounded batch (1 to 10,000 rows of each kind): deliveries
-- that ended more than 30 days ago by the database's clock (their attempts
-- go with them), then events older than 30 days with no delivery left
-- pending or ended within the 30 days. One caller at a time (the others get
-- -1); a lock it cannot take at once ends the batch (-1) rather than wait.
-- Returns how many rows it deleted (deliveries + events).
CREATE FUNCTION tg_webhook_prune(batch integer) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    cutoff timestamptz := clock_timestamp() - interval '30 days';
    gone_deliveries bigint;
    gone_events bigint;
BEGIN
    batch := least(greatest(batch, 1), 10000);
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate webhook retention')) THEN
        RETURN -1;
    END IF;
    PERFORM set_config('app.webhook_retention', 'on', true);
    BEGIN
        DELETE FROM webhook_deliveries d WHERE d.id = ANY (ARRAY(
            SELECT x.id FROM webhook_deliveries x
             WHERE x.status <> 'pending' AND x.completed_at < cutoff
             ORDER BY x.completed_at LIMIT batch));
        GET DIAGNOSTICS gone_deliveries = ROW_COUNT;
        DELETE FROM webhook_events e WHERE e.id = ANY (ARRAY(
            SELECT v.id FROM webhook_events v
             WHERE v.created_at < cutoff
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                                WHERE d.event_id = v.id
                                  AND (d.status = 'pending' OR d.completed_at >= cutoff))
             ORDER BY v.created_at LIMIT batch));
        GET DIAGNOSTICS gone_events = ROW_COUNT;
    EXCEPTION WHEN lock_not_available THEN
        PERFORM set_config('app.webhook_retention', '', true);
        RETURN -1;
    END;
    PERFORM set_config('app.webhook_retention', '', true);
    RETURN gone_deliveries + gone_events;
END
$$;
REVOKE ALL ON FUNCTION tg_webhook_prune(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_webhook_prune(integer) TO tenantgate_app;

-- Endpoints (of any tenant) with drops not reported in the last day: the
-- upkeep reports each in its tenant's scope (an audit entry), at most `n`
-- (1 to 100) a pass. Ids only. First folds up to 100,000 appended drops into
-- their endpoints' dropped_count and last_dropped_at.
CREATE FUNCTION tg_webhook_drops_to_report(n integer)
    RETURNS TABLE (tenant_id uuid, endpoint_id uuid)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM set_config('app.webhook_drops', 'on', true);
    WITH gone AS (
        DELETE FROM webhook_endpoint_drops x WHERE x.id = ANY (ARRAY(
            SELECT y.id FROM webhook_endpoint_drops y ORDER BY y.id LIMIT 100000))
        RETURNING x.endpoint_id, x.dropped_at
    ), per AS (
        SELECT g.endpoint_id, count(*) AS k, max(g.dropped_at) AS last_at FROM gone g GROUP BY 1
    )
    UPDATE webhook_endpoints w
       SET dropped_count = w.dropped_count + per.k,
           last_dropped_at = greatest(w.last_dropped_at, per.last_at)
      FROM per WHERE w.id = per.endpoint_id;
    RETURN QUERY
    SELECT w.tenant_id, w.id FROM webhook_endpoints w
     WHERE w.dropped_count > w.drop_reported_count
       AND (w.drop_reported_at IS NULL OR w.drop_reported_at < clock_timestamp() - interval '1 day')
     ORDER BY w.last_dropped_at
     LIMIT least(greatest(n, 1), 100);
    PERFORM set_config('app.webhook_drops', '', true);
END
$$;
REVOKE ALL ON FUNCTION tg_webhook_drops_to_report(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_webhook_drops_to_report(integer) TO tenantgate_app;
