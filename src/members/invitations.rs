//! Invitations: inviting someone by email (with the invitation's email text),
//! accepting (joining with an existing account or creating one), revoking.

use chrono::{Duration, Utc};
use diesel_async::AsyncPgConnection;
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::{
    actor, current_role, emit_invitation, invitation_data, may_grant, member_data, role_of,
};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::auth::jwt::JwtKeys;
use crate::auth::sessions::{self, Grant};
use crate::auth::signup::normalize_email;
use crate::auth::tokens::{self, Kind};
use crate::auth::{Role, TenantAccess, Verified};
use crate::auth::{passwords, throttle};
use crate::db::invitations::{self as rows, Invitation, InvitationStatus, NewInvitation};
use crate::db::{Db, memberships, plans as plan_rows, tenants, users as user_rows};
use crate::error::{AppError, AppResult, unique_violation};
use crate::mail::{Mail, Mailer};
use crate::plans::{self, Seat};
use crate::tenancy::{Scope, not_found};
use crate::webhooks::{self, EventType};

/// How long an invitation stays valid.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// The invitation email: who invites, to which tenant, as what, and the link.
fn invitation_mail(to: &str, inviter: &str, tenant_name: &str, role: Role, link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("{inviter} invited you to {tenant_name}"),
        body: format!(
            "{inviter} invited you to join {tenant_name} on tenantgate as {role}.\n\n\
             Accept within 7 days: {link}"
        ),
    }
}

/// Invites `email` with `role`; emails the invitation link.
pub async fn invite(
    db: &Db,
    mailer: &Mailer,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    raw_email: &str,
    role: Role,
) -> AppResult<Invitation> {
    access.require(Role::Admin)?;
    may_grant(access, role)?;
    let email = normalize_email(raw_email)?;
    let (mailer, meta, actor) = (mailer.clone(), meta.clone(), actor(verified));
    let tenant_id = access.tenant_id;
    let inviter = verified.email.clone();
    let me = access.clone();
    db.scoped(access.scope(), |conn| {
        async move {
            let mine = TenantAccess {
                role: current_role(conn, &me).await?,
                ..me.clone()
            };
            mine.require(Role::Admin)?;
            may_grant(&mine, role)?;
            require_verified_inviter(conn, me.user_id).await?;
            // Locks the tenant's row: concurrent invitations and acceptances
            // count their seats one after the other.
            plans::take_seat(conn, tenant_id, Seat::Invitation).await?;
            spend_invitation_budgets(conn, tenant_id, me.user_id).await?;
            if memberships::has_member_with_email(conn, tenant_id, &email).await? {
                return Err(AppError::conflict(format!("{email} is already a member")));
            }
            let id = Uuid::now_v7();
            let invitation = send(
                conn,
                &mailer,
                Outgoing {
                    id,
                    tenant_id,
                    email: &email,
                    role,
                    inviter: &inviter,
                    invited_by: actor_id(&actor),
                },
            )
            .await?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant_id), actor, "invitation.create")
                    .target("invitation", id)
                    .change(None, Some(json!({ "email": email, "role": role.as_str() }))),
            )
            .await?;
            emit_invitation(conn, EventType::InvitationCreated, &invitation, None).await?;
            Ok(invitation)
        }
        .scope_boxed()
    })
    .await
}

/// An invitation about to be stored and mailed.
struct Outgoing<'a> {
    id: Uuid,
    tenant_id: Uuid,
    email: &'a str,
    role: Role,
    inviter: &'a str,
    invited_by: Uuid,
}

