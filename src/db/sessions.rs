//! The per-request session check: user, live session, membership, role and
//! the active tenant (its whole row, so reading the tenant costs nothing more),
//! in one statement.

use diesel::OptionalExtension;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::tenants::Tenant;

/// What the session check reads.
#[derive(Debug)]
pub struct SessionCheck {
    pub email: String,
    pub is_platform_admin: bool,
    pub session_live: bool,
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
    let row: Option<(String, bool, bool, Option<String>, Option<Tenant>)> = users::table
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
            memberships::role.nullable(),
            Option::<Tenant>::as_select(),
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(
        row.map(|(email, is_platform_admin, session_live, role, tenant)| {
            let (status, status_reason) = tenant.as_ref().map_or((None, None), |t| {
                (Some(t.status.clone()), t.status_reason.clone())
            });
            SessionCheck {
                email,
                is_platform_admin,
                session_live,
                role,
                tenant,
                status,
                status_reason,
            }
        }),
    )
}
