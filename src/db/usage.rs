//! Usage storage: raw events (partitioned by month), idempotency keys,
//! rollups and distinct values, and the partition upkeep. Every write here
//! runs in the caller's tenant transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int8, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::prepared::prepared;

/// A usage event to store.
#[derive(Debug, Clone)]
pub struct NewUsageEvent {
    pub tenant_id: Uuid,
    pub metric: String,
    pub quantity: i64,
    pub environment: &'static str,
    pub api_key_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
    pub properties: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
    /// What was recorded under the idempotency key, hashed (kept with the
    /// key in `usage_dedup`, not in the event).
    pub fingerprint: i64,
    /// How much `authorize` took from the monthly quota for this event (0:
    /// nothing), given back if the database finds it a duplicate.
    pub held: i64,
    /// The monthly quota this event counts against (from its reservation):
    /// after it is stored, the thresholds its metric's stored total reached
    /// are announced in the same transaction.
    pub quota: Option<QuotaMark>,
}

/// The monthly quota an event counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaMark {
    /// The month's first instant (UTC).
    pub period: DateTime<Utc>,
    /// The month after's first instant (UTC).
    pub next: DateTime<Utc>,
    pub limit: i64,
}

/// One threshold newly reached (its `quota_alerts` row just inserted).
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct ReachedThreshold {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub metric: String,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub period: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::SmallInt)]
    pub threshold: i16,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub used: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub quota: i64,
}

/// Stores raw events (the caller has deduplicated them) of one tenant: one
/// `usage_batches` row (parallel arrays) per environment and UTC month
/// among them, so a call of 1,000 events is usually one row and one
/// statement. A row per event cost two b-tree entries each, about a third
/// of PostgreSQL's CPU per ingested event (bench/usage.sh).
pub async fn insert_events(
    conn: &mut AsyncPgConnection,
    events: &[&NewUsageEvent],
) -> QueryResult<usize> {
    // Group by (environment, month), keeping each group's events in order.
    type Group<'a> = ((&'static str, DateTime<Utc>), Vec<&'a NewUsageEvent>);
    let mut groups: Vec<Group> = Vec::new();
    for event in events {
        // The UTC month holding the event: the partition it goes in.
        let key = (
            event.environment,
            crate::usage::quotas::period(event.occurred_at).0,
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(event),
            None => groups.push((key, vec![event])),
        }
    }
    for ((environment, month), group) in &groups {
        let count = i32::try_from(group.len()).unwrap_or(i32::MAX);
        let metric: Vec<&str> = group.iter().map(|e| e.metric.as_str()).collect();
        let quantity: Vec<i64> = group.iter().map(|e| e.quantity).collect();
        let key: Vec<Option<Uuid>> = group.iter().map(|e| e.api_key_id).collect();
        let idem: Vec<Option<&str>> = group.iter().map(|e| e.idempotency_key.as_deref()).collect();
        // `{}` (most events) is stored as NULL.
        let properties: Vec<Option<&serde_json::Value>> = group
            .iter()
            .map(|e| Some(&e.properties).filter(|p| p.as_object().is_none_or(|o| !o.is_empty())))
            .collect();
        let at: Vec<DateTime<Utc>> = group.iter().map(|e| e.occurred_at).collect();
        prepared(
            "INSERT INTO usage_batches (id, tenant_id, environment, month, events, metrics,
                                        quantities, api_key_ids, idempotency_keys, properties,
                                        occurred_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            |q| {
                q.bind::<SqlUuid, _>(Uuid::now_v7())
                    .bind::<SqlUuid, _>(group[0].tenant_id)
                    .bind::<Text, _>(*environment)
                    .bind::<Timestamptz, _>(*month)
                    .bind::<diesel::sql_types::Integer, _>(count)
                    .bind::<Array<Text>, _>(metric)
                    .bind::<Array<Int8>, _>(quantity)
                    .bind::<Array<Nullable<SqlUuid>>, _>(key)
                    .bind::<Array<Nullable<Text>>, _>(idem)
                    .bind::<Array<Nullable<Jsonb>>, _>(properties)
                    .bind::<Array<Timestamptz>, _>(at)
            },
        )
        .execute(conn)
        .await?;
    }
    Ok(events.len())
}

