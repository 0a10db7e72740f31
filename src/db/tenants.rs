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
