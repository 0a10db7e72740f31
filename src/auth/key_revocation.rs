//! Keys outlive no one's right to make them: when a member is removed, leaves,
//! or is demoted below admin, the keys they made in that tenant (themselves,
//! or through a key they made: such keys carry the same `created_by`) are
//! revoked in the same transaction, each with its own audit entry and
//! `api_key.revoked` webhook event. The
//! `NOTIFY` trigger on `api_keys` then drops them from every instance's cache.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::keys::{self, summary};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::api_keys as rows;
use crate::error::AppResult;
use crate::webhooks::EventType;

/// Why a person's keys were revoked (the `reason` of each audit entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// An admin or owner removed them.
    Removed,
    /// They left the tenant.
    Left,
    /// Their role dropped below admin.
    Demoted,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Removed => "member.remove",
            Self::Left => "member.leave",
            Self::Demoted => "member.role_change",
        }
    }

    /// The `reason` of the `api_key.revoked` webhook event.
    fn event_reason(self) -> &'static str {
        match self {
            Self::Removed => "member_removed",
            Self::Left => "member_left",
            Self::Demoted => "member_role_changed",
        }
    }
}

/// Revokes the working keys `user_id` made in `tenant_id`, inside the caller's
/// transaction (which must already hold the member's row locked), auditing
/// one `api_key.revoke` entry per key by `actor`. Returns the revoked ids.
pub async fn revoke_made_by(
    conn: &mut AsyncPgConnection,
    meta: &RequestMeta,
    actor: &Actor,
    tenant_id: Uuid,
    user_id: Uuid,
    reason: Reason,
) -> AppResult<Vec<Uuid>> {
    // The first pass waits for key mutations in flight on these keys (a key
    // creating a sibling holds its own row); the second, a new statement with
    // a new snapshot, also sees siblings they committed meanwhile. Any later
    // key mutation by one of these keys waits for this transaction and then
    // finds its key revoked.
    rows::lock_made_by(conn, tenant_id, user_id).await?;
    let keys = rows::lock_made_by(conn, tenant_id, user_id).await?;
    let mut revoked = Vec::with_capacity(keys.len());
    for key in keys {
        let after = rows::revoke(conn, key.id).await?;
        let mut recorded = summary(&after);
        recorded["reason"] = reason.as_str().into();
        audit::record(
            conn,
            meta,
            Entry::new(Some(tenant_id), actor.clone(), "api_key.revoke")
                .target("api_key", key.id)
                .change(Some(summary(&key)), Some(recorded)),
        )
        .await?;
        keys::emit(
            conn,
            EventType::ApiKeyRevoked,
            &after,
            Some(reason.event_reason()),
        )
        .await?;
        revoked.push(key.id);
    }
    if !revoked.is_empty() {
        tracing::info!(
            tenant.id = %tenant_id,
            user.id = %user_id,
            keys = revoked.len(),
            reason = reason.as_str(),
            "revoked the API keys of a member who can no longer make them"
        );
    }
    Ok(revoked)
}
