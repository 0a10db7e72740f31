//! Usage storage: raw events (partitioned by month), idempotency keys,
//! rollups and distinct values, and the partition upkeep. Every write here
//! runs in the caller's tenant transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int8, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::usage_events;

/// A usage event to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = usage_events)]
pub struct NewUsageEvent {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub metric: String,
    pub quantity: i64,
    pub environment: &'static str,
    pub api_key_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
    pub properties: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

/// Stores raw events (the caller has deduplicated them): one statement of
/// nine arrays whatever the batch size. A multi-row `VALUES` of 1,000 rows
/// (10,000 parameters) was parsed, analysed and planned on every call; this
/// text is the same every time, so PostgreSQL's work per call is the rows.
pub async fn insert_events(
    conn: &mut AsyncPgConnection,
    events: &[NewUsageEvent],
) -> QueryResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let id: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let tenant: Vec<Uuid> = events.iter().map(|e| e.tenant_id).collect();
    let metric: Vec<&str> = events.iter().map(|e| e.metric.as_str()).collect();
    let quantity: Vec<i64> = events.iter().map(|e| e.quantity).collect();
    let environment: Vec<&str> = events.iter().map(|e| e.environment).collect();
    let key: Vec<Option<Uuid>> = events.iter().map(|e| e.api_key_id).collect();
    let idem: Vec<Option<&str>> = events
        .iter()
        .map(|e| e.idempotency_key.as_deref())
        .collect();
    let properties: Vec<&serde_json::Value> = events.iter().map(|e| &e.properties).collect();
    let at: Vec<DateTime<Utc>> = events.iter().map(|e| e.occurred_at).collect();
    diesel::sql_query(
        "INSERT INTO usage_events (id, tenant_id, metric, quantity, environment, api_key_id,
                                   idempotency_key, properties, occurred_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int8[], $5::text[],
                              $6::uuid[], $7::text[], $8::jsonb[], $9::timestamptz[])",
    )
    .bind::<Array<SqlUuid>, _>(id)
    .bind::<Array<SqlUuid>, _>(tenant)
    .bind::<Array<Text>, _>(metric)
    .bind::<Array<Int8>, _>(quantity)
    .bind::<Array<Text>, _>(environment)
    .bind::<Array<Nullable<SqlUuid>>, _>(key)
    .bind::<Array<Nullable<Text>>, _>(idem)
    .bind::<Array<Jsonb>, _>(properties)
    .bind::<Array<Timestamptz>, _>(at)
    .execute(conn)
    .await
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    environment: String,
    #[diesel(sql_type = Text)]
    idempotency_key: String,
}

/// Claims idempotency keys of the transaction's tenant, in key order (so
/// concurrent batches lock them in one order); returns the (environment,
/// key) pairs that were new. A key claimed by a transaction not yet
/// committed waits for it: the database decides, once.
pub async fn claim_keys(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    keys: &[(&'static str, String, DateTime<Utc>)],
) -> QueryResult<Vec<(String, String)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let env: Vec<&str> = keys.iter().map(|k| k.0).collect();
    let idem: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let at: Vec<DateTime<Utc>> = keys.iter().map(|k| k.2).collect();
    let rows: Vec<Claimed> = diesel::sql_query(
        "INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at)
         SELECT $1, v.env, v.idem, v.at
         FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS v(env, idem, at)
         ORDER BY v.env, v.idem
         ON CONFLICT DO NOTHING
         RETURNING environment, idempotency_key",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .bind::<Array<Text>, _>(env)
    .bind::<Array<Text>, _>(idem)
    .bind::<Array<Timestamptz>, _>(at)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.environment, r.idempotency_key))
        .collect())
}

/// One rollup bucket's change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub environment: &'static str,
    pub metric: String,
    pub granularity: &'static str,
    /// The key's own share, or [`Uuid::nil`] for the whole tenant.
    pub api_key_id: Uuid,
    pub bucket: DateTime<Utc>,
}

/// Adds to (or, with `max`, raises) the rollups of the transaction's
/// tenant: one statement for the whole batch, rows locked in key order.
pub async fn upsert_rollups(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    rows: &[(RollupKey, i64, i64)],
    max: bool,
) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let env: Vec<&str> = rows.iter().map(|r| r.0.environment).collect();
    let metric: Vec<&str> = rows.iter().map(|r| r.0.metric.as_str()).collect();
    let granularity: Vec<&str> = rows.iter().map(|r| r.0.granularity).collect();
    let key: Vec<Uuid> = rows.iter().map(|r| r.0.api_key_id).collect();
    let bucket: Vec<DateTime<Utc>> = rows.iter().map(|r| r.0.bucket).collect();
    let value: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let events: Vec<i64> = rows.iter().map(|r| r.2).collect();
    diesel::sql_query(
        "INSERT INTO usage_rollups (tenant_id, environment, metric, granularity, api_key_id,
                                    bucket, value, events)
         SELECT $1, v.env, v.metric, v.granularity, v.key, v.bucket, v.value, v.events
         FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[],
                     $7::int8[], $8::int8[])
              AS v(env, metric, granularity, key, bucket, value, events)
         ORDER BY v.env, v.metric, v.granularity, v.key, v.bucket
         ON CONFLICT (tenant_id, environment, metric, granularity, api_key_id, bucket) DO UPDATE
         SET value = CASE WHEN $9 THEN GREATEST(usage_rollups.value, EXCLUDED.value)
                          ELSE usage_rollups.value + EXCLUDED.value END,
             events = usage_rollups.events + EXCLUDED.events,
             updated_at = now()",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .bind::<Array<Text>, _>(env)
    .bind::<Array<Text>, _>(metric)
    .bind::<Array<Text>, _>(granularity)
    .bind::<Array<SqlUuid>, _>(key)
    .bind::<Array<Timestamptz>, _>(bucket)
    .bind::<Array<Int8>, _>(value)
    .bind::<Array<Int8>, _>(events)
    .bind::<Bool, _>(max)
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

