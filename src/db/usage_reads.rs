//! Reading usage back from the rollups (never the raw events): a tenant's
//! series, keys' series, the top keys of a tenant, and the platform-wide
//! series, top tenants and today's totals. Each function is one statement;
//! the tenant reads run under the caller's tenant transaction (row-level
//! security), the platform-wide ones on the platform-admin path.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// The statement of [`series`] (public so a test can EXPLAIN it).
pub const SERIES_SQL: &str = "SELECT environment, api_key_id, bucket, value FROM usage_rollups
         WHERE tenant_id = $1 AND environment = ANY($2) AND metric = $3 AND granularity = $4
           AND api_key_id = ANY($5) AND bucket >= $6 AND bucket < $7
         UNION ALL
         SELECT environment, api_key_id, NULL, count(DISTINCT digest) FROM usage_distinct
         WHERE $8 AND tenant_id = $1 AND environment = ANY($2) AND metric = $3 AND granularity = $9
           AND api_key_id = ANY($5) AND bucket >= $6 AND bucket < $7
         GROUP BY environment, api_key_id";

/// The statement of [`grouped`].
pub const GROUPED_SQL: &str = "WITH keyed AS (
           SELECT r.api_key_id, r.bucket, r.value FROM usage_rollups r
           WHERE r.tenant_id = $1 AND r.environment = $2 AND r.metric = $3 AND r.granularity = $4
             AND r.api_key_id IN (SELECT k.id FROM api_keys k WHERE k.tenant_id = $1)
             AND r.bucket >= $5 AND r.bucket < $6
         ), distinct_n AS (
           SELECT d.api_key_id, count(DISTINCT d.digest) AS n FROM usage_distinct d
           WHERE $7 AND d.tenant_id = $1 AND d.environment = $2 AND d.metric = $3
             AND d.granularity = $11 AND d.bucket >= $5 AND d.bucket < $6
           GROUP BY d.api_key_id
         ), top AS (
           SELECT k.api_key_id,
                  (CASE $8 WHEN 'max' THEN max(k.value)
                           WHEN 'unique_count' THEN GREATEST(max(k.value), max(dn.n))
                           ELSE sum(k.value) END)::bigint AS total
           FROM keyed k LEFT JOIN distinct_n dn USING (api_key_id)
           GROUP BY k.api_key_id ORDER BY 2 DESC, 1 LIMIT $9
         )
         SELECT 0 AS kind, r.api_key_id, r.bucket, r.value, NULL::text AS name, NULL::text AS prefix
         FROM usage_rollups r
         WHERE r.tenant_id = $1 AND r.environment = $2 AND r.metric = $3 AND r.granularity = $4
           AND r.api_key_id = '00000000-0000-0000-0000-000000000000'
           AND r.bucket >= $5 AND r.bucket < $6
         UNION ALL
         SELECT 1, k.api_key_id, k.bucket, k.value, NULL, NULL FROM keyed k JOIN top USING (api_key_id)
         UNION ALL
         SELECT 2, t.api_key_id, NULL, t.total, a.name, a.display_prefix
         FROM top t JOIN api_keys a ON a.id = t.api_key_id AND a.tenant_id = $1
         UNION ALL
         SELECT 3, NULL, k.bucket, sum(k.value)::bigint, NULL, NULL FROM keyed k WHERE $10
         GROUP BY k.bucket
         UNION ALL
         SELECT 4, NULL, NULL, dn.n, NULL, NULL FROM distinct_n dn
         WHERE dn.api_key_id = '00000000-0000-0000-0000-000000000000'";

/// The statement of [`platform_series`].
pub const PLATFORM_SERIES_SQL: &str =
    "SELECT bucket, (CASE WHEN $5 = 'max' THEN max(value) ELSE sum(value) END)::bigint AS value
         FROM usage_rollups
         WHERE granularity = $2 AND bucket >= $3 AND bucket < $4 AND metric = $1
           AND environment = 'live' AND api_key_id = '00000000-0000-0000-0000-000000000000'
         GROUP BY bucket
         UNION ALL
         SELECT NULL, count(DISTINCT (tenant_id, digest)) FROM usage_distinct
         WHERE $6 AND granularity = $7 AND bucket >= $3 AND bucket < $4 AND metric = $1
           AND environment = 'live' AND api_key_id = '00000000-0000-0000-0000-000000000000'";

