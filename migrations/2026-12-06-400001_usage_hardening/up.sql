-- Usage hardening (issue 11 review).
--
-- Idempotency keys: kept by when they were recorded (not by their event's
-- time), so a key is deduplicated for at least 36 days from its recording;
-- and a short fingerprint of what was recorded under it (metric, quantity,
-- time, properties), so that reusing a key for other content is refused
-- rather than answered DUPLICATE. Keys recorded before this migration have
-- no fingerprint (any retry of them is a duplicate) and count as recorded now.
ALTER TABLE usage_dedup ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE usage_dedup ADD COLUMN fingerprint bigint;
CREATE INDEX usage_dedup_recorded_idx ON usage_dedup (recorded_at);
DROP INDEX usage_dedup_occurred_idx;

-- Distinct values of UNIQUE_COUNT metrics: a 16-byte SHA-256 prefix of the
-- value instead of the value itself in the primary key (a ~3 KB value did
-- not fit a btree row). `value` stays, nullable and no longer written, so
-- that rolling back loses nothing; its rows are pruned within 37 days.
SELECT set_config('app.usage_prune', 'on', true);
ALTER TABLE usage_distinct ADD COLUMN digest bytea;
UPDATE usage_distinct SET digest = substring(sha256(convert_to(value, 'UTF8')) FROM 1 FOR 16);
ALTER TABLE usage_distinct ALTER COLUMN digest SET NOT NULL;
ALTER TABLE usage_distinct DROP CONSTRAINT usage_distinct_pkey;
ALTER TABLE usage_distinct ADD PRIMARY KEY
    (tenant_id, environment, metric, granularity, api_key_id, bucket, digest);
ALTER TABLE usage_distinct ALTER COLUMN value DROP NOT NULL;
SELECT set_config('app.usage_prune', '', true);

-- Partition upkeep in short steps that never stall ingest (replacing
-- tg_usage_partitions, which made and dropped months and pruned every old
-- key in one transaction holding ACCESS EXCLUSIVE on usage_events). Each
-- step is its own transaction, run by the server as the owner; each takes
-- the upkeep's advisory lock (or does nothing when another instance holds
-- it) and gives up on a lock it cannot get within lock_timeout (the next
-- run retries). As before, the runtime role picks the clock (for tests) but
-- never more destruction than the retention allows as of the real time.

-- Makes the month holding `month_at` as a standalone table, then attaches
-- it (SHARE UPDATE EXCLUSIVE on usage_events: inserts go on). Returns its
-- name; NULL when it exists already; 'busy' when another instance runs the
-- upkeep or a lock was not had within lock_timeout (nothing done).
CREATE FUNCTION tg_usage_partition_add(month_at timestamptz) RETURNS text
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
CREATE FUNCTION tg_usage_partition_detach(drop_before timestamptz) RETURNS text[]
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
CREATE FUNCTION tg_usage_partition_drop(drop_before timestamptz) RETURNS text[]
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

-- Forgets at most `batch` (1 to 10,000) idempotency keys recorded before
-- `dedup_before` (clamped to 36 days ago) and at most `batch` distinct
-- values of buckets before `distinct_before` (clamped to 37 days ago).
-- Returns the rows deleted, or -1 when busy (another instance runs the
-- upkeep, or a row lock not had within lock_timeout: nothing done).
CREATE FUNCTION tg_usage_prune(dedup_before timestamptz, distinct_before timestamptz,
                               batch integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    keys bigint;
    distinct_values bigint;
BEGIN
    dedup_before := LEAST(dedup_before, now() - interval '36 days');
    distinct_before := LEAST(distinct_before, now() - interval '37 days');
    batch := LEAST(GREATEST(batch, 1), 10000);
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate usage upkeep')) THEN
        RETURN -1;
    END IF;
    PERFORM set_config('app.usage_prune', 'on', true);
    BEGIN
        DELETE FROM public.usage_dedup WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM public.usage_dedup WHERE recorded_at < dedup_before LIMIT batch));
        GET DIAGNOSTICS keys = ROW_COUNT;
        DELETE FROM public.usage_distinct WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM public.usage_distinct WHERE bucket < distinct_before LIMIT batch));
        GET DIAGNOSTICS distinct_values = ROW_COUNT;
    EXCEPTION WHEN lock_not_available THEN
        keys := -1;
        distinct_values := 0;
    END;
    PERFORM set_config('app.usage_prune', '', true);
    RETURN keys + distinct_values;
END
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['tg_usage_partition_add(timestamptz)',
                             'tg_usage_partition_detach(timestamptz)',
                             'tg_usage_partition_drop(timestamptz)',
                             'tg_usage_prune(timestamptz, timestamptz, integer)'] LOOP
        EXECUTE 'REVOKE ALL ON FUNCTION ' || f || ' FROM PUBLIC';
        EXECUTE 'GRANT EXECUTE ON FUNCTION ' || f || ' TO tenantgate_app';
    END LOOP;
END
$$;
-- The old all-in-one upkeep stays defined (its migration is released) but
-- the runtime role may no longer call it.
REVOKE EXECUTE ON FUNCTION tg_usage_partitions(timestamptz, timestamptz, timestamptz, timestamptz)
    FROM tenantgate_app;