/// Stores a new pending invitation with a fresh token and queues its email
/// (the link carries the token; only its hash is kept). CONFLICT when the
/// address already has one pending.
async fn send(
    conn: &mut AsyncPgConnection,
    mailer: &Mailer,
    out: Outgoing<'_>,
) -> AppResult<Invitation> {
    let tenant_name = tenants::name(conn, out.tenant_id).await?;
    let minted = tokens::mint(Kind::Invitation, out.tenant_id);
    let new = NewInvitation {
        id: out.id,
        tenant_id: out.tenant_id,
        email: out.email,
        role: out.role.as_str(),
        token_hash: &minted.hash,
        invited_by: Some(out.invited_by),
        expires_at: Utc::now() + INVITATION_TTL,
    };
    let email = out.email;
    let invitation = rows::insert(conn, &new).await.map_err(|err| {
        if unique_violation(&err).is_some() {
            AppError::conflict(format!("{email} already has a pending invitation"))
        } else {
            err.into()
        }
    })?;
    let link = format!(
        "{}/auth/accept-invitation?token={}",
        mailer.public_url, minted.token
    );
    mailer
        .queue(
            conn,
            invitation_mail(email, out.inviter, &tenant_name, out.role, &link),
        )
        .await?;
    Ok(invitation)
}

/// Sends an invitation that is still open (pending, or expired unaccepted)
/// again: it is revoked, and a new one for the same address and role, with a
/// new link valid for [`INVITATION_TTL`], is stored and mailed, so the old
/// link stops working. The same rules and budgets as inviting: an admin or
/// owner with a confirmed email, a role no higher than the resender may
/// grant, the invitation budgets, a seat of the plan. NOT_FOUND for an
/// invitation that is not open in the caller's tenant.
pub async fn resend_invitation(
    db: &Db,
    mailer: &Mailer,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    id: Uuid,
) -> AppResult<Invitation> {
    access.require(Role::Admin)?;
    let (mailer, meta, actor) = (mailer.clone(), meta.clone(), actor(verified));
    let tenant_id = access.tenant_id;
    let inviter = verified.email.clone();
    let me = access.clone();
    db.scoped(access.scope(), |conn| {
        async move {
            let mine = TenantAccess {
                role: current_role(conn, &me).await?,
                ..me.clone()
            };
            mine.require(Role::Admin)?;
            require_verified_inviter(conn, me.user_id).await?;
            // The tenant's row first, as inviting and accepting lock it, then
            // the invitation's: no two of them wait on each other.
            plan_rows::lock_tenant_plan(conn, tenant_id).await?;
            let old = rows::revoke_open(conn, tenant_id, id)
                .await?
                .ok_or_else(|| not_found("open invitation"))?;
            let role = role_of(&old.role)?;
            may_grant(&mine, role)?;
            // The old invitation's seat is free again (revoked above).
            plans::take_seat(conn, tenant_id, Seat::Invitation).await?;
            spend_invitation_budgets(conn, tenant_id, me.user_id).await?;
            if memberships::has_member_with_email(conn, tenant_id, &old.email).await? {
                return Err(AppError::conflict(format!(
                    "{} is already a member",
                    old.email
                )));
            }
            let new_id = Uuid::now_v7();
            let invitation = send(
                conn,
                &mailer,
                Outgoing {
                    id: new_id,
                    tenant_id,
                    email: &old.email,
                    role,
                    inviter: &inviter,
                    invited_by: actor_id(&actor),
                },
            )
            .await?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant_id), actor, "invitation.resend")
                    .target("invitation", new_id)
                    .change(
                        Some(json!({ "id": old.id, "email": old.email, "role": old.role, "expiresAt": old.expires_at })),
                        Some(json!({ "id": new_id, "email": invitation.email, "role": invitation.role, "expiresAt": invitation.expires_at })),
                    ),
            )
            .await?;
            emit_invitation(conn, EventType::InvitationRevoked, &old, Some("resent")).await?;
            emit_invitation(conn, EventType::InvitationCreated, &invitation, None).await?;
            Ok(invitation)
        }
        .scope_boxed()
    })
    .await
}

