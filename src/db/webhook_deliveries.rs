//! Webhook deliveries and their attempts (`webhook_deliveries`,
//! `webhook_attempts`): an endpoint's log (one statement a page, one for the
//! page's attempts), replays and test sends, and the worker's claim
//! (`tg_webhook_claim`) and record of each attempt, in the delivery's tenant
//! scope.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Bytea, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{webhook_attempts, webhook_deliveries, webhook_events};

/// A delivery with its message (the event).
#[derive(Debug, Clone, Queryable)]
pub struct Delivery {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub status: String,
    pub attempt_count: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub leased_by: Option<Uuid>,
    pub replay_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub event_type: String,
    pub payload: serde_json::Value,
    pub event_created_at: DateTime<Utc>,
}

/// One attempt.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// A new attempt (made `latency_ms` before it is recorded: its time is the
/// database's clock, see [`record`]).
#[derive(Debug)]
pub struct NewAttempt<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub delivery_id: Uuid,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<&'a str>,
    pub error: Option<&'a str>,
}

macro_rules! delivery_columns {
    () => {
        (
            webhook_deliveries::id,
            webhook_deliveries::tenant_id,
            webhook_deliveries::endpoint_id,
            webhook_deliveries::event_id,
            webhook_deliveries::status,
            webhook_deliveries::attempt_count,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::leased_by,
            webhook_deliveries::replay_of,
            webhook_deliveries::created_at,
            webhook_deliveries::completed_at,
            webhook_events::event_type,
            webhook_events::payload,
            webhook_events::created_at,
        )
    };
}

/// A page of an endpoint's deliveries, newest first, after `after`
/// (`limit + 1` rows: the extra one says there is more). One statement.
pub async fn page(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    endpoint: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::tenant_id.eq(tenant))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .select(delivery_columns!())
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit + 1)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            webhook_deliveries::created_at
                .lt(at)
                .or(webhook_deliveries::created_at
                    .eq(at)
                    .and(webhook_deliveries::id.lt(id))),
        );
    }
    query.load(conn).await
}

/// The distinct event types of an endpoint's pending deliveries.
pub async fn pending_types(
    conn: &mut AsyncPgConnection,
    endpoint: Uuid,
) -> QueryResult<Vec<String>> {
    webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .filter(webhook_deliveries::status.eq("pending"))
        .select(webhook_events::event_type)
        .distinct()
        .load(conn)
        .await
}

/// The attempts of `deliveries`, oldest first (one statement for a page):
/// at most `per_delivery` of each (the schedule's bound, also a CHECK on
/// `attempt_count`), so at most `deliveries × per_delivery` rows.
pub async fn attempts_of(
    conn: &mut AsyncPgConnection,
    deliveries: &[Uuid],
    per_delivery: i64,
) -> QueryResult<Vec<Attempt>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(deliveries))
        .order((
            webhook_attempts::delivery_id,
            webhook_attempts::attempted_at,
            webhook_attempts::id,
        ))
        .limit(
            i64::try_from(deliveries.len())
                .unwrap_or(i64::MAX)
                .saturating_mul(per_delivery),
        )
        .select(Attempt::as_select())
        .load(conn)
        .await
}

/// One delivery of `tenant`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::tenant_id.eq(tenant))
        .filter(webhook_deliveries::id.eq(id))
        .select(delivery_columns!())
        .first(conn)
        .await
        .optional()
}

/// A new delivery of `event` to `endpoint`, due at once.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    endpoint: Uuid,
    event: Uuid,
    replay_of: Option<Uuid>,
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(id),
            webhook_deliveries::tenant_id.eq(tenant),
            webhook_deliveries::endpoint_id.eq(endpoint),
            webhook_deliveries::event_id.eq(event),
            webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
            webhook_deliveries::replay_of.eq(replay_of),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// A claimed delivery with what its attempt needs: the message (the
/// event) and the endpoint's URL, state and sealed secrets.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub endpoint_id: Uuid,
    #[diesel(sql_type = Integer)]
    pub attempt_count: i32,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub event_created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Bool)]
    pub enabled: bool,
    #[diesel(sql_type = Bytea)]
    pub secret_sealed: Vec<u8>,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub previous_secret_sealed: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub failing_since: Option<DateTime<Utc>>,
}