/// One idempotency key to claim: environment, key, event time, fingerprint.
pub type Claim<'a> = (&'static str, &'a str, DateTime<Utc>, i64);

/// Claims idempotency keys of the transaction's tenant, in the primary
/// key's order (bytewise: so concurrent batches lock them in one order and
/// the inserts walk the index forward); returns the positions (in
/// `keys`, ascending) of those stored before, which were not claimed. A key
/// claimed by a transaction not yet committed waits for it: the database
/// decides, once.
///
/// Most keys are new (a retried batch is the exception), so the keys are
/// first inserted as they are, in a savepoint: one index descent per key.
/// Only when one was stored before does that fail (unique violation), and
/// the claim is made again with `ON CONFLICT DO NOTHING`, whose arbiter
/// check costs a second descent per key.
pub async fn claim_keys(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    keys: &[Claim<'_>],
) -> QueryResult<Vec<usize>> {
    use diesel::result::{DatabaseErrorKind, Error};
    use diesel_async::AsyncConnection;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let env: Vec<&str> = keys.iter().map(|k| k.0).collect();
    let idem: Vec<&str> = keys.iter().map(|k| k.1).collect();
    let at: Vec<DateTime<Utc>> = keys.iter().map(|k| k.2).collect();
    let print: Vec<i64> = keys.iter().map(|k| k.3).collect();
    let (env_ref, idem_ref, at_ref, print_ref) = (&env, &idem, &at, &print);
    let all_new = conn
        .transaction::<_, Error, _>(async |conn: &mut AsyncPgConnection| {
            prepared(
                "INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at,
                                          fingerprint)
                 SELECT $1, v.env, v.idem, v.at, v.print
                 FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::int8[])
                      AS v(env, idem, at, print)
                 ORDER BY v.idem COLLATE \"C\", v.env COLLATE \"C\"",
                |q| {
                    q.bind::<SqlUuid, _>(tenant)
                        .bind::<Array<Text>, _>(env_ref)
                        .bind::<Array<Text>, _>(idem_ref)
                        .bind::<Array<Timestamptz>, _>(at_ref)
                        .bind::<Array<Int8>, _>(print_ref)
                },
            )
            .execute(conn)
            .await
        })
        .await;
    match all_new {
        Ok(_) => return Ok(Vec::new()),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(err) => return Err(err),
    }
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = Int8)]
        position: i64,
    }
    // The keys not claimed now: their positions (1-based in the arrays).
    let taken: Vec<Taken> = prepared(
        "WITH claimed AS (
             INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at,
                                      fingerprint)
             SELECT $1, v.env, v.idem, v.at, v.print
             FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::int8[])
                  AS v(env, idem, at, print)
             ORDER BY v.idem COLLATE \"C\", v.env COLLATE \"C\"
             ON CONFLICT DO NOTHING
             RETURNING environment, idempotency_key)
         SELECT v.n AS position
         FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS v(env, idem, n)
         WHERE NOT EXISTS (SELECT 1 FROM claimed c
                           WHERE c.idempotency_key = v.idem AND c.environment = v.env)",
        |q| {
            q.bind::<SqlUuid, _>(tenant)
                .bind::<Array<Text>, _>(&env)
                .bind::<Array<Text>, _>(&idem)
                .bind::<Array<Timestamptz>, _>(&at)
                .bind::<Array<Int8>, _>(&print)
        },
    )
    .load(conn)
    .await?;
    Ok(taken
        .into_iter()
        .filter_map(|t| usize::try_from(t.position - 1).ok())
        .collect())
}

