-- Usage storage that stays fast as it grows.
--
-- Raw events are append-only and partitioned by month of `occurred_at` with
-- PostgreSQL's native declarative partitioning; the server creates months
-- ahead and drops those past the retention (tg_usage_partitions). The
-- idempotency keys live in `usage_dedup` (a unique index on the partitioned
-- table would have to include the partition key, so it could not stop the
-- same key at two different times), kept while a retry could still be
-- accepted. Hourly and daily rollups are maintained in the transaction that
-- inserts the events, so reading usage never rescans raw events.
ALTER TABLE usage_events RENAME TO usage_events_v1;
ALTER INDEX usage_events_pkey RENAME TO usage_events_v1_pkey;
ALTER INDEX usage_events_tenant_metric_idx RENAME TO usage_events_v1_tenant_metric_idx;

CREATE TABLE usage_events (
    id               uuid NOT NULL,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment      text NOT NULL CHECK (environment IN ('live', 'test')),
    metric           text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
    quantity         bigint NOT NULL CHECK (quantity > 0),
    api_key_id       uuid,
    idempotency_key  text CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    properties       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    occurred_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (occurred_at, id)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX usage_events_tenant_metric_idx ON usage_events (tenant_id, metric, occurred_at);
-- Append-only: no UPDATE or DELETE for anyone but the owner's partition job.
GRANT SELECT, INSERT ON usage_events TO tenantgate_app;
GRANT SELECT ON usage_events TO tenantgate_platform_admin;

-- Idempotency keys per tenant and environment, with the event's time. A
-- retry is refused as too old once its event is more than 35 days old, so a
-- key is kept until its event is 36 days old (then pruned by the same job).
CREATE TABLE usage_dedup (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment      text NOT NULL CHECK (environment IN ('live', 'test')),
    idempotency_key  text NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    occurred_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, environment, idempotency_key)
);
CREATE INDEX usage_dedup_occurred_idx ON usage_dedup (occurred_at);
GRANT SELECT, INSERT ON usage_dedup TO tenantgate_app;
GRANT SELECT ON usage_dedup TO tenantgate_platform_admin;

-- Rollups per tenant, environment, metric, granularity and hour or day (UTC):
-- `api_key_id` is a key's own share, or the nil uuid for the whole tenant
-- (every key and signed-in member; the row quotas and totals read). `value`
-- follows the metric's aggregation; `events` counts the events.
CREATE TABLE usage_rollups (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment  text NOT NULL CHECK (environment IN ('live', 'test')),
    metric       text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
    granularity  text NOT NULL CHECK (granularity IN ('hour', 'day')),
    api_key_id   uuid NOT NULL,
    bucket       timestamptz NOT NULL,
    value        bigint NOT NULL CHECK (value >= 0),
    events       bigint NOT NULL CHECK (events > 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, environment, metric, granularity, api_key_id, bucket)
);
GRANT SELECT, INSERT, UPDATE (value, events, updated_at) ON usage_rollups TO tenantgate_app;
GRANT SELECT ON usage_rollups TO tenantgate_platform_admin;

-- The distinct property values seen per rollup bucket, for `unique_count`
-- metrics (a value counts once per bucket).
CREATE TABLE usage_distinct (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment  text NOT NULL CHECK (environment IN ('live', 'test')),
    metric       text NOT NULL,
    granularity  text NOT NULL CHECK (granularity IN ('hour', 'day')),
    api_key_id   uuid NOT NULL,
    bucket       timestamptz NOT NULL,
    value        text NOT NULL,
    PRIMARY KEY (tenant_id, environment, metric, granularity, api_key_id, bucket, value)
);
GRANT SELECT, INSERT ON usage_distinct TO tenantgate_app;
GRANT SELECT ON usage_distinct TO tenantgate_platform_admin;

-- Partition upkeep, run by the server (at start and daily) as the owner:
-- creates the monthly partitions from the month of `from_at` to the month of
-- `to_at`, drops those that end at or before `drop_before`, and forgets
-- idempotency keys of events older than `dedup_before`. Returns the
-- partitions created and dropped.
CREATE FUNCTION tg_usage_partitions(from_at timestamptz, to_at timestamptz,
                                    drop_before timestamptz, dedup_before timestamptz)
    RETURNS TABLE (created text[], dropped text[])
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'
    AS $$