/// Claims up to `n` deliveries due at the database's clock plus `skew` (the
/// test clock's offset; zero in production) for `lease`
/// (`tg_webhook_claim`: round-robin across tenants, SKIP LOCKED, next
/// attempt moved past the lease), at most `per_endpoint` of one endpoint,
/// none of `busy`'s endpoints, a tenant ranked after others by its `loads`
/// (attempts in flight on this instance). Runs with no tenant. One statement.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    lease: Uuid,
    (n, skew_ms, lease_secs): (i32, i64, i32),
    per_endpoint: i32,
    (busy, loads): (&[Uuid], &[(Uuid, i32)]),
) -> QueryResult<Vec<Claimed>> {
    let (tenants, loads): (Vec<Uuid>, Vec<i32>) = loads.iter().copied().unzip();
    diesel::sql_query(
        "SELECT * FROM tg_webhook_claim($1, $2, make_interval(secs => $3::float8 / 1000), $4, $5, $6, $7, $8)",
    )
    .bind::<SqlUuid, _>(lease)
    .bind::<Integer, _>(n)
    .bind::<BigInt, _>(skew_ms)
    .bind::<Integer, _>(lease_secs)
    .bind::<Integer, _>(per_endpoint)
    .bind::<Array<SqlUuid>, _>(busy)
    .bind::<Array<SqlUuid>, _>(tenants)
    .bind::<Array<Integer>, _>(loads)
    .load(conn)
    .await
}

/// What an attempt leaves a delivery in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Pending, the next attempt due `delay_ms` after the database's now plus
    /// `skew_ms` (the test clock's offset).
    Retry {
        delay_ms: i64,
        skew_ms: i64,
    },
    Succeeded,
    Failed,
}

/// Records an attempt and the delivery's next state, if the delivery is
/// still leased to `lease` (false: another claim took it over; nothing
/// written). One statement; every time in it is the database clock's plus
/// `skew_ms` (the test clock's offset): the next due time, `completed_at`,
/// and the attempt's `attempted_at` (its latency before now).
pub async fn record(
    conn: &mut AsyncPgConnection,
    lease: Uuid,
    attempt: &NewAttempt<'_>,
    next: Next,
    skew_ms: i64,
) -> QueryResult<bool> {
    let (status, due_in_ms) = match next {
        Next::Retry { delay_ms, skew_ms } => ("pending", Some(delay_ms.saturating_add(skew_ms))),
        Next::Succeeded => ("succeeded", None),
        Next::Failed => ("failed", None),
    };
    let recorded = diesel::sql_query(
        "WITH d AS (
             UPDATE webhook_deliveries
                SET status = $3,
                    attempt_count = attempt_count + 1,
                    next_attempt_at = clock_timestamp() + make_interval(secs => $4::float8 / 1000),
                    leased_by = NULL,
                    completed_at = CASE WHEN $3 = 'pending' THEN NULL
                                        ELSE clock_timestamp() + make_interval(secs => $5::float8 / 1000) END
              WHERE id = $2 AND leased_by = $1 AND status = 'pending'
             RETURNING id, tenant_id)
         INSERT INTO webhook_attempts (id, tenant_id, delivery_id, attempted_at, status_code,
                                       latency_ms, response_excerpt, error)
         SELECT $6, d.tenant_id, d.id,
                clock_timestamp() + make_interval(secs => ($5::float8 - $8) / 1000),
                $7, $8, $9, $10 FROM d",
    )
    .bind::<SqlUuid, _>(lease)
    .bind::<SqlUuid, _>(attempt.delivery_id)
    .bind::<Text, _>(status)
    .bind::<Nullable<BigInt>, _>(due_in_ms)
    .bind::<BigInt, _>(skew_ms)
    .bind::<SqlUuid, _>(attempt.id)
    .bind::<Nullable<Integer>, _>(attempt.status_code)
    .bind::<Integer, _>(attempt.latency_ms)
    .bind::<Nullable<Text>, _>(attempt.response_excerpt)
    .bind::<Nullable<Text>, _>(attempt.error)
    .execute(conn)
    .await?;
    Ok(recorded == 1)
}

/// Gives a claimed delivery back, unattempted, due 1 s after the database's
/// now plus `skew_ms` (this instance already has enough attempts to its
/// endpoint in flight).
pub async fn release(
    conn: &mut AsyncPgConnection,
    lease: Uuid,
    id: Uuid,
    skew_ms: i64,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE webhook_deliveries
            SET next_attempt_at = clock_timestamp() + make_interval(secs => ($3::float8 + 1000) / 1000),
                leased_by = NULL
          WHERE id = $1 AND leased_by = $2 AND status = 'pending'",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(lease)
    .bind::<BigInt, _>(skew_ms)
    .execute(conn)
    .await
    .map(drop)
}

/// Retention, one batch (`tg_webhook_prune`): deliveries that ended more
/// than 30 days ago by the database's clock, with their attempts, and
/// events older than that no delivery needs. The rows deleted, or -1 when
/// another instance is pruning.
pub async fn prune(conn: &mut AsyncPgConnection, batch: i32) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Pruned {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let pruned: Pruned = diesel::sql_query("SELECT tg_webhook_prune($1) AS n")
        .bind::<Integer, _>(batch)
        .get_result(conn)
        .await?;
    Ok(pruned.n)
}
