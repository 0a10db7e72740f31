//! A tenant's team: members and roles, invitations, and the tenant's own
//! settings. Every change runs in the acting member's tenant scope and writes its
//! audit entry in the same transaction; the queries are in `crate::db`.
//!
//! Rules: roles rank owner > admin > member (billing and viewer lowest); nobody
//! grants a role above their own or changes someone ranked above them; a tenant
//! always keeps at least one owner (CONFLICT otherwise). Removing a member,
//! leaving, or a demotion below admin revokes the pending invitations and the
//! API keys that person could no longer make.
//!
//! `invitations.rs` (invite, resend, accept, revoke, the invitation email), `team.rs`
//! (roles, removal, leaving, the owner rules), `settings.rs` (name, slug,
//! branding); the role rules shared by them are here.

mod invitations;
mod settings;
mod team;

use diesel_async::AsyncPgConnection;

pub use invitations::{INVITATION_TTL, accept, invite, resend_invitation, revoke_invitation};
pub use settings::{Branding, TenantChanges, slug_reserved, update_tenant, validate_slug};
pub use team::{remove, update_role};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::Actor;
use crate::auth::{Role, TenantAccess, Verified};
use crate::db::invitations::Invitation;
use crate::db::memberships;
use crate::error::{AppError, AppResult};
use crate::webhooks::{self, EventType};

/// The `data` of the `invitation.*` webhook events (see docs/webhooks.md):
/// `reason` says why one was revoked (`revoked`, `resent`, `member_removed`,
/// `member_left`, `member_role_changed`), `null` otherwise.
fn invitation_data(invitation: &Invitation, reason: Option<&str>) -> Value {
    json!({
        "invitationId": invitation.id,
        "email": invitation.email,
        "role": invitation.role,
        "invitedBy": invitation.invited_by,
        "expiresAt": invitation.expires_at,
        "reason": reason,
    })
}

/// Emits `event` about `invitation` in the caller's transaction.
async fn emit_invitation(
    conn: &mut AsyncPgConnection,
    event: EventType,
    invitation: &Invitation,
    reason: Option<&str>,
) -> AppResult<()> {
    let data = invitation_data(invitation, reason);
    webhooks::emit(conn, invitation.tenant_id, event, data).await?;
    Ok(())
}

/// The `data` of the `member.*` webhook events (see docs/webhooks.md).
fn member_data(user_id: Uuid, email: Option<&str>, role: &str) -> Value {
    json!({ "userId": user_id, "email": email, "role": role })
}

/// Who is acting, for the audit trail.
pub fn actor(verified: &Verified) -> Actor {
    Actor::User {
        id: verified.user_id,
        email: Some(verified.email.clone()),
    }
}

fn role_of(stored: &str) -> AppResult<Role> {
    Role::parse(stored)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role {stored:?} stored")))
}

/// FORBIDDEN when `access` may not grant `role`.
fn may_grant(access: &TenantAccess, role: Role) -> AppResult<()> {
    if access.role.rank() < role.rank() || (access.role != Role::Owner && role == Role::Owner) {
        return Err(AppError::forbidden(format!(
            "a {} cannot grant the {role} role",
            access.role
        )));
    }
    Ok(())
}

/// The caller's role as it stands now (read and locked in the mutating
/// transaction, not taken from the start of the request).
async fn current_role(conn: &mut AsyncPgConnection, me: &TenantAccess) -> AppResult<Role> {
    let stored = memberships::role_for_share(conn, me.tenant_id, me.user_id).await?;
    let stored =
        stored.ok_or_else(|| AppError::forbidden("you are no longer a member of this tenant"))?;
    role_of(&stored)
}

/// The roles `role` may grant.
fn grantable(role: Role) -> Vec<&'static str> {
    [
        Role::Owner,
        Role::Admin,
        Role::Member,
        Role::Billing,
        Role::Viewer,
    ]
    .into_iter()
    .filter(|r| {
        role.at_least(Role::Admin)
            && role.rank() >= r.rank()
            && (role == Role::Owner || *r != Role::Owner)
    })
    .map(Role::as_str)
    .collect()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn access(role: Role) -> TenantAccess {
        TenantAccess {
            tenant_id: Uuid::nil(),
            user_id: Uuid::nil(),
            role,
        }
    }

    #[test]
    fn nobody_grants_above_their_own_role() {
        assert!(may_grant(&access(Role::Owner), Role::Owner).is_ok());
        assert!(may_grant(&access(Role::Admin), Role::Admin).is_ok());
        assert!(may_grant(&access(Role::Admin), Role::Viewer).is_ok());
        assert!(may_grant(&access(Role::Admin), Role::Owner).is_err());
        assert!(may_grant(&access(Role::Member), Role::Admin).is_err());
    }

    #[test]
    fn grantable_roles_follow_the_rank() {
        assert_eq!(grantable(Role::Owner).len(), 5);
        assert_eq!(
            grantable(Role::Admin),
            ["admin", "member", "billing", "viewer"]
        );
        assert!(grantable(Role::Member).is_empty());
        assert!(grantable(Role::Viewer).is_empty());
    }
}
