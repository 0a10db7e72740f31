//! Webhook endpoints (`webhook_endpoints`): a tenant's receivers, read and
//! changed in that tenant's scope. Secrets are stored sealed (see
//! `webhooks::secret`); nothing here opens them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::webhook_endpoints;

/// One endpoint row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<Option<String>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub secret_sealed: Vec<u8>,
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Events not sent to it because it had the cap of pending deliveries
    /// (counted by the fan-out, ever).
    pub dropped_count: i64,
    pub last_dropped_at: Option<DateTime<Utc>>,
    /// `dropped_count` when the drops were last reported to the audit trail.
    pub drop_reported_count: i64,
    pub drop_reported_at: Option<DateTime<Utc>>,
}

impl Endpoint {
    /// The event types it wants (empty: all).
    pub fn types(&self) -> Vec<String> {
        self.event_types.iter().flatten().cloned().collect()
    }
}

/// A new endpoint.
#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: Vec<String>,
    pub secret_sealed: &'a [u8],
}

/// What an update changes (`None`: unchanged).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct Changes {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    pub disabled_at: Option<Option<DateTime<Utc>>>,
    pub failing_since: Option<Option<DateTime<Utc>>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Serialises endpoint creation within `tenant` (until the transaction
/// ends) and counts its endpoints, so two creations cannot both take the
/// last place.
pub async fn lock_and_count(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<i64> {
    // Two statements: the count's snapshot must be taken after the lock.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(format!("webhook_endpoints:{tenant}"))
        .execute(conn)
        .await?;
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .count()
        .get_result(conn)
        .await
}

/// Inserts an endpoint.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewEndpoint<'_>) -> QueryResult<Endpoint> {
    diesel::insert_into(webhook_endpoints::table)
        .values(new)
        .returning(Endpoint::as_returning())
        .get_result(conn)
        .await
}

/// The tenant's endpoints, oldest first (at most a tenant's bound).
pub async fn list(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .order((webhook_endpoints::created_at, webhook_endpoints::id))
        .limit(100)
        .select(Endpoint::as_select())
        .load(conn)
        .await
}

/// One endpoint of `tenant`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .filter(webhook_endpoints::id.eq(id))
        .select(Endpoint::as_select())
        .first(conn)
        .await
        .optional()
}

/// One endpoint of `tenant`, locked until the transaction ends.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .filter(webhook_endpoints::id.eq(id))
        .select(Endpoint::as_select())
        .for_no_key_update()
        .first(conn)
        .await
        .optional()
}

/// Applies `changes` to an endpoint.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &Changes,
) -> QueryResult<Endpoint> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set(changes)
        .returning(Endpoint::as_returning())
        .get_result(conn)
        .await
}

/// Stores a new secret, and the previous one with the end of its overlap.
pub async fn set_secret(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    sealed: &[u8],
    previous: Option<(&[u8], DateTime<Utc>)>,
) -> QueryResult<Endpoint> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((
            webhook_endpoints::secret_sealed.eq(sealed),
            webhook_endpoints::previous_secret_sealed.eq(previous.map(|p| p.0)),
            webhook_endpoints::previous_secret_expires_at.eq(previous.map(|p| p.1)),
            webhook_endpoints::updated_at.eq(Utc::now()),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)
        .await
}

/// Deletes an endpoint (its deliveries and attempts go with it).
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .execute(conn)
        .await
        .map(drop)
}

/// Ends an endpoint's pending deliveries (it was disabled), completed at the
/// database's clock plus `skew_ms` (the test clock's offset; zero for a
/// member's change).
pub async fn cancel_pending(
    conn: &mut AsyncPgConnection,
    endpoint: Uuid,
    skew_ms: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE webhook_deliveries
            SET status = 'canceled', next_attempt_at = NULL, leased_by = NULL,
                completed_at = clock_timestamp() + make_interval(secs => $2::float8 / 1000)
          WHERE endpoint_id = $1 AND status = 'pending'",
    )
    .bind::<diesel::sql_types::Uuid, _>(endpoint)
    .bind::<diesel::sql_types::BigInt, _>(skew_ms)
    .execute(conn)
    .await
}

/// Replaces the sealed current secret (`previous`: the previous one) with
/// `resealed` (the same secret sealed under the current key) if it is still
/// `was` (a rotation since wins); whether it did.
pub async fn reseal(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    previous: bool,
    was: &[u8],
    resealed: &[u8],
) -> QueryResult<bool> {
    let row = webhook_endpoints::table.filter(webhook_endpoints::id.eq(id));
    let n = if previous {
        diesel::update(row.filter(webhook_endpoints::previous_secret_sealed.eq(was)))
            .set(webhook_endpoints::previous_secret_sealed.eq(resealed))
            .execute(conn)
            .await?
    } else {
        diesel::update(row.filter(webhook_endpoints::secret_sealed.eq(was)))
            .set(webhook_endpoints::secret_sealed.eq(resealed))
            .execute(conn)
            .await?
    };
    Ok(n == 1)
}

/// Marks an endpoint's drops up to `count` as reported now (the database's
/// clock), unless they were reported within the last day by that clock:
/// false then, nothing changed.
pub async fn mark_drops_reported(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    count: i64,
) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE webhook_endpoints
            SET drop_reported_count = $2, drop_reported_at = clock_timestamp()
          WHERE id = $1
            AND (drop_reported_at IS NULL OR drop_reported_at < clock_timestamp() - interval '1 day')",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::BigInt, _>(count)
    .execute(conn)
    .await
    .map(|n| n == 1)
}

#[derive(QueryableByName)]
pub struct DropsToReport {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub endpoint_id: Uuid,
}

/// Endpoints of any tenant with drops not reported in the last day
/// (`tg_webhook_drops_to_report`: ids only). Runs with no tenant.
pub async fn drops_to_report(
    conn: &mut AsyncPgConnection,
    n: i32,
) -> QueryResult<Vec<DropsToReport>> {
    diesel::sql_query("SELECT tenant_id, endpoint_id FROM tg_webhook_drops_to_report($1)")
        .bind::<diesel::sql_types::Integer, _>(n)
        .load(conn)
        .await
}
