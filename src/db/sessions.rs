//! Sessions (refresh-token families): opening, locking, touching, switching
//! and revoking them, and the per-request session check: user, live session,
//! membership, role and the active tenant (its whole row, so reading the
//! tenant costs nothing more), in one statement.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
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
#[derive(Debug, diesel::QueryableByName)]
pub struct SessionCheck {
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Bool)]
    pub is_platform_admin: bool,
    #[diesel(sql_type = Bool)]
    pub session_live: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub role: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    tenant_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    slug: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    custom_domain: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub status_reason: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    plan_key: Option<String>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    branding: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    created_at: Option<DateTime<Utc>>,
}

impl SessionCheck {
    /// The active tenant's row, when the user is its member.
    pub fn tenant(&self) -> Option<Tenant> {
        Some(Tenant {
            id: self.tenant_id?,
            name: self.name.clone()?,
            slug: self.slug.clone()?,
            custom_domain: self.custom_domain.clone(),
            status: self.status.clone()?,
            status_reason: self.status_reason.clone(),
            plan_key: self.plan_key.clone()?,
            branding: self.branding.clone()?,
            created_at: self.created_at?,
        })
    }
}

/// Checks `session_id` of `user_id` and their membership of `tenant_id`;
/// `None` when the user or session does not exist (in the transaction's scope).
pub async fn check(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    session_id: Uuid,
    tenant_id: Option<Uuid>,
) -> diesel::QueryResult<Option<SessionCheck>> {
    diesel::sql_query(
        "SELECT u.email, tg_current_user_is_platform_admin() AS is_platform_admin,
                (s.revoked_at IS NULL AND s.expires_at > now()) AS session_live,
                m.role, t.id AS tenant_id, t.name, t.slug, t.custom_domain, t.status,
                t.status_reason, t.plan_key, t.branding, t.created_at
         FROM users u
         JOIN sessions s ON s.id = $2 AND s.user_id = u.id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.tenant_id = $3
         LEFT JOIN tenants t ON t.id = m.tenant_id
         WHERE u.id = $1",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(session_id)
    .bind::<Nullable<SqlUuid>, _>(tenant_id)
    .get_result(conn)
    .await
    .optional()
}