/// Records distinct values per bucket; returns, per bucket, one entry for
/// every value not seen there before.
pub async fn insert_distinct(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    rows: &[(RollupKey, String)],
) -> QueryResult<Vec<RollupKey>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let env: Vec<&str> = rows.iter().map(|r| r.0.environment).collect();
    let metric: Vec<&str> = rows.iter().map(|r| r.0.metric.as_str()).collect();
    let granularity: Vec<&str> = rows.iter().map(|r| r.0.granularity).collect();
    let key: Vec<Uuid> = rows.iter().map(|r| r.0.api_key_id).collect();
    let bucket: Vec<DateTime<Utc>> = rows.iter().map(|r| r.0.bucket).collect();
    let value: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let new: Vec<NewDistinct> = diesel::sql_query(
        "INSERT INTO usage_distinct (tenant_id, environment, metric, granularity, api_key_id,
                                     bucket, value)
         SELECT $1, v.env, v.metric, v.granularity, v.key, v.bucket, v.value
         FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[], $7::text[])
              AS v(env, metric, granularity, key, bucket, value)
         ORDER BY 2, 3, 4, 5, 6, 7
         ON CONFLICT DO NOTHING
         RETURNING environment, metric, granularity, api_key_id, bucket",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .bind::<Array<Text>, _>(env)
    .bind::<Array<Text>, _>(metric)
    .bind::<Array<Text>, _>(granularity)
    .bind::<Array<SqlUuid>, _>(key)
    .bind::<Array<Timestamptz>, _>(bucket)
    .bind::<Array<Text>, _>(value)
    .load(conn)
    .await?;
    Ok(new
        .into_iter()
        .filter_map(|r| {
            Some(RollupKey {
                environment: static_environment(&r.environment)?,
                metric: r.metric,
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

/// What the partition upkeep did.
#[derive(Debug, Clone, Default, QueryableByName)]
pub struct PartitionChanges {
    #[diesel(sql_type = Nullable<Array<Text>>)]
    pub created: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    pub dropped: Option<Vec<String>>,
}

/// Creates the monthly partitions of `from..=to`, drops those ending at or
/// before `drop_before`, and forgets idempotency keys of events older than
/// `dedup_before` (as the owner, through `tg_usage_partitions`).
pub async fn maintain_partitions(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    drop_before: DateTime<Utc>,
    dedup_before: DateTime<Utc>,
) -> QueryResult<PartitionChanges> {
    diesel::sql_query("SELECT * FROM tg_usage_partitions($1, $2, $3, $4)")
        .bind::<diesel::sql_types::Timestamptz, _>(from)
        .bind::<diesel::sql_types::Timestamptz, _>(to)
        .bind::<diesel::sql_types::Timestamptz, _>(drop_before)
        .bind::<diesel::sql_types::Timestamptz, _>(dedup_before)
        .get_result(conn)
        .await
}

/// The monthly partitions of `usage_events`, by name (oldest first).
pub async fn partitions(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'usage_events'::regclass ORDER BY 1",
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
        "SELECT COALESCE(sum(value), 0)::bigint AS used FROM usage_rollups
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
        "SELECT metric, COALESCE(sum(value), 0)::bigint AS used FROM usage_rollups
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

/// Which of `keys` are stored already for `tenant` in `environment`.
pub async fn stored_keys(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    environment: &str,
    keys: &[String],
) -> QueryResult<Vec<String>> {
    use super::schema::usage_dedup as d;
    d::table
        .filter(d::tenant_id.eq(tenant))
        .filter(d::environment.eq(environment))
        .filter(d::idempotency_key.eq_any(keys))
        .select(d::idempotency_key)
        .load(conn)
        .await
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

/// Records that `threshold` % of a quota was crossed in `period`; `true`
/// only for the first time (across instances).
pub async fn first_quota_alert(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    metric: &str,
    period: chrono::NaiveDate,
    threshold: i16,
    used: i64,
    quota: i64,
) -> QueryResult<bool> {
    use super::schema::quota_alerts;
    let inserted = diesel::insert_into(quota_alerts::table)
        .values((
            quota_alerts::tenant_id.eq(tenant),
            quota_alerts::metric.eq(metric),
            quota_alerts::period.eq(period),
            quota_alerts::threshold.eq(threshold),
            quota_alerts::used.eq(used),
            quota_alerts::quota.eq(quota),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
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