/// FORBIDDEN unless the inviter's own email address is confirmed: invitations
/// carry the inviter's address and the tenant's name to anyone, so only
/// someone who has shown they own an address may send them.
async fn require_verified_inviter(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<()> {
    if user_rows::email_verified_at(conn, user_id).await?.is_none() {
        return Err(AppError::forbidden(
            "confirm your email address before inviting anyone \
             (requestEmailVerification sends the link)",
        ));
    }
    Ok(())
}

/// Spends one invitation of the inviter's and of the tenant's budget, in the
/// inviting transaction (an invitation that fails costs nothing).
async fn spend_invitation_budgets(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<()> {
    let budgets = [
        (
            format!("invite:user:{user_id}"),
            throttle::INVITES_PER_INVITER,
        ),
        (
            format!("invite:tenant:{tenant_id}"),
            throttle::INVITES_PER_TENANT,
        ),
    ];
    throttle::spend_on(conn, &budgets)
        .await
        .map_err(|err| match err {
            AppError::RateLimited { retry_after, .. } => AppError::rate_limited(
                format!(
                    "too many invitations: at most {} an hour per member and {} a day per tenant",
                    throttle::INVITES_PER_INVITER.max,
                    throttle::INVITES_PER_TENANT.max
                ),
                retry_after,
            ),
            other => other,
        })
}

fn actor_id(actor: &Actor) -> Uuid {
    match actor {
        Actor::User { id, .. } | Actor::PlatformAdmin { id } | Actor::ApiKey { id, .. } => *id,
        Actor::Anonymous | Actor::System | Actor::Stripe { .. } => Uuid::nil(),
    }
}

/// Accepts an invitation: joins an existing account (the caller must be signed
/// in as the invited email) or creates one (with `password`). Returns a session
/// acting in the tenant.
pub async fn accept(
    db: &Db,
    keys: &JwtKeys,
    meta: &RequestMeta,
    caller: Option<&Verified>,
    token: &str,
    password: Option<String>,
) -> AppResult<Grant> {
    let invalid = || AppError::not_found("this invitation is invalid, used, revoked or expired");
    let tenant_id = tokens::scope_id(Kind::Invitation, token).ok_or_else(invalid)?;
    // On a tenant's custom domain, or by a session signed in on one, only
    // that tenant's invitations are accepted, and the session made here is
    // bound to it (a bound caller never gets an unbound session by asking
    // on the portal's address).
    let bound = meta
        .bound_tenant
        .or_else(|| caller.and_then(|c| c.bound_tenant));
    if bound.is_some_and(|b| b != tenant_id) {
        return Err(AppError::forbidden(crate::auth::BOUND_ELSEWHERE));
    }
    let meta = &RequestMeta {
        bound_tenant: bound,
        ..meta.clone()
    };
    let hash = tokens::hash(token);
    let lookup_hash = hash.clone();
    let invitation = db
        .scoped(Scope::tenant(tenant_id), |conn| {
            async move { Ok(rows::find_by_token_hash(conn, &lookup_hash).await?) }.scope_boxed()
        })
        .await?
        .filter(|i| i.status() == InvitationStatus::Pending)
        .ok_or_else(invalid)?;
    let email = invitation.email.clone();
    let lookup = email.clone();
    let existing = db
        .scoped(Scope::anonymous().with_email_lookup(&email), |conn| {
            async move { Ok(user_rows::find_by_email(conn, &lookup).await?) }.scope_boxed()
        })
        .await?;
    let (user_id, new_hash) = match (&existing, caller) {
        (Some(user), Some(caller)) if caller.user_id == user.id => (user.id, None),
        (Some(_), _) => {
            return Err(AppError::forbidden(format!(
                "{email} already has an account: sign in as {email} to accept"
            )));
        }
        (None, _) => {
            let password = password.ok_or_else(|| {
                AppError::bad_field("password", "choose a password for your new account")
            })?;
            // Spent before the password is checked or hashed.
            throttle::spend(
                db,
                &[
                    (
                        throttle::address_key("pwset", meta.ip.as_deref().unwrap_or("unknown")),
                        throttle::PASSWORD_SETS_PER_ADDRESS,
                    ),
                    (
                        format!("pwset:invitation:{}", invitation.id),
                        throttle::PASSWORD_SETS,
                    ),
                ],
            )
            .await?;
            passwords::check_strength_async(&password, &[&email]).await?;
            (Uuid::now_v7(), Some(passwords::hash(password).await?))
        }
    };
    let meta_tx = meta.clone();
    db.scoped(Scope::tenant_user(tenant_id, user_id), |conn| {
        async move {
            // Nobody joins a tenant that waits for its purge.
            if crate::db::tenants::find(conn, tenant_id)
                .await?
                .is_some_and(|t| t.status == "pending_deletion")
            {
                return Err(crate::auth::pending_deletion());
            }
            if let Some(hash) = &new_hash {
                user_rows::insert(
                    conn,
                    &user_rows::NewUser {
                        id: user_id,
                        email: &email,
                        password_hash: Some(hash),
                    },
                )
                .await
                .map_err(|err| {
                    if unique_violation(&err).is_some() {
                        AppError::conflict(
                            "an account with this email was just created: sign in to accept",
                        )
                    } else {
                        err.into()
                    }
                })?;
            }
            // A new member takes a seat of the plan (the tenant's row is
            // locked until commit: two acceptances of the last seat cannot
            // both get it). Someone already a member takes none.
            if memberships::role_for_share(conn, tenant_id, user_id)
                .await?
                .is_none()
            {
                plans::take_seat(conn, tenant_id, Seat::Membership).await?;
            }
            // The invitation proves the address: it received the link.
            user_rows::mark_verified(conn, user_id).await?;
            let taken = rows::mark_accepted(conn, invitation.id).await?;
            if taken != 1 {
                return Err(invalid());
            }
            let membership = memberships::NewMembership {
                tenant_id,
                user_id,
                role: &invitation.role,
            };
            let joined = memberships::insert_if_absent(conn, &membership).await?;
            audit::record(
                conn,
                &meta_tx,
                Entry::new(
                    Some(tenant_id),
                    Actor::User {
                        id: user_id,
                        email: Some(email.clone()),
                    },
                    "invitation.accept",
                )
                .target("invitation", invitation.id)
                .change(
                    None,
                    Some(json!({ "userId": user_id, "role": invitation.role })),
                ),
            )
            .await?;
            let mut data = invitation_data(&invitation, None);
            data["userId"] = user_id.to_string().into();
            webhooks::emit(conn, tenant_id, EventType::InvitationAccepted, data).await?;
            if joined {
                let mut data = member_data(user_id, Some(&email), &invitation.role);
                data["invitationId"] = invitation.id.to_string().into();
                webhooks::emit(conn, tenant_id, EventType::MemberJoined, data).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    sessions::start(
        db,
        keys,
        meta,
        user_id,
        Some(tenant_id),
        "session.invitation",
    )
    .await
}

/// Revokes a pending invitation.
pub async fn revoke_invitation(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    id: Uuid,
) -> AppResult<Invitation> {
    access.require(Role::Admin)?;
    let (meta, actor, tenant_id) = (meta.clone(), actor(verified), access.tenant_id);
    db.scoped(access.scope(), |conn| {
        async move {
            let revoked = rows::revoke_open(conn, tenant_id, id)
                .await?
                .ok_or_else(|| not_found("pending invitation"))?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant_id), actor, "invitation.revoke")
                    .target("invitation", id)
                    .change(Some(json!({ "email": revoked.email })), None),
            )
            .await?;
            emit_invitation(
                conn,
                EventType::InvitationRevoked,
                &revoked,
                Some("revoked"),
            )
            .await?;
            Ok(revoked)
        }
        .scope_boxed()
    })
    .await
}
