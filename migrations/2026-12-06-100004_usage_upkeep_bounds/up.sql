-- The partition upkeep runs as its owner (SECURITY DEFINER) for the runtime
-- role: it no longer trusts the caller's cutoffs beyond the retention policy
-- (a caller could otherwise drop every month and forget every idempotency
-- key), and it resolves catalogue names in pg_catalog only (no pg_temp
-- shadowing).
CREATE OR REPLACE FUNCTION tg_usage_partitions(from_at timestamptz, to_at timestamptz,
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
    -- cutoffs can only be earlier than the policy's, and months are made
    -- only near now.
    drop_before := LEAST(drop_before,
        (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - interval '13 months');
    dedup_before := LEAST(dedup_before, now() - interval '36 days');
    IF from_at < now() - interval '14 months' OR to_at > now() + interval '2 years'
            OR to_at < from_at THEN
        RAISE EXCEPTION 'partitions are made between 14 months ago and 2 years ahead';
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