/// The statement of [`top_consumers`].
pub const TOP_CONSUMERS_SQL: &str = "WITH distinct_n AS (
           SELECT tenant_id, count(DISTINCT digest) AS n FROM usage_distinct
           WHERE $6 AND granularity = $8 AND bucket >= $3 AND bucket < $4 AND metric = $1
             AND environment = 'live' AND api_key_id = '00000000-0000-0000-0000-000000000000'
           GROUP BY tenant_id
         ), totals AS (
           SELECT r.tenant_id,
                  (CASE $5 WHEN 'max' THEN max(r.value)
                           WHEN 'unique_count' THEN GREATEST(max(r.value), max(dn.n))
                           ELSE sum(r.value) END)::bigint AS total
           FROM usage_rollups r LEFT JOIN distinct_n dn USING (tenant_id)
           WHERE r.granularity = $2 AND r.bucket >= $3 AND r.bucket < $4 AND r.metric = $1
             AND r.environment = 'live' AND r.api_key_id = '00000000-0000-0000-0000-000000000000'
           GROUP BY r.tenant_id
         )
         SELECT t.id, t.name, t.slug, totals.total FROM totals JOIN tenants t ON t.id = totals.tenant_id
         ORDER BY totals.total DESC, t.id LIMIT $7";

/// The statement of [`platform_day`].
pub const PLATFORM_DAY_SQL: &str =
    "SELECT COALESCE(sum(value) FILTER (WHERE metric = 'api_calls'), 0)::bigint AS api_calls,
                COALESCE(sum(events), 0)::bigint AS events
         FROM usage_rollups
         WHERE granularity = 'day' AND bucket = $1
           AND environment = 'live' AND api_key_id = '00000000-0000-0000-0000-000000000000'";

/// What one read asks for: a metric's buckets of one granularity in
/// `[from, to)` (bucket starts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range {
    pub metric: String,
    /// `hour` or `day`.
    pub granularity: &'static str,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The metric's aggregation (`sum`, `count`, `max`, `unique_count`).
    pub aggregation: &'static str,
}

impl Range {
    fn unique(&self) -> bool {
        self.aggregation == "unique_count"
    }

    /// The rows a range's distinct count reads: the daily ones when the
    /// range is whole UTC days (every event adds its value to its hour and
    /// its day, so the count is the same, over 24 times fewer rows), else
    /// the range's own.
    pub fn distinct_granularity(&self) -> &'static str {
        use chrono::Timelike;
        let midnight =
            |at: DateTime<Utc>| at.num_seconds_from_midnight() == 0 && at.nanosecond() == 0;
        if midnight(self.from) && midnight(self.to) {
            "day"
        } else {
            self.granularity
        }
    }
}

/// One row of a series read: a bucket's value, or (with no bucket) the
/// number of distinct values kept for the whole range (`unique_count`).
#[derive(Debug, Clone, QueryableByName)]
pub struct SeriesRow {
    #[diesel(sql_type = Text)]
    pub environment: String,
    #[diesel(sql_type = SqlUuid)]
    pub api_key_id: Uuid,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub bucket: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub value: i64,
}

/// The buckets of `keys` (the nil uuid: the whole tenant) of `tenant` in
/// `environments`, with the distinct count of the range for `unique_count`
/// metrics: one statement on the rollups' primary key.
pub async fn series(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    environments: &[&str],
    keys: &[Uuid],
    range: &Range,
) -> QueryResult<Vec<SeriesRow>> {
    diesel::sql_query(SERIES_SQL)
        .bind::<SqlUuid, _>(tenant)
        .bind::<Array<Text>, _>(environments)
        .bind::<Text, _>(&range.metric)
        .bind::<Text, _>(range.granularity)
        .bind::<Array<SqlUuid>, _>(keys)
        .bind::<Timestamptz, _>(range.from)
        .bind::<Timestamptz, _>(range.to)
        .bind::<Bool, _>(range.unique())
        .bind::<Text, _>(range.distinct_granularity())
        .load(conn)
        .await
}