/// The fingerprints of stored keys: $1 tenant, $2 environments, $3 keys
/// (one probe of the primary key each; a test checks the plan).
pub const KEY_FINGERPRINTS: &str = "SELECT v.n AS position, d.fingerprint
     FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS v(env, idem, n)
     JOIN usage_dedup d ON d.tenant_id = $1 AND d.idempotency_key = v.idem
                       AND d.environment = v.env";

/// The fingerprints stored with `keys` (environment, key) of the
/// transaction's tenant, in the order given: `Some(None)` for a key stored
/// before fingerprints were kept, `None` for a key not stored.
pub async fn key_fingerprints(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    keys: &[(&str, &str)],
) -> QueryResult<Vec<Option<Option<i64>>>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Int8)]
        position: i64,
        #[diesel(sql_type = Nullable<Int8>)]
        fingerprint: Option<i64>,
    }
    let mut found = vec![None; keys.len()];
    if keys.is_empty() {
        return Ok(found);
    }
    let env: Vec<&str> = keys.iter().map(|k| k.0).collect();
    let idem: Vec<&str> = keys.iter().map(|k| k.1).collect();
    let rows: Vec<Row> = prepared(KEY_FINGERPRINTS, |q| {
        q.bind::<SqlUuid, _>(tenant)
            .bind::<Array<Text>, _>(env)
            .bind::<Array<Text>, _>(idem)
    })
    .load(conn)
    .await?;
    for row in rows {
        if let Some(slot) = usize::try_from(row.position - 1)
            .ok()
            .and_then(|n| found.get_mut(n))
        {
            *slot = Some(row.fingerprint);
        }
    }
    Ok(found)
}

/// One rollup bucket's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey<'a> {
    pub environment: &'static str,
    pub metric: &'a str,
    pub granularity: &'static str,
    /// The key's own share, or [`Uuid::nil`] for the whole tenant.
    pub api_key_id: Uuid,
    pub bucket: DateTime<Utc>,
}

/// Adds to (or, with `max`, raises) the rollups of the transaction's
/// tenant: one statement for the whole batch, rows locked in key order. A
/// sum past the largest bigint stays at it (saturates) rather than failing
/// every later batch of its bucket.
pub async fn upsert_rollups(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    rows: &[(RollupKey<'_>, i64, i64)],
    max: bool,
) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let env: Vec<&str> = rows.iter().map(|r| r.0.environment).collect();
    let metric: Vec<&str> = rows.iter().map(|r| r.0.metric).collect();
    let granularity: Vec<&str> = rows.iter().map(|r| r.0.granularity).collect();
    let key: Vec<Uuid> = rows.iter().map(|r| r.0.api_key_id).collect();
    let bucket: Vec<DateTime<Utc>> = rows.iter().map(|r| r.0.bucket).collect();
    let value: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let events: Vec<i64> = rows.iter().map(|r| r.2).collect();
    prepared(
        "INSERT INTO usage_rollups (tenant_id, environment, metric, granularity, api_key_id,
                                    bucket, value, events)
         SELECT $1, v.env, v.metric, v.granularity, v.key, v.bucket, v.value, v.events
         FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[],
                     $7::int8[], $8::int8[])
              AS v(env, metric, granularity, key, bucket, value, events)
         ORDER BY v.env, v.metric, v.granularity, v.key, v.bucket
         ON CONFLICT (tenant_id, environment, metric, granularity, api_key_id, bucket) DO UPDATE
         SET value = CASE WHEN $9 THEN GREATEST(usage_rollups.value, EXCLUDED.value)
                          ELSE LEAST(usage_rollups.value::numeric + EXCLUDED.value,
                                     9223372036854775807)::bigint END,
             events = LEAST(usage_rollups.events::numeric + EXCLUDED.events,
                            9223372036854775807)::bigint,
             updated_at = now()",
        |q| {
            q.bind::<diesel::sql_types::Uuid, _>(tenant)
                .bind::<Array<Text>, _>(env)
                .bind::<Array<Text>, _>(metric)
                .bind::<Array<Text>, _>(granularity)
                .bind::<Array<SqlUuid>, _>(key)
                .bind::<Array<Timestamptz>, _>(bucket)
                .bind::<Array<Int8>, _>(value)
                .bind::<Array<Int8>, _>(events)
                .bind::<Bool, _>(max)
        },
    )
    .execute(conn)
    .await
}

