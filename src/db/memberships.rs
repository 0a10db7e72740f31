//! Memberships: which user holds which role in which tenant.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{memberships, tenants};
use super::tenants::Tenant;

/// A new membership.
#[derive(Debug, Insertable)]
#[diesel(table_name = memberships)]
pub struct NewMembership<'a> {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub role: &'a str,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewMembership<'_>) -> QueryResult<()> {
    diesel::insert_into(memberships::table)
        .values(new)
        .execute(conn)
        .await
        .map(drop)
}

/// Inserts a membership unless the user already belongs to the tenant.
pub async fn insert_if_absent(
    conn: &mut AsyncPgConnection,
    new: &NewMembership<'_>,
) -> QueryResult<()> {
    diesel::insert_into(memberships::table)
        .values(new)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// The role of `user_id` in `tenant_id`, read and share-locked until the
/// transaction ends (a demotion or removal waits for it, or it sees theirs).
pub async fn role_for_share(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Option<String>> {
    memberships::table
        .find((tenant_id, user_id))
        .select(memberships::role)
        .for_share()
        .first(conn)
        .await
        .optional()
}

/// The tenants `user_id` belongs to, with their role, oldest membership first.
pub async fn tenants_of(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> QueryResult<Vec<(Tenant, String)>> {
    memberships::table
        .inner_join(tenants::table)
        .filter(memberships::user_id.eq(user_id))
        .order((memberships::created_at, memberships::tenant_id))
        .select((Tenant::as_select(), memberships::role))
        .load(conn)
        .await
}
