//! The team: changing a member's role, removing a member, leaving; the owner
//! rules (a tenant keeps at least one owner; nobody changes someone ranked
//! above them). A demotion below admin, a removal or leaving revokes the
//! invitations and API keys that person could no longer make.

use diesel_async::AsyncPgConnection;
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::{actor, current_role, emit_invitation, grantable, may_grant, member_data, role_of};
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::{Role, TenantAccess, Verified, key_revocation};
use crate::db::memberships::{self, Member};
use crate::db::{Db, invitations};
use crate::error::{AppError, AppResult};
use crate::tenancy::not_found;
use crate::webhooks::{self, EventType};

/// The owners of the tenant, locked until the transaction ends (so two owners
/// cannot demote each other at the same time).
async fn lock_owners(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> diesel::QueryResult<Vec<Uuid>> {
    memberships::lock_holders_of(conn, tenant_id, Role::Owner.as_str()).await
}

/// Revokes the pending invitations `user_id` sent that their `role` could not
/// send any more (after a demotion or a removal), with an
/// `invitation.revoked` event each (`reason`).
async fn revoke_invitations_above(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Option<Role>,
    reason: &str,
) -> AppResult<usize> {
    let allowed = role.map(grantable).unwrap_or_default();
    let revoked = invitations::revoke_sent_by_except(conn, tenant_id, user_id, &allowed).await?;
    for invitation in &revoked {
        emit_invitation(conn, EventType::InvitationRevoked, invitation, Some(reason)).await?;
    }
    Ok(revoked.len())
}

/// The member, locked until the transaction ends; NOT_FOUND if there is none.
async fn member(conn: &mut AsyncPgConnection, tenant_id: Uuid, user_id: Uuid) -> AppResult<Member> {
    memberships::find_for_update(conn, tenant_id, user_id)
        .await?
        .ok_or_else(|| not_found("member"))
}

/// Changes a member's role.
pub async fn update_role(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    user_id: Uuid,
    role: Role,
) -> AppResult<Member> {
    access.require(Role::Admin)?;
    may_grant(access, role)?;
    let (meta, actor, me) = (meta.clone(), actor(verified), access.clone());
    db.scoped(access.scope(), |conn| {
        async move {
            let owners = lock_owners(conn, me.tenant_id).await?;
            let my_role = current_role(conn, &me).await?;
            let mine = TenantAccess {
                role: my_role,
                ..me.clone()
            };
            mine.require(Role::Admin)?;
            may_grant(&mine, role)?;
            let current = member(conn, me.tenant_id, user_id).await?;
            let before = role_of(&current.role)?;
            if before.rank() > my_role.rank() {
                return Err(AppError::forbidden(format!(
                    "a {my_role} cannot change a {before}"
                )));
            }
            if before == Role::Owner && role != Role::Owner && owners.len() <= 1 {
                return Err(AppError::conflict(
                    "a tenant must keep at least one owner: make someone else owner first",
                ));
            }
            let updated = memberships::set_role(conn, me.tenant_id, user_id, role.as_str()).await?;
            let why = "member_role_changed";
            revoke_invitations_above(conn, me.tenant_id, user_id, Some(role), why).await?;
            if !role.at_least(Role::Admin) {
                let why = key_revocation::Reason::Demoted;
                key_revocation::revoke_made_by(conn, &meta, &actor, me.tenant_id, user_id, why)
                    .await?;
            }
            audit::record(
                conn,
                &meta,
                Entry::new(Some(me.tenant_id), actor, "member.role_change")
                    .target("user", user_id)
                    .change(
                        Some(json!({ "role": before.as_str() })),
                        Some(json!({ "role": role.as_str() })),
                    ),
            )
            .await?;
            if before != role {
                let email = memberships::email_of(conn, me.tenant_id, user_id).await?;
                let mut data = member_data(user_id, email.as_deref(), role.as_str());
                data["previousRole"] = before.as_str().into();
                webhooks::emit(conn, me.tenant_id, EventType::MemberRoleChanged, data).await?;
            }
            Ok(updated)
        }
        .scope_boxed()
    })
    .await
}

/// Removes a member (`user_id == caller` is leaving, allowed at any role).
pub async fn remove(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    user_id: Uuid,
) -> AppResult<()> {
    let leaving = user_id == access.user_id;
    if !leaving {
        access.require(Role::Admin)?;
    }
    let (meta, actor, me) = (meta.clone(), actor(verified), access.clone());
    db.scoped(access.scope(), |conn| {
        async move {
            let owners = lock_owners(conn, me.tenant_id).await?;
            let my_role = current_role(conn, &me).await?;
            if !leaving && !my_role.at_least(Role::Admin) {
                return Err(AppError::forbidden(format!(
                    "this needs the admin role or higher; you are {my_role}"
                )));
            }
            let current = member(conn, me.tenant_id, user_id).await?;
            let role = role_of(&current.role)?;
            if !leaving && role.rank() > my_role.rank() {
                return Err(AppError::forbidden(format!(
                    "a {my_role} cannot remove a {role}"
                )));
            }
            if role == Role::Owner && owners.len() <= 1 {
                return Err(AppError::conflict(
                    "a tenant must keep at least one owner: make someone else owner first",
                ));
            }
            let email = memberships::email_of(conn, me.tenant_id, user_id).await?;
            memberships::delete(conn, me.tenant_id, user_id).await?;
            let reason = if leaving { "left" } else { "removed" };
            let why = format!("member_{reason}");
            revoke_invitations_above(conn, me.tenant_id, user_id, None, &why).await?;
            let why = if leaving {
                key_revocation::Reason::Left
            } else {
                key_revocation::Reason::Removed
            };
            key_revocation::revoke_made_by(conn, &meta, &actor, me.tenant_id, user_id, why).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(
                    Some(me.tenant_id),
                    actor,
                    if leaving {
                        "member.leave"
                    } else {
                        "member.remove"
                    },
                )
                .target("user", user_id)
                .change(Some(json!({ "role": role.as_str() })), None),
            )
            .await?;
            let mut data = member_data(user_id, email.as_deref(), role.as_str());
            data["reason"] = reason.into();
            webhooks::emit(conn, me.tenant_id, EventType::MemberRemoved, data).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}