#[derive(QueryableByName)]
struct NewDistinct {
    #[diesel(sql_type = Text)]
    environment: String,
    #[diesel(sql_type = Text)]
    metric: String,
    #[diesel(sql_type = Text)]
    granularity: String,
    #[diesel(sql_type = SqlUuid)]
    api_key_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    bucket: DateTime<Utc>,
}

/// Records distinct values per bucket, each as its digest (16 bytes of
/// SHA-256); returns, per bucket, one entry for every value not seen there
/// before.
pub async fn insert_distinct<'a>(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    rows: &[(RollupKey<'a>, [u8; 16])],
) -> QueryResult<Vec<RollupKey<'a>>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let env: Vec<&str> = rows.iter().map(|r| r.0.environment).collect();
    let metric: Vec<&str> = rows.iter().map(|r| r.0.metric).collect();
    let granularity: Vec<&str> = rows.iter().map(|r| r.0.granularity).collect();
    let key: Vec<Uuid> = rows.iter().map(|r| r.0.api_key_id).collect();
    let bucket: Vec<DateTime<Utc>> = rows.iter().map(|r| r.0.bucket).collect();
    let digest: Vec<&[u8]> = rows.iter().map(|r| r.1.as_slice()).collect();
    let new: Vec<NewDistinct> = prepared(
        "INSERT INTO usage_distinct (tenant_id, environment, metric, granularity, api_key_id,
                                     bucket, digest)
         SELECT $1, v.env, v.metric, v.granularity, v.key, v.bucket, v.digest
         FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[], $7::bytea[])
              AS v(env, metric, granularity, key, bucket, digest)
         ORDER BY 2, 3, 4, 5, 6, 7
         ON CONFLICT DO NOTHING
         RETURNING environment, metric, granularity, api_key_id, bucket",
        |q| {
            q.bind::<diesel::sql_types::Uuid, _>(tenant)
                .bind::<Array<Text>, _>(env)
                .bind::<Array<Text>, _>(metric)
                .bind::<Array<Text>, _>(granularity)
                .bind::<Array<SqlUuid>, _>(key)
                .bind::<Array<Timestamptz>, _>(bucket)
                .bind::<Array<diesel::sql_types::Bytea>, _>(digest)
        },
    )
    .load(conn)
    .await?;
    // The metrics as the caller holds them (a batch names a few).
    let mut metrics: Vec<&'a str> = rows.iter().map(|r| r.0.metric).collect();
    metrics.sort_unstable();
    metrics.dedup();
    Ok(new
        .into_iter()
        .filter_map(|r| {
            Some(RollupKey {
                environment: static_environment(&r.environment)?,
                metric: metrics
                    .binary_search(&r.metric.as_str())
                    .ok()
                    .map(|n| metrics[n])?,
                granularity: static_granularity(&r.granularity)?,
                api_key_id: r.api_key_id,
                bucket: r.bucket,
            })
        })
        .collect())
}

fn static_environment(s: &str) -> Option<&'static str> {
    match s {
        "live" => Some("live"),
        "test" => Some("test"),
        _ => None,
    }
}

fn static_granularity(s: &str) -> Option<&'static str> {
    match s {
        "hour" => Some("hour"),
        "day" => Some("day"),
        _ => None,
    }
}

