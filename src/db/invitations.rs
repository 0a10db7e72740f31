//! Invitations: a tenant's pending, accepted, revoked and expired invitations
//! (only a hash of each token is stored).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::invitations;
use super::{Keyset, keyset};

/// An invitation row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub role: String,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The state of an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl Invitation {
    pub fn status(&self) -> InvitationStatus {
        if self.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.expires_at <= Utc::now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }
}

/// What a new invitation is made of.
#[derive(Debug, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: &'a str,
    pub role: &'a str,
    pub token_hash: &'a [u8],
    pub invited_by: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
}

/// Inserts an invitation; a second pending one for the same email is a
/// unique violation.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewInvitation<'_>,
) -> QueryResult<Invitation> {
    diesel::insert_into(invitations::table)
        .values(new)
        .returning(Invitation::as_returning())
        .get_result(conn)
        .await
}

/// Which of a tenant's invitations a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// Those that can still be accepted.
    Pending,
    /// Neither accepted nor revoked: pending and expired (an expired one
    /// still holds its address until it is revoked or sent again).
    Open,
    /// Every one.
    All,
}

/// A page of the tenant's invitations, oldest first, after `(created, id)`
/// (`limit + 1` rows, so the caller sees whether there are more).
pub async fn page(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    listed: Listed,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Invitation>> {
    let mut query = invitations::table
        .filter(invitations::tenant_id.eq(tenant_id))
        .order((invitations::created_at, invitations::id))
        .limit(limit + 1)
        .select(Invitation::as_select())
        .into_boxed();
    if listed != Listed::All {
        query = query
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null());
    }
    if listed == Listed::Pending {
        query = query.filter(invitations::expires_at.gt(diesel::dsl::now));
    }
    if let Some((at, id)) = after {
        query = query.filter(keyset(
            "invitations.created_at, invitations.id",
            Keyset::After,
            at,
            id,
        ));
    }
    query.load(conn).await
}

/// The invitation whose token has this hash, if the scope's tenant has one.
pub async fn find_by_token_hash(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(Invitation::as_select())
        .first(conn)
        .await
        .optional()
}

/// Marks the invitation accepted unless it was accepted or revoked meanwhile;
/// the number of rows changed (1, or 0 when it was not pending any more).
pub async fn mark_accepted(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::accepted_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// Revokes the tenant's invitation `id` if it is still open; `None` if not.
pub async fn revoke_open(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Invitation>> {
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::tenant_id.eq(tenant_id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(diesel::dsl::now))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Revokes the open invitations `user_id` sent in the tenant for a role not
/// in `allowed`; returns them.
pub async fn revoke_sent_by_except(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    allowed: &[&str],
) -> QueryResult<Vec<Invitation>> {
    diesel::update(
        invitations::table
            .filter(invitations::tenant_id.eq(tenant_id))
            .filter(invitations::invited_by.eq(user_id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .filter(diesel::dsl::not(invitations::role.eq_any(allowed))),
    )
    .set(invitations::revoked_at.eq(diesel::dsl::now))
    .returning(Invitation::as_returning())
    .get_results(conn)
    .await
}