DECLARE
    month timestamptz := date_trunc('month', from_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    last timestamptz := date_trunc('month', to_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text;
    made text[] := '{}';
    gone text[] := '{}';
    part record;
BEGIN
    -- The caller (the runtime role) picks the clock for tests, but never
    -- more destruction than the retention allows as of the real time: the
    -- cutoffs can only be earlier than the policy's, and no months are made
    -- far ahead.
    drop_before := LEAST(drop_before,
        (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - interval '13 months');
    dedup_before := LEAST(dedup_before, now() - interval '36 days');
    IF to_at > now() + interval '2 years' OR to_at < from_at
            OR to_at - from_at > interval '10 years' THEN
        RAISE EXCEPTION 'partitions are made for at most 10 years, ending at most 2 years ahead';
    END IF;
    WHILE month <= last LOOP
        name := 'usage_events_' || to_char(month AT TIME ZONE 'UTC', 'YYYY_MM');
        IF to_regclass('public.' || name) IS NULL THEN
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.usage_events '
                           'FOR VALUES FROM (%L) TO (%L)',
                           name, month, month + interval '1 month');
            made := made || name;
        END IF;
        month := month + interval '1 month';
    END LOOP;
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
            EXECUTE format('DROP TABLE public.%I', part.relname);
            gone := gone || part.relname::text;
        END IF;
    END LOOP;
    PERFORM set_config('app.usage_prune', 'on', true);
    DELETE FROM public.usage_dedup WHERE occurred_at < dedup_before;
    -- No event of a bucket older than that can arrive any more: its distinct
    -- values have been counted into its rollup for good.
    DELETE FROM public.usage_distinct WHERE bucket < dedup_before - interval '1 day';
    PERFORM set_config('app.usage_prune', '', true);
    RETURN QUERY SELECT made, gone;
END
$$;
REVOKE ALL ON FUNCTION tg_usage_partitions(timestamptz, timestamptz, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_usage_partitions(timestamptz, timestamptz, timestamptz, timestamptz)
    TO tenantgate_app;

-- What `usage_events` held moves over: its months get partitions, its events
-- their idempotency keys and rollups (summed: the only metric it could hold
-- through the catalogue is api_calls; any other is summed as well).
SELECT tg_usage_partitions(
    LEAST(now(), (SELECT min(occurred_at) FROM usage_events_v1)) - interval '2 months',
    now() + interval '3 months', '-infinity', '-infinity');
INSERT INTO usage_events (id, tenant_id, environment, metric, quantity, api_key_id,
                          idempotency_key, occurred_at, created_at)
    SELECT id, tenant_id, environment, metric, quantity, api_key_id, idempotency_key,
           occurred_at, created_at
    FROM usage_events_v1;
INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at)
    SELECT tenant_id, environment, idempotency_key, occurred_at
    FROM usage_events_v1 WHERE idempotency_key IS NOT NULL;
INSERT INTO usage_rollups (tenant_id, environment, metric, granularity, api_key_id, bucket,
                           value, events)
    SELECT tenant_id, environment, metric, g.granularity, k.key_id,
           date_trunc(g.granularity, occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
           sum(quantity), count(*)
    FROM usage_events_v1
    CROSS JOIN (VALUES ('hour'), ('day')) AS g (granularity)
    CROSS JOIN LATERAL (VALUES ('00000000-0000-0000-0000-000000000000'::uuid), (api_key_id))
        AS k (key_id)
    WHERE k.key_id IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6;
DROP TABLE usage_events_v1;

-- Row-level security, forced, on every table above (after the copy, which
-- runs as the owner with no tenant).
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_events_isolation ON usage_events
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY usage_events_platform_admin ON usage_events FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
ALTER TABLE usage_dedup ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_dedup FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_dedup_isolation ON usage_dedup
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY usage_dedup_platform_admin ON usage_dedup FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
ALTER TABLE usage_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_rollups_isolation ON usage_rollups
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY usage_rollups_platform_admin ON usage_rollups FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
ALTER TABLE usage_distinct ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_distinct FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_distinct_isolation ON usage_distinct
    USING (tenant_id = tg_current_tenant())
    WITH CHECK (tenant_id = tg_current_tenant());
CREATE POLICY usage_distinct_platform_admin ON usage_distinct FOR SELECT TO tenantgate_platform_admin
    USING ((SELECT tg_current_user_is_platform_admin()));
-- The owner forgets old idempotency keys of every tenant (in
-- tg_usage_partitions, which sets this): no other role can use it.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY usage_dedup_prune ON usage_dedup TO %I '
                   'USING (current_setting(''app.usage_prune'', true) = ''on'')', current_user);
END
$$;

-- The distinct values of UNIQUE_COUNT metrics are needed only while events
-- of their bucket can still arrive (35 days): the partition upkeep now
-- forgets them with the idempotency keys, so the table stays bounded.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY usage_distinct_prune ON usage_distinct TO %I '
                   'USING (current_setting(''app.usage_prune'', true) = ''on'')', current_user);
END
$$;
