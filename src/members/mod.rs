//! A tenant's team: members and roles, invitations, and the tenant's own
//! settings. Every change runs in the acting member's tenant scope and writes its
//! audit entry in the same transaction.
//!
//! Rules: roles rank owner > admin > member (billing and viewer lowest); nobody
//! grants a role above their own or changes someone ranked above them; a tenant
//! always keeps at least one owner (CONFLICT otherwise). Removing a member,
//! leaving, or a demotion below admin revokes the pending invitations and the
//! API keys that person could no longer make.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::auth::jwt::JwtKeys;
use crate::auth::sessions::{self, Grant};
use crate::auth::signup::{normalize_email, normalize_tenant_name};
use crate::auth::tokens::{self, Kind};
use crate::auth::{Role, TenantAccess, Verified, key_revocation};
use crate::auth::{passwords, throttle};
use crate::db::schema::{invitations, memberships, plans, tenants, users};
use crate::db::{Db, users as user_rows};
use crate::error::{AppError, AppResult, unique_violation};
use crate::mail::{Mail, Mailer};
use crate::tenancy::{Scope, not_found};

/// How long an invitation stays valid.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// A membership row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct Member {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

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

/// Who is acting, for the audit trail.
pub fn actor(verified: &Verified) -> Actor {
    Actor::User {
        id: verified.user_id,
        email: Some(verified.email.clone()),
    }
}

/// A page of the scope's tenant's members, oldest first, after `(joined, user)`.
pub async fn members_page(
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
        query = query.filter(crate::db::keyset(
            "memberships.created_at, memberships.user_id",
            crate::db::Keyset::After,
            at,
            id,
        ));
    }
    query.load(conn).await
}

/// [`members_page`] with each member's user, in one statement.
pub async fn members_page_with_users(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(Member, user_rows::User)>> {
    let mut query = memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant_id))
        .order((memberships::created_at, memberships::user_id))
        .limit(limit + 1)
        .select((Member::as_select(), user_rows::User::as_select()))
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(crate::db::keyset(
            "memberships.created_at, memberships.user_id",
            crate::db::Keyset::After,
            at,
            id,
        ));
    }
    query.load(conn).await
}

