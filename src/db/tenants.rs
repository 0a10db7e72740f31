//! Tenants: the organisations that own all tenant data.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::tenants;

/// A tenant row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub custom_domain: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub plan_key: String,
    pub branding: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// What a new tenant is made of.
#[derive(Debug, Insertable)]
#[diesel(table_name = tenants)]
pub struct NewTenant<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub slug: &'a str,
}

/// Inserts a tenant unless its slug is taken; `None` when it is. The unique
/// index decides, so no other tenant's row is ever read to find out.
pub async fn insert_if_slug_free(
    conn: &mut AsyncPgConnection,
    new: &NewTenant<'_>,
) -> QueryResult<Option<Tenant>> {
    diesel::insert_into(tenants::table)
        .values(new)
        .on_conflict(tenants::slug)
        .do_nothing()
        .returning(Tenant::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The tenant with this id, if the transaction's scope may see it.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Tenant>> {
    tenants::table
        .find(id)
        .select(Tenant::as_select())
        .first(conn)
        .await
        .optional()
}

/// A page of tenants, newest first, after `(created_at, id)`: `limit + 1`
/// rows (one more tells whether a next page exists), matching `search` in
/// name or slug (case-insensitive) and `status` when given.
pub async fn page(
    conn: &mut AsyncPgConnection,
    search: Option<&str>,
    status: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Tenant>> {
    let mut query = tenants::table
        .select(Tenant::as_select())
        .order((tenants::created_at.desc(), tenants::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some(search) = search.filter(|s| !s.trim().is_empty()) {
        let pattern = super::like_pattern(search);
        query = query.filter(
            tenants::name
                .ilike(pattern.clone())
                .or(tenants::slug.ilike(pattern)),
        );
    }
    if let Some(status) = status {
        query = query.filter(tenants::status.eq(status.to_owned()));
    }
    if let Some((at, id)) = after {
        query = query.filter(super::keyset(
            "tenants.created_at, tenants.id",
            super::Keyset::Before,
            at,
            id,
        ));
    }
    query.load(conn).await
}

/// Sets the tenant's status and its reason; returns the updated row.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: &str,
    reason: Option<&str>,
) -> QueryResult<Tenant> {
    diesel::update(tenants::table.find(id))
        .set((
            tenants::status.eq(status),
            tenants::status_reason.eq(reason),
        ))
        .returning(Tenant::as_returning())
        .get_result(conn)
        .await
}

/// Inserts a tenant unless one with its id or slug exists (demo data).
pub async fn insert_if_absent(
    conn: &mut AsyncPgConnection,
    new: &NewTenant<'_>,
) -> QueryResult<()> {
    diesel::insert_into(tenants::table)
        .values(new)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// Sets the tenant's plan (the platform-admin path: the runtime role may not).
pub async fn set_plan(conn: &mut AsyncPgConnection, id: Uuid, plan_key: &str) -> QueryResult<()> {
    diesel::update(tenants::table.find(id))
        .set(tenants::plan_key.eq(plan_key))
        .execute(conn)
        .await
        .map(drop)
}

/// The tenant's name (NotFound when the scope cannot see it).
pub async fn name(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<String> {
    tenants::table
        .find(id)
        .select(tenants::name)
        .first(conn)
        .await
}

/// The tenant's settings as they stand, locked until the transaction ends:
/// `(name, slug, branding, plan)`.
pub async fn lock_settings(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<(String, String, serde_json::Value, String)> {
    tenants::table
        .find(id)
        .select((
            tenants::name,
            tenants::slug,
            tenants::branding,
            tenants::plan_key,
        ))
        .for_update()
        .first(conn)
        .await
}

/// Replaces the tenant's name, slug and branding; a taken slug is a unique
/// violation.
pub async fn update_settings(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    slug: &str,
    branding: &serde_json::Value,
) -> QueryResult<Tenant> {
    diesel::update(tenants::table.find(id))
        .set((
            tenants::name.eq(name),
            tenants::slug.eq(slug),
            tenants::branding.eq(branding),
        ))
        .returning(Tenant::as_returning())
        .get_result(conn)
        .await
}

/// Platform-wide counts in one statement, keyed `status:<status>` (tenants
/// per status), `plan:<plan key>` (tenants per plan) and `users`.
pub async fn platform_counts(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Counted> = diesel::sql_query(
        "SELECT 'status:' || status AS key, count(*) AS n FROM tenants GROUP BY status
                 UNION ALL SELECT 'plan:' || plan_key, count(*) FROM tenants GROUP BY plan_key
                 UNION ALL SELECT 'users', count(*) FROM users",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
}
