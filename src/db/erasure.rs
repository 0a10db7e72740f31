//! Erasure's statements: the SECURITY DEFINER functions of migration
//! `2026-12-08-300001_erasure` (scheduling and cancelling a tenant's deletion,
//! the purge steps, a person's own erasure), the sign-in moment of a session
//! (for the fresh sign-in rule), and the tombstones of purged tenants.

use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::prelude::*;
use diesel::sql_types::{Bigint, Bool, Integer, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{sessions, tenant_tombstones};

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    done: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Bigint)]
    n: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// When session `id` was opened: the moment of the sign-in that made it
/// (refreshes and tenant switches keep the row). Read in the user's scope.
pub async fn signed_in_at(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<DateTime<Utc>>> {
    sessions::table
        .find(id)
        .filter(sessions::revoked_at.is_null())
        .select(sessions::created_at)
        .first(conn)
        .await
        .optional()
}

/// Schedules the transaction's tenant for deletion, due in `grace_secs`
/// (the database re-checks that the transaction's user is an owner and that
/// the tenant is active).
pub async fn request_deletion(conn: &mut AsyncPgConnection, grace_secs: i64) -> QueryResult<()> {
    diesel::sql_query("SELECT tg_tenant_request_deletion(make_interval(secs => $1::float8))")
        .bind::<Bigint, _>(grace_secs)
        .execute(conn)
        .await
        .map(drop)
}

/// Cancels the transaction's tenant's deletion: false when it is not pending
/// or its purge is already due.
pub async fn cancel_deletion(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    diesel::sql_query("SELECT tg_tenant_cancel_deletion() AS done")
        .get_result::<Flag>(conn)
        .await
        .map(|f| f.done)
}

/// The tenants whose purge is due and not leased (at most `max`).
pub async fn due_for_purge(conn: &mut AsyncPgConnection, max: i32) -> QueryResult<Vec<Uuid>> {
    diesel::sql_query("SELECT id FROM tg_tenants_due_for_purge($1) AS id")
        .bind::<Integer, _>(max)
        .load::<Id>(conn)
        .await
        .map(|rows| rows.into_iter().map(|r| r.id).collect())
}

/// Takes or renews the purge lease of `tenant` for `lease_secs` as run
/// `holder`: true when that run holds it.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    lease_secs: i64,
    holder: Uuid,
) -> QueryResult<bool> {
    diesel::sql_query(
        "SELECT tg_tenant_purge_claim($1, make_interval(secs => $2::float8), $3) AS done",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<Bigint, _>(lease_secs)
    .bind::<SqlUuid, _>(holder)
    .get_result::<Flag>(conn)
    .await
    .map(|f| f.done)
}

/// Purge step: erases the members who belong nowhere else, then removes
/// every membership; returns the people erased.
pub async fn purge_members(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<i64> {
    diesel::sql_query("SELECT tg_tenant_purge_members($1)::bigint AS n")
        .bind::<SqlUuid, _>(tenant)
        .get_result::<Count>(conn)
        .await
        .map(|c| c.n)
}

/// Who [`purge_members`] will erase (members of no other tenant, not
/// platform admins), under the same precondition.
pub async fn purge_people(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Person {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let people: Vec<Person> = diesel::sql_query("SELECT tg_tenant_purge_people($1) AS id")
        .bind::<SqlUuid, _>(tenant)
        .load(conn)
        .await?;
    Ok(people.into_iter().map(|p| p.id).collect())
}

/// Purge step: at most `batch` rows of the tenant from the first table that
/// has some; 0 when none is left.
pub async fn purge_batch(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    batch: i32,
) -> QueryResult<i64> {
    diesel::sql_query("SELECT tg_tenant_purge_batch($1, $2) AS n")
        .bind::<SqlUuid, _>(tenant)
        .bind::<Integer, _>(batch)
        .get_result::<Count>(conn)
        .await
        .map(|c| c.n)
}

/// Purge step: the tenant row, replaced by its tombstone.
pub async fn purge_finish(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<bool> {
    diesel::sql_query("SELECT tg_tenant_purge_finish($1) AS done")
        .bind::<SqlUuid, _>(tenant)
        .get_result::<Flag>(conn)
        .await
        .map(|f| f.done)
}

/// Makes `tenant` due for purging now (platform-admin scope; the database
/// re-checks the admin). False when there is no such tenant.
pub async fn purge_now(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<bool> {
    diesel::sql_query("SELECT tg_tenant_purge_now($1) AS done")
        .bind::<SqlUuid, _>(tenant)
        .get_result::<Flag>(conn)
        .await
        .map(|f| f.done)
}

/// Erases the transaction's user (who must belong to no tenant any more).
pub async fn erase_self(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT tg_user_erase_self()")
        .execute(conn)
        .await
        .map(drop)
}

/// A purged tenant's tombstone.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenant_tombstones)]
pub struct Tombstone {
    pub id: Uuid,
    pub requested_at: DateTime<Utc>,
    pub requested_by: Option<Uuid>,
    pub purged_at: DateTime<Utc>,
    pub reason: String,
}

/// The newest tombstones (platform-admin scope), after `before` when given
/// (`(purged_at, id)`, newest first), `limit` rows.
pub async fn tombstones(
    conn: &mut AsyncPgConnection,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Tombstone>> {
    let mut query = tenant_tombstones::table
        .select(Tombstone::as_select())
        .order((
            tenant_tombstones::purged_at.desc(),
            tenant_tombstones::id.desc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            tenant_tombstones::purged_at
                .lt(at)
                .or(tenant_tombstones::purged_at
                    .eq(at)
                    .and(tenant_tombstones::id.lt(id))),
        );
    }
    query.load(conn).await
}

/// One tombstone (platform-admin scope).
pub async fn tombstone(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Tombstone>> {
    tenant_tombstones::table
        .find(id)
        .select(Tombstone::as_select())
        .first(conn)
        .await
        .optional()
}
