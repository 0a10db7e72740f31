//! Sessions (refresh-token families): opening, locking, touching, switching
//! and revoking them, and the per-request session check: user, live session,
//! membership, role and the active tenant (its whole row, so reading the
//! tenant costs nothing more), in one statement.

use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::sessions;
use super::tenants::Tenant;

/// What a new session is made of.
#[derive(Debug)]
pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub default_tenant_id: Option<Uuid>,
    /// The only tenant the session may act in (signed in on its custom
    /// domain); never changed afterwards.
    pub bound_tenant_id: Option<Uuid>,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

/// Inserts a session.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(new.id),
            sessions::user_id.eq(new.user_id),
            sessions::default_tenant_id.eq(new.default_tenant_id),
            sessions::bound_tenant_id.eq(new.bound_tenant_id),
            sessions::user_agent.eq(new.user_agent),
            sessions::ip.eq(new.ip),
            sessions::expires_at.eq(new.expires_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Whether the session is live (not revoked, not expired) and its default
/// tenant, the row locked until the transaction ends.
pub async fn lock_state(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<(bool, Option<Uuid>)> {
    sessions::table
        .find(id)
        .select((
            sessions::revoked_at
                .is_null()
                .and(sessions::expires_at.gt(diesel::dsl::now)),
            sessions::default_tenant_id,
        ))
        .for_update()
        .first(conn)
        .await
}

/// Records that the session was used now.
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_used_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .map(drop)
}

/// Makes `tenant_id` the session's default tenant.
pub async fn set_default_tenant(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    tenant_id: Uuid,
) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::default_tenant_id.eq(Some(tenant_id)))
        .execute(conn)
        .await
        .map(drop)
}

/// Revokes the session unless it already was; returns how many rows changed
/// (0 or 1).
pub async fn revoke(conn: &mut AsyncPgConnection, id: Uuid, reason: &str) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(diesel::dsl::now),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
    .await
}

/// Revokes every live session of `user_id`; returns how many.
pub async fn revoke_all_of(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    reason: &str,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(diesel::dsl::now),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
    .await
}

/// What the session check reads.
#[derive(Debug)]
pub struct SessionCheck {
    pub email: String,
    pub is_platform_admin: bool,
    pub session_live: bool,
    /// The tenant the session is bound to, if any.
    pub bound_tenant_id: Option<Uuid>,
    pub role: Option<String>,
    tenant: Option<Tenant>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
}

impl SessionCheck {
    /// The active tenant's row, when the user is its member.
    pub fn tenant(&self) -> Option<Tenant> {
        self.tenant.clone()
    }
}

diesel::define_sql_function! {
    /// Whether the transaction's user is a platform admin (a database function).
    fn tg_current_user_is_platform_admin() -> Bool;
}

/// Checks `session_id` of `user_id` and their membership of `tenant_id`;
/// `None` when the user or session does not exist (in the transaction's scope).
/// Built with the query builder so the statement is prepared once per
/// connection (`sql_query` text is parsed and planned on every call).
pub async fn check(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    session_id: Uuid,
    tenant_id: Option<Uuid>,
) -> diesel::QueryResult<Option<SessionCheck>> {
    use super::schema::{memberships, sessions, tenants, users};
    use diesel::{
        BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods, QueryDsl,
        SelectableHelper,
    };
    type Row = (
        String,
        bool,
        bool,
        Option<Uuid>,
        Option<String>,
        Option<Tenant>,
    );
    let row: Option<Row> = users::table
        .inner_join(
            sessions::table.on(sessions::user_id
                .eq(users::id)
                .and(sessions::id.eq(session_id))),
        )
        .left_join(
            memberships::table.on(memberships::user_id
                .eq(users::id)
                .and(memberships::tenant_id.nullable().eq(tenant_id))),
        )
        .left_join(tenants::table.on(tenants::id.eq(memberships::tenant_id)))
        .filter(users::id.eq(user_id))
        .select((
            users::email,
            tg_current_user_is_platform_admin(),
            sessions::revoked_at
                .is_null()
                .and(sessions::expires_at.gt(diesel::dsl::now)),
            sessions::bound_tenant_id,
            memberships::role.nullable(),
            Option::<Tenant>::as_select(),
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(
        |(email, is_platform_admin, session_live, bound_tenant_id, role, tenant)| {
            let (status, status_reason) = tenant.as_ref().map_or((None, None), |t| {
                (Some(t.status.clone()), t.status_reason.clone())
            });
            SessionCheck {
                email,
                is_platform_admin,
                session_live,
                bound_tenant_id,
                role,
                tenant,
                status,
                status_reason,
            }
        },
    ))
}
