-- Raw usage events stored a call at a time (issue 11: ingest at 100,000
-- events/s). A row of `usage_batches` holds the events one write stored
-- for one tenant, environment and UTC month, as parallel arrays (columnar,
-- compressed out of line by TOAST). Measured with bench/usage.sh, a row per
-- event with its two b-tree entries cost about a third of PostgreSQL's CPU
-- per ingested event and half of the WAL; one row per write costs a few
-- index entries whatever the batch size.
--
-- Nothing reads raw events on a hot path (quotas and usage reads use the
-- rollups); the data export reads them a batch at a time, and the view
-- `usage_events` (security_invoker: the caller's row-level security and
-- privileges apply) still shows one row per event, identified by its
-- batch and position.
--
-- Months are still native range partitions (by `month`, the first instant
-- of the UTC month every event of the row occurred in), made ahead and
-- dropped after the retention by the upkeep functions below; the
-- idempotency keys stay one row per key in usage_dedup.
CREATE TABLE usage_batches (
    id               uuid NOT NULL,
    tenant_id        uuid NOT NULL,
    environment      text NOT NULL CHECK (environment IN ('live', 'test')),
    month            timestamptz NOT NULL,
    events           integer NOT NULL CHECK (events > 0),
    metrics          text[] NOT NULL,
    quantities       bigint[] NOT NULL,
    -- NULL elements: not sent by a key (a signed-in member's call).
    api_key_ids      uuid[] NOT NULL,
    -- NULL elements: no idempotency key (an `authorize` call without one).
    idempotency_keys text[] NOT NULL,
    -- NULL elements: no properties (`{}`).
    properties       jsonb[] NOT NULL,
    occurred_at      timestamptz[] NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (month, id),
    CHECK (cardinality(metrics) = events AND cardinality(quantities) = events
           AND cardinality(api_key_ids) = events AND cardinality(idempotency_keys) = events
           AND cardinality(properties) = events AND cardinality(occurred_at) = events),
    CHECK (0 < ALL (quantities))
) PARTITION BY RANGE (month);
CREATE INDEX usage_batches_tenant_idx ON usage_batches (tenant_id, month, id);
GRANT SELECT, INSERT ON usage_batches TO tenantgate_app;
GRANT SELECT ON usage_batches TO tenantgate_platform_admin;

-- lz4 compresses about as well as the default (pglz) for a fraction of its
-- CPU; a server built without it keeps pglz.
DO $$
DECLARE
    col text;
BEGIN
    FOREACH col IN ARRAY ARRAY['metrics', 'quantities', 'api_key_ids', 'idempotency_keys',
                               'properties', 'occurred_at'] LOOP
        BEGIN
            EXECUTE format('ALTER TABLE usage_batches ALTER COLUMN %I SET COMPRESSION lz4', col);
        EXCEPTION WHEN feature_not_supported THEN
            RETURN;
        END;
    END LOOP;
END
$$;

-- The months the events held, the current one, the one before and two ahead.
DO $$
DECLARE
    m timestamptz;
BEGIN
    FOR m IN
        SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        FROM usage_events
        UNION
        SELECT generate_series(
            date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month',
            date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months',
            interval '1 month') AT TIME ZONE 'UTC'
    LOOP
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.usage_batches '
                       'FOR VALUES FROM (%L) TO (%L)',
                       'usage_batches_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'),
                       m, m + interval '1 month');
    END LOOP;
END
$$;

-- The events stored so far move over, at most 1,000 to a row, in time order.
-- The owner reads every tenant's rows: the old table stops forcing its
-- row-level security on the owner (it is dropped below), and the new one
-- turns its on after the copy.
ALTER TABLE usage_events NO FORCE ROW LEVEL SECURITY;
INSERT INTO usage_batches (id, tenant_id, environment, month, events, metrics, quantities,
                           api_key_ids, idempotency_keys, properties, occurred_at, created_at)
SELECT gen_random_uuid(), tenant_id, environment, month, count(*)::integer,
       array_agg(metric ORDER BY occurred_at, id), array_agg(quantity ORDER BY occurred_at, id),
       array_agg(api_key_id ORDER BY occurred_at, id),
       array_agg(idempotency_key ORDER BY occurred_at, id),
       array_agg(NULLIF(properties, '{}'::jsonb) ORDER BY occurred_at, id),
       array_agg(occurred_at ORDER BY occurred_at, id), min(created_at)