/// Makes the month holding `month` (standalone, then attached) as the
/// owner, through `tg_usage_partition_add`: its name, `None` when it
/// exists, `"busy"` when another instance runs the upkeep or a lock was not
/// had within the step's lock_timeout.
pub async fn add_partition(
    conn: &mut AsyncPgConnection,
    month: DateTime<Utc>,
) -> QueryResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Made {
        #[diesel(sql_type = Nullable<Text>)]
        name: Option<String>,
    }
    let made: Made = diesel::sql_query("SELECT tg_usage_partition_add($1) AS name")
        .bind::<Timestamptz, _>(month)
        .get_result(conn)
        .await?;
    Ok(made.name)
}

/// Detaches (`drop = false`) or drops (`drop = true`, the detached ones)
/// the months ending at or before `before`: their names, or `None` when
/// busy (nothing done).
pub async fn retire_partitions(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    drop: bool,
) -> QueryResult<Option<Vec<String>>> {
    #[derive(QueryableByName)]
    struct Gone {
        #[diesel(sql_type = Nullable<Array<Text>>)]
        names: Option<Vec<String>>,
    }
    let sql = if drop {
        "SELECT tg_usage_partition_drop($1) AS names"
    } else {
        "SELECT tg_usage_partition_detach($1) AS names"
    };
    let gone: Gone = diesel::sql_query(sql)
        .bind::<Timestamptz, _>(before)
        .get_result(conn)
        .await?;
    Ok(gone.names)
}

/// What [`prune`] forgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prune {
    /// Idempotency keys recorded before the cut-off (clamped to 36 days ago).
    Keys,
    /// Distinct values of buckets before the cut-off (clamped to 37 days ago).
    Distinct,
}

/// Forgets at most `batch` rows of `what` from before `before`, in a call
/// of its own (so a slow prune of one table never rolls back the other's);
/// the rows deleted, or -1 when another instance runs the upkeep.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    what: Prune,
    before: DateTime<Utc>,
    batch: i32,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Pruned {
        #[diesel(sql_type = Int8)]
        n: i64,
    }
    let sql = match what {
        Prune::Keys => "SELECT tg_usage_prune_keys($1, $2) AS n",
        Prune::Distinct => "SELECT tg_usage_prune_distinct($1, $2) AS n",
    };
    let pruned: Pruned = diesel::sql_query(sql)
        .bind::<Timestamptz, _>(before)
        .bind::<diesel::sql_types::Integer, _>(batch)
        .get_result(conn)
        .await?;
    Ok(pruned.n)
}

/// The monthly partitions of `usage_batches` (raw events), by name (oldest first).
pub async fn partitions(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'usage_batches'::regclass ORDER BY 1",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

#[derive(diesel::QueryableByName)]
struct Used {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    used: i64,
}

/// Live usage of `metric` by `tenant` in [from, to), from the whole-tenant
/// daily rollups.
pub async fn used_in_db(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    metric: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> diesel::QueryResult<i64> {
    let row: Used = diesel::sql_query(
        "SELECT LEAST(COALESCE(sum(value), 0), 9223372036854775807)::bigint AS used FROM usage_rollups
         WHERE tenant_id = $1 AND environment = 'live' AND metric = $2 AND granularity = 'day'
           AND api_key_id = '00000000-0000-0000-0000-000000000000' AND bucket >= $3 AND bucket < $4",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .bind::<diesel::sql_types::Text, _>(metric)
    .bind::<diesel::sql_types::Timestamptz, _>(from)
    .bind::<diesel::sql_types::Timestamptz, _>(to)
    .get_result(conn)
    .await?;
    Ok(row.used)
}

/// Live usage per metric by `tenant` in [from, to).
pub async fn all_used_in_db(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> diesel::QueryResult<std::collections::HashMap<String, i64>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        metric: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        used: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT metric, LEAST(COALESCE(sum(value), 0), 9223372036854775807)::bigint AS used FROM usage_rollups
         WHERE tenant_id = $1 AND environment = 'live' AND granularity = 'day'
           AND api_key_id = '00000000-0000-0000-0000-000000000000' AND bucket >= $2 AND bucket < $3
         GROUP BY metric",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .bind::<diesel::sql_types::Timestamptz, _>(from)
    .bind::<diesel::sql_types::Timestamptz, _>(to)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.metric, r.used)).collect())
}

