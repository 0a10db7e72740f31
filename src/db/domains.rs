//! Tenants' custom domains (`tenant_domains`, one per tenant, RLS forced), the
//! routing index through `tg_host_index` (SECURITY DEFINER: ids, slugs and
//! routing domains, nothing else) and a routed tenant's face through
//! `tg_host_face` (its name and public branding, nothing else).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::tenant_domains;

/// A tenant's custom domain claim.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = tenant_domains)]
pub struct DomainRow {
    pub tenant_id: Uuid,
    pub domain: String,
    pub token: String,
    pub verified_at: Option<DateTime<Utc>>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_result: Option<String>,
    pub missing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One tenant in the routing index, as `tg_host_index` returns it: its slug,
/// and its custom domain while that routes.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct IndexRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub domain: Option<String>,
}

/// The routing index of `tenants` (every tenant when `None`), readable from
/// any scope.
pub async fn host_index(
    conn: &mut AsyncPgConnection,
    tenants: Option<&[Uuid]>,
) -> QueryResult<Vec<IndexRow>> {
    diesel::sql_query("SELECT tenant_id, slug, domain FROM tg_host_index($1)")
        .bind::<Nullable<diesel::sql_types::Array<diesel::sql_types::Uuid>>, _>(tenants)
        .load(conn)
        .await
}

/// What a routed host's sign-in page wears, as `tg_host_face` returns it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct FaceRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub logo_url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub primary_color: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub accent_color: Option<String>,
}

/// The name and public branding of `tenant`, readable from any scope.
pub async fn host_face(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<Option<FaceRow>> {
    diesel::sql_query(
        "SELECT id, name, display_name, logo_url, primary_color, accent_color \
         FROM tg_host_face($1)",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .get_result(conn)
    .await
    .optional()
}

/// Whether a tenant other than the transaction's has verified `domain`
/// (whether or not it routes).
pub async fn verified_elsewhere(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    diesel::sql_query("SELECT tg_domain_verified_elsewhere($1) AS found")
        .bind::<Text, _>(domain)
        .get_result::<Found>(conn)
        .await
        .map(|f| f.found)
}

/// A verified domain due for its re-check.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct DueRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    pub domain: String,
}

/// Verified domains last checked before `before`, oldest first.
pub async fn due(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i32,
) -> QueryResult<Vec<DueRow>> {
    diesel::sql_query("SELECT tenant_id, domain FROM tg_domains_due($1, $2)")
        .bind::<Timestamptz, _>(before)
        .bind::<Integer, _>(limit)
        .load(conn)
        .await
}

/// The tenant's claim, locked when `lock`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    lock: bool,
) -> QueryResult<Option<DomainRow>> {
    let query = tenant_domains::table
        .find(tenant)
        .select(DomainRow::as_select());
    if lock {
        query.for_update().get_result(conn).await.optional()
    } else {
        query.get_result(conn).await.optional()
    }
}

/// Replaces the tenant's claim with a new, unverified one.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    domain: &str,
    token: &str,
) -> QueryResult<DomainRow> {
    diesel::delete(tenant_domains::table.find(tenant))
        .execute(conn)
        .await?;
    diesel::insert_into(tenant_domains::table)
        .values((
            tenant_domains::tenant_id.eq(tenant),
            tenant_domains::domain.eq(domain),
            tenant_domains::token.eq(token),
        ))
        .returning(DomainRow::as_returning())
        .get_result(conn)
        .await
}

/// Deletes the tenant's claim; whether there was one.
pub async fn remove(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<bool> {
    diesel::delete(tenant_domains::table.find(tenant))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Records a look at the record: `verified_at` and `missing_since` as they
/// now stand, the time and what was found.
pub async fn record_check(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    verified_at: Option<DateTime<Utc>>,
    missing_since: Option<DateTime<Utc>>,
    result: &str,
    at: DateTime<Utc>,
) -> QueryResult<DomainRow> {
    diesel::update(tenant_domains::table.find(tenant))
        .set((
            tenant_domains::verified_at.eq(verified_at),
            tenant_domains::missing_since.eq(missing_since),
            tenant_domains::last_checked_at.eq(at),
            tenant_domains::last_result.eq(fit_result(result)),
        ))
        .returning(DomainRow::as_returning())
        .get_result(conn)
        .await
}

/// The longest note `last_result` holds (its CHECK).
pub const MAX_RESULT: usize = 500;

/// `result` cut to [`MAX_RESULT`] characters (an ellipsis marks the cut).
pub fn fit_result(result: &str) -> String {
    if result.chars().count() <= MAX_RESULT {
        result.to_owned()
    } else {
        result.chars().take(MAX_RESULT - 1).collect::<String>() + "…"
    }
}

/// Moves the tenant's re-check schedule on (`last_checked_at`) with `note`,
/// leaving the verification as it stands (after a look that could not be
/// recorded).
pub async fn touch(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    note: &str,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(tenant_domains::table.find(tenant))
        .set((
            tenant_domains::last_checked_at.eq(at),
            tenant_domains::last_result.eq(fit_result(note)),
        ))
        .execute(conn)
        .await
}