FROM (SELECT e.*,
             date_trunc('month', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month,
             (row_number() OVER (PARTITION BY e.tenant_id, e.environment,
                                   date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')
                                 ORDER BY e.occurred_at, e.id) - 1) / 1000 AS chunk
      FROM usage_events e) e
GROUP BY tenant_id, environment, month, chunk;

-- The old table with its months, and months already detached (past the
-- retention, waiting to be dropped).
DROP TABLE usage_events;
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        WHERE c.relkind = 'r' AND c.relname ~ '^usage_events_[0-9]{4}_[0-9]{2}$'
    LOOP
        EXECUTE format('DROP TABLE public.%I', t);
    END LOOP;
END
$$;

ALTER TABLE usage_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_batches_isolation ON usage_batches
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY usage_batches_platform_admin ON usage_batches FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));

-- One row per event, as the table was: the caller's rights and row-level
-- security apply (security_invoker), so it shows no more than usage_batches.
CREATE VIEW usage_events WITH (security_invoker = true, security_barrier = true) AS
SELECT b.id AS batch_id, e.position::integer AS position, b.tenant_id, b.environment,
       e.metric, e.quantity, e.api_key_id, e.idempotency_key,
       COALESCE(e.properties, '{}'::jsonb) AS properties, e.occurred_at, b.month, b.created_at
FROM usage_batches b
CROSS JOIN LATERAL unnest(b.metrics, b.quantities, b.api_key_ids, b.idempotency_keys,
                          b.properties, b.occurred_at)
    WITH ORDINALITY AS e(metric, quantity, api_key_id, idempotency_key, properties,
                         occurred_at, position);
GRANT SELECT ON usage_events TO tenantgate_app, tenantgate_platform_admin;

-- The partition upkeep of 2026-12-06-400001, for usage_batches (same
-- clamps, locks and answers; months are named usage_batches_YYYY_MM).
CREATE OR REPLACE FUNCTION tg_usage_partition_add(month_at timestamptz) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    month timestamptz := date_trunc('month', month_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text := 'usage_batches_' || to_char(month AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
    IF month > now() + interval '2 years' OR month < now() - interval '14 months' THEN
        RAISE EXCEPTION 'partitions are made from 14 months back to 2 years ahead';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate usage upkeep')) THEN
        RETURN 'busy';
    END IF;
    IF to_regclass('public.' || name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        EXECUTE format('CREATE TABLE public.%I (LIKE public.usage_batches INCLUDING DEFAULTS '
                       'INCLUDING CONSTRAINTS INCLUDING COMPRESSION)', name);
        EXECUTE format('ALTER TABLE public.usage_batches ATTACH PARTITION public.%I '
                       'FOR VALUES FROM (%L) TO (%L)', name, month, month + interval '1 month');
    EXCEPTION WHEN lock_not_available THEN
        RETURN 'busy';
    END;
    RETURN name;
END
$$;

CREATE OR REPLACE FUNCTION tg_usage_partition_detach(drop_before timestamptz) RETURNS text[]
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    gone text[] := '{}';
    part record;
BEGIN
    drop_before := LEAST(drop_before,
        (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - interval '13 months');
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate usage upkeep')) THEN
        RETURN NULL;
    END IF;
    FOR part IN
        SELECT c.relname
        FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.usage_batches'::regclass
          AND c.relname ~ '^usage_batches_[0-9]{4}_[0-9]{2}$'
        ORDER BY c.relname
    LOOP
        IF to_date(substr(part.relname, 15), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC'
                + interval '1 month' <= drop_before THEN
            BEGIN
                EXECUTE format('ALTER TABLE public.usage_batches DETACH PARTITION public.%I',
                               part.relname);
            EXCEPTION WHEN lock_not_available THEN
                RETURN NULL;
            END;
            gone := gone || part.relname::text;
        END IF;
    END LOOP;
    RETURN gone;
END
$$;

CREATE OR REPLACE FUNCTION tg_usage_partition_drop(drop_before timestamptz) RETURNS text[]
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    gone text[] := '{}';
    part record;
BEGIN
    drop_before := LEAST(drop_before,
        (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - interval '13 months');
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate usage upkeep')) THEN
        RETURN NULL;
    END IF;
    FOR part IN
        SELECT c.relname
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        WHERE c.relkind = 'r' AND NOT c.relispartition
          AND c.relname ~ '^usage_batches_[0-9]{4}_[0-9]{2}$'
        ORDER BY c.relname
    LOOP
        IF to_date(substr(part.relname, 15), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC'
                + interval '1 month' <= drop_before THEN
            BEGIN
                EXECUTE format('DROP TABLE public.%I', part.relname);
            EXCEPTION WHEN lock_not_available THEN
                RETURN NULL;
            END;
            gone := gone || part.relname::text;
        END IF;
    END LOOP;
    RETURN gone;
END
$$;