/// The key of `tenant`'s plan.
pub async fn tenant_plan_key(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<String> {
    use super::schema::tenants;
    tenants::table
        .find(tenant)
        .select(tenants::plan_key)
        .first::<String>(conn)
        .await
}

/// Records every threshold of `thresholds` (percent) already reached by
/// `tenant`'s STORED live usage of each (metric, month, quota) in `quotas`
/// (sorted by metric and month, at most one each): one statement reading
/// the month's whole-tenant daily rollups (the rollups' primary key) and
/// inserting the `quota_alerts` rows in (metric, month, threshold) order,
/// so it locks in one order like the sorted rollup upserts. A row already
/// there is left alone (ON CONFLICT DO NOTHING): what it returns is each
/// threshold reached for the first time, with the stored total.
pub async fn record_reached_thresholds(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    quotas: &[(&str, QuotaMark)],
    thresholds: &[i16],
) -> QueryResult<Vec<ReachedThreshold>> {
    if quotas.is_empty() {
        return Ok(Vec::new());
    }
    let metric: Vec<&str> = quotas.iter().map(|(m, _)| *m).collect();
    let from: Vec<DateTime<Utc>> = quotas.iter().map(|(_, q)| q.period).collect();
    let day: Vec<chrono::NaiveDate> = from.iter().map(|p| p.date_naive()).collect();
    let to: Vec<DateTime<Utc>> = quotas.iter().map(|(_, q)| q.next).collect();
    let limit: Vec<i64> = quotas.iter().map(|(_, q)| q.limit).collect();
    let mut reached: Vec<ReachedThreshold> = diesel::sql_query(
        "WITH reached AS (
           INSERT INTO quota_alerts (tenant_id, metric, period, threshold, used, quota)
           SELECT $1, m.metric, m.day, t.threshold, u.used, m.quota
           FROM unnest($2::text[], $3::date[], $4::timestamptz[], $5::timestamptz[], $6::int8[])
                AS m(metric, day, start, stop, quota)
           CROSS JOIN LATERAL (
             SELECT LEAST(COALESCE(sum(r.value), 0), 9223372036854775807)::bigint AS used
             FROM usage_rollups r
             WHERE r.tenant_id = $1 AND r.environment = 'live' AND r.metric = m.metric
               AND r.granularity = 'day' AND r.api_key_id = '00000000-0000-0000-0000-000000000000'
               AND r.bucket >= m.start AND r.bucket < m.stop
           ) u
           CROSS JOIN unnest($7::int2[]) AS t(threshold)
           WHERE m.quota > 0 AND u.used::numeric * 100 >= m.quota::numeric * t.threshold
           ORDER BY m.metric, m.day, t.threshold
           ON CONFLICT DO NOTHING
           RETURNING metric, period, threshold, used, quota
         )
         SELECT r.metric, m.start AS period, r.threshold, r.used, r.quota
         FROM reached r JOIN unnest($2::text[], $3::date[], $4::timestamptz[])
              AS m(metric, day, start) ON m.metric = r.metric AND m.day = r.period",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(metric)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Date>, _>(day)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Timestamptz>, _>(from)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Timestamptz>, _>(to)
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(limit)
    .bind::<diesel::sql_types::Array<diesel::sql_types::SmallInt>, _>(thresholds.to_vec())
    .load(conn)
    .await?;
    reached.sort_by(|a, b| {
        (&a.metric, a.period, a.threshold).cmp(&(&b.metric, b.period, b.threshold))
    });
    Ok(reached)
}

/// The emails of the tenant's owners (at most 50).
pub async fn owner_emails(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<Vec<String>> {
    use super::schema::{memberships, users};
    memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant))
        .filter(memberships::role.eq("owner"))
        .select(users::email)
        .order(users::email)
        .limit(50)
        .load(conn)
        .await
}