/// A page of the scope's tenant's invitations, oldest first.
pub async fn invitations_page(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    pending_only: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Invitation>> {
    let mut query = invitations::table
        .filter(invitations::tenant_id.eq(tenant_id))
        .order((invitations::created_at, invitations::id))
        .limit(limit + 1)
        .select(Invitation::as_select())
        .into_boxed();
    if pending_only {
        query = query
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .filter(invitations::expires_at.gt(diesel::dsl::now));
    }
    if let Some((at, id)) = after {
        query = query.filter(crate::db::keyset(
            "invitations.created_at, invitations.id",
            crate::db::Keyset::After,
            at,
            id,
        ));
    }
    query.load(conn).await
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

/// The owners of the tenant, locked until the transaction ends (so two owners
/// cannot demote each other at the same time).
async fn lock_owners(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> QueryResult<Vec<Uuid>> {
    memberships::table
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .select(memberships::user_id)
        .for_update()
        .load(conn)
        .await
}

/// The caller's role as it stands now (read and locked in the mutating
/// transaction, not taken from the start of the request).
async fn current_role(conn: &mut AsyncPgConnection, me: &TenantAccess) -> AppResult<Role> {
    let stored: Option<String> = memberships::table
        .find((me.tenant_id, me.user_id))
        .select(memberships::role)
        .for_share()
        .first(conn)
        .await
        .optional()?;
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

/// Revokes the pending invitations `user_id` sent that their `role` could not
/// send any more (after a demotion or a removal).
async fn revoke_invitations_above(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Option<Role>,
) -> QueryResult<usize> {
    let allowed = role.map(grantable).unwrap_or_default();
    diesel::update(
        invitations::table
            .filter(invitations::tenant_id.eq(tenant_id))
            .filter(invitations::invited_by.eq(user_id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .filter(diesel::dsl::not(invitations::role.eq_any(allowed))),
    )
    .set(invitations::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

async fn member(conn: &mut AsyncPgConnection, tenant_id: Uuid, user_id: Uuid) -> AppResult<Member> {
    memberships::table
        .find((tenant_id, user_id))
        .select(Member::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| not_found("member"))
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
            spend_invitation_budgets(conn, tenant_id, me.user_id).await?;
            // One statement, and no global email lookup: only this tenant's
            // members are visible here.
            let already: i64 = memberships::table
                .inner_join(users::table)
                .filter(memberships::tenant_id.eq(tenant_id))
                .filter(users::email.eq(&email))
                .count()
                .get_result(conn)
                .await?;
            if already > 0 {
                return Err(AppError::conflict(format!("{email} is already a member")));
            }
            let tenant_name: String = tenants::table
                .find(tenant_id)
                .select(tenants::name)
                .first(conn)
                .await?;
            let minted = tokens::mint(Kind::Invitation, tenant_id);
            let id = Uuid::now_v7();
            let invitation = diesel::insert_into(invitations::table)
                .values((
                    invitations::id.eq(id),
                    invitations::tenant_id.eq(tenant_id),
                    invitations::email.eq(&email),
                    invitations::role.eq(role.as_str()),
                    invitations::token_hash.eq(&minted.hash),
                    invitations::invited_by.eq(Some(actor_id(&actor))),
                    invitations::expires_at.eq(Utc::now() + INVITATION_TTL),
                ))
                .returning(Invitation::as_returning())
                .get_result(conn)
                .await
                .map_err(|err| {
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
                    Mail {
                        to: email.clone(),
                        subject: format!("{inviter} invited you to {tenant_name}"),
                        body: format!(
                            "{inviter} invited you to join {tenant_name} on tenantgate as {role}.\n\n\
                             Accept within 7 days: {link}"
                        ),
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
    let verified: Option<DateTime<Utc>> = users::table
        .find(user_id)
        .select(users::email_verified_at)
        .first(conn)
        .await?;
    if verified.is_none() {
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
        Actor::Anonymous | Actor::System => Uuid::nil(),
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
    let hash = tokens::hash(token);
    let lookup_hash = hash.clone();
    let invitation = db
        .scoped(Scope::tenant(tenant_id), |conn| {
            async move {
                Ok(invitations::table
                    .filter(invitations::token_hash.eq(&lookup_hash))
                    .select(Invitation::as_select())
                    .first(conn)
                    .await
                    .optional()?)
            }
            .scope_boxed()
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
            // The invitation proves the address: it received the link.
            user_rows::mark_verified(conn, user_id).await?;
            let taken = diesel::update(
                invitations::table
                    .find(invitation.id)
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::revoked_at.is_null()),
            )
            .set(invitations::accepted_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
            if taken != 1 {
                return Err(invalid());
            }
            diesel::insert_into(memberships::table)
                .values((
                    memberships::tenant_id.eq(tenant_id),
                    memberships::user_id.eq(user_id),
                    memberships::role.eq(&invitation.role),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
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
            let revoked = diesel::update(
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
            .optional()?
            .ok_or_else(|| not_found("pending invitation"))?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant_id), actor, "invitation.revoke")
                    .target("invitation", id)
                    .change(Some(json!({ "email": revoked.email })), None),
            )
            .await?;
            Ok(revoked)
        }
        .scope_boxed()
    })
    .await
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
            let updated = diesel::update(memberships::table.find((me.tenant_id, user_id)))
                .set(memberships::role.eq(role.as_str()))
                .returning(Member::as_returning())
                .get_result(conn)
                .await?;
            revoke_invitations_above(conn, me.tenant_id, user_id, Some(role)).await?;
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
            diesel::delete(memberships::table.find((me.tenant_id, user_id)))
                .execute(conn)
                .await?;
            revoke_invitations_above(conn, me.tenant_id, user_id, None).await?;
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
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// A tenant's public look.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub accent_color: Option<String>,
    pub support_email: Option<String>,
}

impl Branding {
    /// Validates every field; the first bad one is a BAD_USER_INPUT naming it.
    pub fn validate(mut self) -> AppResult<Self> {
        if let Some(name) = &self.display_name {
            self.display_name = Some(normalize_tenant_name(name).map_err(|_| {
                AppError::bad_field(
                    "branding.displayName",
                    "1 to 100 characters, no control characters",
                )
            })?);
        }
        if let Some(url) = &self.logo_url {
            let ok = url.len() <= 2048
                && url.starts_with("https://")
                && url.len() > "https://".len()
                && !url.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(AppError::bad_field(
                    "branding.logoUrl",
                    "must be an https:// URL",
                ));
            }
        }
        for (field, value) in [
            ("branding.primaryColor", &self.primary_color),
            ("branding.accentColor", &self.accent_color),
        ] {
            if let Some(color) = value {
                let hex = color.strip_prefix('#').unwrap_or("");
                if !(hex.len() == 6 || hex.len() == 3)
                    || !hex.chars().all(|c| c.is_ascii_hexdigit())
                {
                    return Err(AppError::bad_field(
                        field,
                        "must be a hex color such as #4f46e5",
                    ));
                }
            }
        }
        if let Some(email) = &self.support_email {
            self.support_email = Some(normalize_email(email).map_err(|_| {
                AppError::bad_field("branding.supportEmail", "not a valid email address")
            })?);
        }
        Ok(self)
    }

    fn is_custom(&self) -> bool {
        self != &Self::default()
    }
}

/// Validates a slug: 1 to 48 lower-case letters, digits and inner dashes.
pub fn validate_slug(slug: &str) -> AppResult<String> {
    let slug = slug.trim().to_owned();
    let ok = (1..=48).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !ok {
        return Err(AppError::bad_field(
            "slug",
            "1 to 48 lower-case letters, digits and dashes, not starting or ending with a dash",
        ));
    }
    Ok(slug)
}

/// What `update_tenant` may change (absent: unchanged).
#[derive(Debug, Clone, Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub branding: Option<Branding>,
}

/// Changes the tenant's name, slug or branding.
pub async fn update_tenant(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    changes: TenantChanges,
) -> AppResult<crate::db::tenants::Tenant> {
    access.require(Role::Admin)?;
    let name = changes
        .name
        .as_deref()
        .map(normalize_tenant_name)
        .transpose()?;
    let slug = changes.slug.as_deref().map(validate_slug).transpose()?;
    let branding = changes.branding.map(Branding::validate).transpose()?;
    let (meta, actor, tenant_id) = (meta.clone(), actor(verified), access.tenant_id);
    db.scoped(access.scope(), |conn| {
        async move {
            let (before_name, before_slug, before_branding, plan): (String, String, Value, String) =
                tenants::table
                    .find(tenant_id)
                    .select((tenants::name, tenants::slug, tenants::branding, tenants::plan_key))
                    .for_update()
                    .first(conn)
                    .await?;
            if let Some(branding) = branding.as_ref().filter(|b| b.is_custom()) {
                let allowed: bool = plans::table
                    .find(&plan)
                    .select(plans::custom_branding)
                    .first(conn)
                    .await?;
                if !allowed {
                    let _ = branding;
                    return Err(AppError::PaymentRequired(format!(
                        "custom branding is not part of the {plan} plan: upgrade to use it"
                    )));
                }
            }
            let branding_json = branding
                .as_ref()
                .map(|b| serde_json::to_value(b).unwrap_or(Value::Null));
            let updated = diesel::update(tenants::table.find(tenant_id))
                .set((
                    tenants::name.eq(name.clone().unwrap_or(before_name.clone())),
                    tenants::slug.eq(slug.clone().unwrap_or(before_slug.clone())),
                    tenants::branding.eq(branding_json.clone().unwrap_or(before_branding.clone())),
                ))
                .returning(crate::db::tenants::Tenant::as_returning())
                .get_result(conn)
                .await
                .map_err(|err| {
                    if unique_violation(&err).is_some() {
                        AppError::conflict("that slug is taken")
                    } else {
                        err.into()
                    }
                })?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant_id), actor, "tenant.update")
                    .target("tenant", tenant_id)
                    .change(
                        Some(json!({ "name": before_name, "slug": before_slug, "branding": before_branding })),
                        Some(json!({ "name": updated.name, "slug": updated.slug, "branding": branding_json.unwrap_or(before_branding) })),
                    ),
            )
            .await?;
            Ok(updated)
        }
        .scope_boxed()
    })
    .await
}

/// The users with these ids, as the scope may see them (one statement).
pub async fn users_by_id(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<user_rows::User>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select(user_rows::User::as_select())
        .load(conn)
        .await
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn branding_and_slugs_are_validated() {
        let ok = Branding {
            primary_color: Some("#4f46e5".into()),
            logo_url: Some("https://cdn.example.com/logo.png".into()),
            support_email: Some("Help@Example.com".into()),
            ..Branding::default()
        };
        assert_eq!(
            ok.validate().unwrap().support_email.as_deref(),
            Some("help@example.com")
        );
        for bad in [
            Branding {
                primary_color: Some("red".into()),
                ..Branding::default()
            },
            Branding {
                logo_url: Some("http://x.example/logo.png".into()),
                ..Branding::default()
            },
            Branding {
                logo_url: Some("javascript:alert(1)".into()),
                ..Branding::default()
            },
            Branding {
                support_email: Some("nope".into()),
                ..Branding::default()
            },
        ] {
            assert_eq!(
                bad.validate().unwrap_err().code().as_str(),
                "BAD_USER_INPUT"
            );
        }
        assert_eq!(validate_slug(" acme-2 ").unwrap(), "acme-2");
        for bad in ["", "-a", "a-", "UPPER", "sp ace", &"a".repeat(49)] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }
}
