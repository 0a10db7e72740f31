//! Memberships: which user holds which role in which tenant.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{memberships, tenants, users};
use super::tenants::Tenant;
use super::users::User;
use super::{Keyset, keyset};

/// A membership row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct Member {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

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
) -> QueryResult<bool> {
    diesel::insert_into(memberships::table)
        .values(new)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n > 0)
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

/// A page of the tenant's members, oldest first, after `(joined, user)`
/// (`limit + 1` rows, so the caller sees whether there are more).
pub async fn page(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Member>> {
    let mut query = memberships::table
        .filter(memberships::tenant_id.eq(tenant_id))
        .order((memberships::created_at, memberships::user_id))
        .limit(limit + 1)
        .select(Member::as_select())
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(keyset(
            "memberships.created_at, memberships.user_id",
            Keyset::After,
            at,
            id,
        ));
    }
    query.load(conn).await
}

/// [`page`] with each member's user, in one statement.
pub async fn page_with_users(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(Member, User)>> {
    let mut query = memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant_id))
        .order((memberships::created_at, memberships::user_id))
        .limit(limit + 1)
        .select((Member::as_select(), User::as_select()))
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(keyset(
            "memberships.created_at, memberships.user_id",
            Keyset::After,
            at,
            id,
        ));
    }
    query.load(conn).await
}

/// The membership of `user_id` in `tenant_id`, locked until the transaction
/// ends.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Option<Member>> {
    memberships::table
        .find((tenant_id, user_id))
        .select(Member::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The users holding `role` in the tenant, locked until the transaction ends
/// (so two owners cannot demote each other at the same time).
pub async fn lock_holders_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    role: &str,
) -> QueryResult<Vec<Uuid>> {
    memberships::table
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::role.eq(role))
        .select(memberships::user_id)
        .for_update()
        .load(conn)
        .await
}

/// Whether a member of the tenant has this (normalised) email. One statement
/// and no global email lookup: only the tenant's members are visible.
pub async fn has_member_with_email(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    email: &str,
) -> QueryResult<bool> {
    let count: i64 = memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(users::email.eq(email))
        .count()
        .get_result(conn)
        .await?;
    Ok(count > 0)
}

/// The email of member `user_id` of the tenant (`None`: no such member).
pub async fn email_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Option<String>> {
    memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::user_id.eq(user_id))
        .select(users::email)
        .first(conn)
        .await
        .optional()
}

/// Gives `user_id` the role `role` in the tenant.
pub async fn set_role(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> QueryResult<Member> {
    diesel::update(memberships::table.find((tenant_id, user_id)))
        .set(memberships::role.eq(role))
        .returning(Member::as_returning())
        .get_result(conn)
        .await
}

/// Ends the membership of `user_id` in the tenant.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> QueryResult<()> {
    diesel::delete(memberships::table.find((tenant_id, user_id)))
        .execute(conn)
        .await
        .map(drop)
}

/// Members of each of `tenant_ids` (in the transaction's scope), in one
/// statement; tenants without members are absent.
pub async fn counts(
    conn: &mut AsyncPgConnection,
    tenant_ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, i64)>> {
    memberships::table
        .filter(memberships::tenant_id.eq_any(tenant_ids))
        .group_by(memberships::tenant_id)
        .select((memberships::tenant_id, diesel::dsl::count_star()))
        .load(conn)
        .await
}

/// The active tenants `user_id` belongs to, oldest membership first.
pub async fn active_tenant_ids_of(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> QueryResult<Vec<Uuid>> {
    memberships::table
        .inner_join(tenants::table)
        .filter(memberships::user_id.eq(user_id))
        // A tenant pending deletion stays reachable: its members read it,
        // export it, and its owners can cancel the deletion.
        .filter(tenants::status.ne("suspended"))
        .order((memberships::created_at, memberships::tenant_id))
        .select(memberships::tenant_id)
        .load(conn)
        .await
}
