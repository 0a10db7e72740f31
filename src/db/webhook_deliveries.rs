//! Webhook deliveries and their attempts (`webhook_deliveries`,
//! `webhook_attempts`): an endpoint's log (one statement a page, one for the
//! page's attempts), replays and test sends, and the worker's claim
//! (`tg_webhook_claim`) and record of each attempt, in the delivery's tenant
//! scope.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Integer, Timestamptz, Uuid as SqlUuid};
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

/// A new attempt.
#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct NewAttempt<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
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

/// The attempts of `deliveries`, oldest first (one statement for a page).
pub async fn attempts_of(
    conn: &mut AsyncPgConnection,
    deliveries: &[Uuid],
) -> QueryResult<Vec<Attempt>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(deliveries))
        .order((
            webhook_attempts::delivery_id,
            webhook_attempts::attempted_at,
            webhook_attempts::id,
        ))
        .limit(100 * 101)
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

#[derive(QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub endpoint_id: Uuid,
}

/// Claims up to `n` deliveries due at `at` for `lease` (`tg_webhook_claim`:
/// SKIP LOCKED, next attempt moved past the lease), at most `per_endpoint`
/// of one endpoint and none of `busy`'s. Runs with no tenant.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    lease: Uuid,
    (n, at, lease_secs): (i32, DateTime<Utc>, i32),
    per_endpoint: i32,
    busy: &[Uuid],
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "SELECT id, tenant_id, endpoint_id FROM tg_webhook_claim($1, $2, $3, $4, $5, $6)",
    )
    .bind::<SqlUuid, _>(lease)
    .bind::<Integer, _>(n)
    .bind::<Timestamptz, _>(at)
    .bind::<Integer, _>(lease_secs)
    .bind::<Integer, _>(per_endpoint)
    .bind::<Array<SqlUuid>, _>(busy)
    .load(conn)
    .await
}

/// Records an attempt and the delivery's next state, if the delivery is
/// still leased to `lease` (false: another claim took it over; nothing
/// written).
#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &mut AsyncPgConnection,
    lease: Uuid,
    attempt: &NewAttempt<'_>,
    status: &str,
    next_attempt_at: Option<DateTime<Utc>>,
) -> QueryResult<bool> {
    let done = status != "pending";
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(attempt.delivery_id))
            .filter(webhook_deliveries::leased_by.eq(lease))
            .filter(webhook_deliveries::status.eq("pending")),
    )
    .set((
        webhook_deliveries::status.eq(status),
        webhook_deliveries::attempt_count.eq(webhook_deliveries::attempt_count + 1),
        webhook_deliveries::next_attempt_at.eq(next_attempt_at),
        webhook_deliveries::leased_by.eq(None::<Uuid>),
        webhook_deliveries::completed_at.eq(done.then_some(attempt.attempted_at)),
    ))
    .execute(conn)
    .await?;
    if updated == 0 {
        return Ok(false);
    }
    diesel::insert_into(webhook_attempts::table)
        .values(attempt)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Gives a claimed delivery back, due at `at`, unattempted (this instance
/// already has enough attempts to its endpoint in flight).
pub async fn release(
    conn: &mut AsyncPgConnection,
    lease: Uuid,
    id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::leased_by.eq(lease))
            .filter(webhook_deliveries::status.eq("pending")),
    )
    .set((
        webhook_deliveries::next_attempt_at.eq(Some(at)),
        webhook_deliveries::leased_by.eq(None::<Uuid>),
    ))
    .execute(conn)
    .await
    .map(drop)
}
