-- Back to one row per event in a partitioned usage_events (as after
-- 2026-12-06-500001): every batch's events are copied back (each gets a new
-- id), then the batches, their months and the view go.
DROP VIEW usage_events;
CREATE TABLE usage_events (
    id               uuid NOT NULL,
    tenant_id        uuid NOT NULL,
    environment      text NOT NULL CHECK (environment IN ('live', 'test')),
    metric           text NOT NULL,
    quantity         bigint NOT NULL CHECK (quantity > 0),
    api_key_id       uuid,
    idempotency_key  text CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    properties       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    occurred_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (occurred_at, id)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX usage_events_tenant_metric_idx ON usage_events (tenant_id, metric, occurred_at);
GRANT SELECT, INSERT ON usage_events TO tenantgate_app;
GRANT SELECT ON usage_events TO tenantgate_platform_admin;

DO $$
DECLARE
    part record;
    m timestamptz;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.usage_batches'::regclass
    LOOP
        m := to_date(substr(part.relname, 15), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.usage_events '
                       'FOR VALUES FROM (%L) TO (%L)',
                       'usage_events_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'),
                       m, m + interval '1 month');
    END LOOP;
END
$$;

ALTER TABLE usage_batches NO FORCE ROW LEVEL SECURITY;
INSERT INTO usage_events (id, tenant_id, environment, metric, quantity, api_key_id,
                          idempotency_key, properties, occurred_at, created_at)
SELECT gen_random_uuid(), b.tenant_id, b.environment, e.metric, e.quantity, e.api_key_id,
       e.idempotency_key, COALESCE(e.properties, '{}'::jsonb), e.occurred_at, b.created_at
FROM usage_batches b
CROSS JOIN LATERAL unnest(b.metrics, b.quantities, b.api_key_ids, b.idempotency_keys,
                          b.properties, b.occurred_at)
    AS e(metric, quantity, api_key_id, idempotency_key, properties, occurred_at);
DROP TABLE usage_batches;
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        WHERE c.relkind = 'r' AND c.relname ~ '^usage_batches_[0-9]{4}_[0-9]{2}$'
    LOOP
        EXECUTE format('DROP TABLE public.%I', t);
    END LOOP;
END
$$;

ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_events_isolation ON usage_events
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY usage_events_platform_admin ON usage_events FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));

-- The partition upkeep as 2026-12-06-400001 made it.
CREATE OR REPLACE FUNCTION tg_usage_partition_add(month_at timestamptz) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    month timestamptz := date_trunc('month', month_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text := 'usage_events_' || to_char(month AT TIME ZONE 'UTC', 'YYYY_MM');
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
        EXECUTE format('CREATE TABLE public.%I (LIKE public.usage_events '
                       'INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
        EXECUTE format('ALTER TABLE public.usage_events ATTACH PARTITION public.%I '
                       'FOR VALUES FROM (%L) TO (%L)', name, month, month + interval '1 month');
    EXCEPTION WHEN lock_not_available THEN
        RETURN 'busy';
    END;
    RETURN name;
END
$$;

-- Detaches the partitions that end at or before `drop_before` (clamped to
-- 13 whole months before the current one). DETACH holds ACCESS EXCLUSIVE on
-- usage_events for an instant; it waits at most lock_timeout for it, so an
-- insert in flight makes it fail (SQLSTATE 55P03) rather than queue every
-- later insert behind it. Returns the names detached, or NULL when busy
-- (another instance runs the upkeep, or a lock not had: nothing done).
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
        WHERE i.inhparent = 'public.usage_events'::regclass
          AND c.relname ~ '^usage_events_[0-9]{4}_[0-9]{2}$'
        ORDER BY c.relname
    LOOP
        IF to_date(substr(part.relname, 14), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC'
                + interval '1 month' <= drop_before THEN
            BEGIN
                EXECUTE format('ALTER TABLE public.usage_events DETACH PARTITION public.%I',
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

-- Drops the detached months (tables named like a partition that are no
-- longer attached) that end at or before `drop_before` (clamped as above).
-- No lock on usage_events. Returns the names dropped, or NULL when busy.
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
          AND c.relname ~ '^usage_events_[0-9]{4}_[0-9]{2}$'
        ORDER BY c.relname
    LOOP
        IF to_date(substr(part.relname, 14), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC'
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
