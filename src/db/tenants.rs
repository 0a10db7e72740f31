//! Tenants: the organisations that own all tenant data.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{plans, tenants};

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

/// Whether the plan includes custom branding.
pub async fn plan_allows_custom_branding(
    conn: &mut AsyncPgConnection,
    plan_key: &str,
) -> QueryResult<bool> {
    plans::table
        .find(plan_key)
        .select(plans::custom_branding)
        .first(conn)
        .await
}
