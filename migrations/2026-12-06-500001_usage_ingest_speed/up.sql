-- Usage ingest speed (issue 11: 100,000 events/s). Measured with
-- bench/usage.sh: the per-row checks below were about a quarter of
-- PostgreSQL's CPU per ingested event.
--
-- 1. No per-row foreign keys to tenants on the row-per-event tables: each
--    cost one `SELECT … FOR KEY SHARE` of the tenant per row. usage_events
--    (the partitioned parent and so every month), usage_dedup and
--    usage_distinct lose theirs; usage_rollups (a few rows per batch) keeps
--    its own. A tenant's deletion no longer cascades to those three tables:
--    the erasure job of a later issue deletes a tenant's usage itself, and
--    until then the retention removes it (months dropped, keys and distinct
--    values pruned).
-- Constraint names differ between databases (usage_events was made under
-- a name the v1 table held), so they are looked up.
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT c.conrelid::regclass AS tbl, c.conname
        FROM pg_catalog.pg_constraint c
        WHERE c.contype = 'f' AND c.conparentid = 0
          AND c.confrelid = 'public.tenants'::regclass
          AND c.conrelid IN ('public.usage_events'::regclass, 'public.usage_dedup'::regclass,
                             'public.usage_distinct'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;
END
$$;

-- 2. No regular expression on every raw event's metric: the key was checked
--    by the catalogue (metrics keeps its CHECK) before the event got here.
--    Months made by tg_usage_partition_add copied the parent's constraints
--    as their own (LIKE … INCLUDING CONSTRAINTS), so they drop theirs too.
DO $$
DECLARE
    ck record;
BEGIN
    -- The parent first, then what the months kept as their own.
    FOR ck IN
        SELECT c.conrelid::regclass AS tbl, c.conname
        FROM pg_catalog.pg_constraint c
        WHERE c.contype = 'c'
          AND pg_catalog.pg_get_constraintdef(c.oid) LIKE '%metric ~%'
          AND (c.conrelid = 'public.usage_events'::regclass OR c.conrelid IN (
                SELECT inhrelid FROM pg_catalog.pg_inherits
                WHERE inhparent = 'public.usage_events'::regclass))
        ORDER BY c.conrelid <> 'public.usage_events'::regclass
    LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                   WHERE conrelid = ck.tbl AND conname = ck.conname) THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', ck.tbl, ck.conname);
        END IF;
    END LOOP;
END
$$;

-- 3. Idempotency keys are pruned by recording time, and rows arrive in
--    that order: a BRIN index (a few pages) instead of a btree that took an
--    insert per event. The prune's `recorded_at < $x LIMIT n` becomes a
--    bitmap scan of the oldest page ranges. Caveat: once pruned pages are
--    reused by new keys their ranges widen and the scan reads more of the
--    table; the prune runs in batches off the hot path, so that costs the
--    daily upkeep, not ingest.
DROP INDEX usage_dedup_recorded_idx;
CREATE INDEX usage_dedup_recorded_brin ON usage_dedup USING brin (recorded_at)
    WITH (pages_per_range = 32, autosummarize = on);

-- 4. Distinct values are pruned by bucket; rows are not in bucket order
--    (an hour's and a day's buckets interleave), so a btree. Before this,
--    each prune batch scanned the whole table.
CREATE INDEX usage_distinct_bucket_idx ON usage_distinct (bucket);

-- 5. The two prunes as separate calls (each its own transaction), so a slow
--    one cannot roll back the other's work. Same clamps, batch bounds and
--    busy answer (-1) as tg_usage_prune, which stays defined (its migration
--    is released) but is no longer callable by the runtime role.
CREATE FUNCTION tg_usage_prune_keys(dedup_before timestamptz, batch integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    keys bigint;
BEGIN
    dedup_before := LEAST(dedup_before, now() - interval '36 days');
    batch := LEAST(GREATEST(batch, 1), 10000);
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate usage upkeep')) THEN
        RETURN -1;
    END IF;
    PERFORM set_config('app.usage_prune', 'on', true);
    BEGIN
        DELETE FROM public.usage_dedup WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM public.usage_dedup WHERE recorded_at < dedup_before LIMIT batch));
        GET DIAGNOSTICS keys = ROW_COUNT;
    EXCEPTION WHEN lock_not_available THEN
        keys := -1;
    END;
    PERFORM set_config('app.usage_prune', '', true);
    RETURN keys;
END
$$;

CREATE FUNCTION tg_usage_prune_distinct(distinct_before timestamptz, batch integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '300ms'
    AS $$
DECLARE
    distinct_values bigint;
BEGIN
    distinct_before := LEAST(distinct_before, now() - interval '37 days');
    batch := LEAST(GREATEST(batch, 1), 10000);
    IF NOT pg_try_advisory_xact_lock(hashtext('tenantgate usage upkeep')) THEN
        RETURN -1;
    END IF;
    PERFORM set_config('app.usage_prune', 'on', true);
    BEGIN
        DELETE FROM public.usage_distinct WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM public.usage_distinct WHERE bucket < distinct_before LIMIT batch));
        GET DIAGNOSTICS distinct_values = ROW_COUNT;
    EXCEPTION WHEN lock_not_available THEN
        distinct_values := -1;
    END;
    PERFORM set_config('app.usage_prune', '', true);
    RETURN distinct_values;
END
$$;

REVOKE ALL ON FUNCTION tg_usage_prune_keys(timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION tg_usage_prune_distinct(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_usage_prune_keys(timestamptz, integer) TO tenantgate_app;
GRANT EXECUTE ON FUNCTION tg_usage_prune_distinct(timestamptz, integer) TO tenantgate_app;
REVOKE EXECUTE ON FUNCTION tg_usage_prune(timestamptz, timestamptz, integer) FROM tenantgate_app;