/// One row of [`grouped`]; `kind` says which.
#[derive(Debug, Clone, QueryableByName)]
pub struct GroupedRow {
    /// 0: a bucket of the whole tenant; 1: a bucket of a top key; 2: a top
    /// key's total, name and prefix; 3: a bucket summed over every key; 4:
    /// the whole tenant's distinct count of the range.
    #[diesel(sql_type = Integer)]
    pub kind: i32,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub api_key_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub bucket: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub value: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub prefix: Option<String>,
}

/// The whole tenant's buckets and, per key, the `limit` keys with the most
/// usage in the range (their buckets, totals, names and prefixes), and
/// every key's buckets summed (for additive metrics, what no key sent is the
/// difference): one statement. Keys are read through `api_keys`, so each
/// key's rollups are a range of the primary key.
pub async fn grouped(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    environment: &str,
    range: &Range,
    limit: i64,
) -> QueryResult<Vec<GroupedRow>> {
    let additive = matches!(range.aggregation, "sum" | "count");
    diesel::sql_query(GROUPED_SQL)
        .bind::<SqlUuid, _>(tenant)
        .bind::<Text, _>(environment)
        .bind::<Text, _>(&range.metric)
        .bind::<Text, _>(range.granularity)
        .bind::<Timestamptz, _>(range.from)
        .bind::<Timestamptz, _>(range.to)
        .bind::<Bool, _>(range.unique())
        .bind::<Text, _>(range.aggregation)
        .bind::<BigInt, _>(limit)
        .bind::<Bool, _>(additive)
        .bind::<Text, _>(range.distinct_granularity())
        .load(conn)
        .await
}

/// One row of [`platform_series`]: a bucket over every tenant, or (no
/// bucket) the distinct (tenant, value) pairs kept for the range.
#[derive(Debug, Clone, QueryableByName)]
pub struct PlatformRow {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub bucket: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub value: i64,
}

/// Live usage of every tenant, per bucket (summed, or the largest for
/// `max`; a `unique_count` value is one tenant's, so tenants add up): one
/// statement on the platform index (tenant-wide live rows by bucket).
pub async fn platform_series(
    conn: &mut AsyncPgConnection,
    range: &Range,
) -> QueryResult<Vec<PlatformRow>> {
    diesel::sql_query(PLATFORM_SERIES_SQL)
        .bind::<Text, _>(&range.metric)
        .bind::<Text, _>(range.granularity)
        .bind::<Timestamptz, _>(range.from)
        .bind::<Timestamptz, _>(range.to)
        .bind::<Text, _>(range.aggregation)
        .bind::<Bool, _>(range.unique())
        .bind::<Text, _>(range.distinct_granularity())
        .load(conn)
        .await
}

/// A tenant and its total.
#[derive(Debug, Clone, QueryableByName)]
pub struct Consumer {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

/// The `limit` tenants with the most live usage in the range (ties by id),
/// with their totals by the metric's aggregation: one statement.
pub async fn top_consumers(
    conn: &mut AsyncPgConnection,
    range: &Range,
    limit: i64,
) -> QueryResult<Vec<Consumer>> {
    diesel::sql_query(TOP_CONSUMERS_SQL)
        .bind::<Text, _>(&range.metric)
        .bind::<Text, _>(range.granularity)
        .bind::<Timestamptz, _>(range.from)
        .bind::<Timestamptz, _>(range.to)
        .bind::<Text, _>(range.aggregation)
        .bind::<Bool, _>(range.unique())
        .bind::<BigInt, _>(limit)
        .bind::<Text, _>(range.distinct_granularity())
        .load(conn)
        .await
}

/// Live `api_calls` and live events of every metric in the day bucket
/// starting at `day`, over every tenant: one statement.
pub async fn platform_day(
    conn: &mut AsyncPgConnection,
    day: DateTime<Utc>,
) -> QueryResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        api_calls: i64,
        #[diesel(sql_type = BigInt)]
        events: i64,
    }
    let row: Row = diesel::sql_query(PLATFORM_DAY_SQL)
        .bind::<Timestamptz, _>(day)
        .get_result(conn)
        .await?;
    Ok((row.api_calls, row.events))
}
