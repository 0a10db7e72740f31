//! Managing API keys: create, rotate, update, revoke, list — by a member (admin
//! or owner to change, any role but billing to read) or by a key holding
//! `keys:read` / `keys:write`, which never reaches beyond its own scopes and
//! environment, rate limit or expiry ([`super::key_bounds`]). Every change is
//! audited in its own transaction, which first re-reads and locks the caller's
//! standing (a member's role, a key's own row), so a demotion or revocation
//! that commits first wins.

use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::api_keys::{self, Environment, KeyGrant, KeyScope, Rate, Scopes};
use super::key_bounds::Bounds;
use super::{Role, TenantAccess, Verified};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::api_keys::{self as rows, ApiKey, KeyState, NewApiKey};
use crate::db::{Db, memberships};
use crate::error::{AppError, AppResult};
use crate::tenancy::{Scope, not_found};
use crate::webhooks::{self, EventType};

/// Longest grace period of a rotation (the old secret keeps working).
pub const MAX_GRACE_SECONDS: i64 = 30 * 86_400;

/// Who manages keys.
#[derive(Debug, Clone)]
pub enum Manager {
    Member {
        verified: Verified,
        access: TenantAccess,
    },
    Key(std::sync::Arc<KeyGrant>),
}

impl Manager {
    pub fn tenant_id(&self) -> Uuid {
        match self {
            Self::Member { access, .. } => access.tenant_id,
            Self::Key(grant) => grant.tenant_id,
        }
    }

    pub fn scope(&self) -> Scope {
        match self {
            Self::Member { access, .. } => access.scope(),
            Self::Key(grant) => Scope::tenant(grant.tenant_id),
        }
    }

    pub(crate) fn actor(&self) -> Actor {
        match self {
            Self::Member { verified, .. } => Actor::User {
                id: verified.user_id,
                email: Some(verified.email.clone()),
            },
            Self::Key(grant) => Actor::ApiKey {
                id: grant.key_id,
                label: grant.display_prefix.clone(),
            },
        }
    }

    /// May read the tenant's keys.
    pub fn require_read(&self) -> AppResult<()> {
        match self {
            Self::Member { access, .. } if access.role == Role::Billing => {
                Err(AppError::forbidden("the billing role cannot see API keys"))
            }
            Self::Member { .. } => Ok(()),
            Self::Key(grant) => grant.require(KeyScope::KeysRead),
        }
    }

    /// May create or change keys of `environment` with `scopes`.
    fn require_write(&self, environment: Environment, scopes: Scopes) -> AppResult<()> {
        match self {
            Self::Member { access, .. } => access.require(Role::Admin),
            Self::Key(grant) => {
                grant.require(KeyScope::KeysWrite)?;
                if environment != grant.environment {
                    return Err(AppError::forbidden(format!(
                        "a {} key manages {} keys only",
                        grant.environment.as_str(),
                        grant.environment.as_str()
                    )));
                }
                if !scopes.is_subset_of(grant.scopes) {
                    return Err(AppError::forbidden(
                        "an API key cannot grant or touch scopes it does not hold",
                    ));
                }
                Ok(())
            }
        }
    }

    fn created_by(&self) -> Option<Uuid> {
        match self {
            Self::Member { verified, .. } => Some(verified.user_id),
            Self::Key(grant) => grant.created_by,
        }
    }
}

/// Re-reads a member's role inside the mutating transaction, share-locked
/// (a demotion or removal that commits first wins; one that comes later waits).
pub(crate) async fn confirm_member(
    conn: &mut diesel_async::AsyncPgConnection,
    access: &TenantAccess,
) -> AppResult<()> {
    let stored = memberships::role_for_share(conn, access.tenant_id, access.user_id)
        .await?
        .ok_or_else(|| AppError::forbidden("you are no longer a member of this tenant"))?;
    let role = Role::parse(&stored)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role {stored:?} stored")))?;
    TenantAccess {
        role,
        ..access.clone()
    }
    .require(Role::Admin)
}

/// The calling key's bounds, from its row among `locked` (UNAUTHENTICATED if
/// it is gone).
fn bounds_among(grant: &KeyGrant, locked: &[ApiKey]) -> AppResult<Bounds> {
    let row = locked
        .iter()
        .find(|k| k.id == grant.key_id)
        .ok_or_else(|| AppError::unauthenticated("this API key no longer exists"))?;
    Bounds::of(grant, row, Utc::now())
}

/// A key's own rate limit.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitInput {
    pub limit: i64,
    pub period_seconds: i64,
}

/// What a new key is made of.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<KeyScope>,
    pub environment: Environment,
    pub expires_at: Option<DateTime<Utc>>,
    pub rate_limit: Option<RateLimitInput>,
}

/// What `update` changes (`None`: unchanged; `rate_limit: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct KeyChanges {
    pub name: Option<String>,
    pub scopes: Option<Vec<KeyScope>>,
    pub rate_limit: Option<Option<RateLimitInput>>,
}

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_field("name", "use 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

fn check_rate(rate: Option<RateLimitInput>) -> AppResult<Option<Rate>> {
    let Some(rate) = rate else { return Ok(None) };
    if !(1..=1_000_000_000).contains(&rate.limit) {
        return Err(AppError::bad_field(
            "rateLimit.limit",
            "must be between 1 and 1000000000",
        ));
    }
    if !(1..=86_400).contains(&rate.period_seconds) {
        return Err(AppError::bad_field(
            "rateLimit.periodSeconds",
            "must be between 1 and 86400 (a day)",
        ));
    }
    Ok(Some(Rate {
        limit: rate.limit as u32,
        period_seconds: rate.period_seconds as u32,
    }))
}

/// What the audit trail records of a key (never its secret).
pub(crate) fn summary(key: &ApiKey) -> serde_json::Value {
    json!({
        "name": key.name,
        "environment": key.environment,
        "displayPrefix": key.display_prefix,
        "scopes": key.scope_names(),
        "rateLimit": key.rate_limit.map(|l| json!({"limit": l, "periodSeconds": key.rate_limit_period})),
        "expiresAt": key.expires_at,
        "revokedAt": key.revoked_at,
        "previousValidUntil": key.previous_valid_until,
    })
}

/// The `data` of the `api_key.*` webhook events (see docs/webhooks.md): the
/// key's id, name, environment and display prefix, never its secret or hash;
/// `reason` says why a key was revoked (`revoked`, `member_removed`,
/// `member_left`, `member_role_changed`), `null` otherwise.
pub(crate) fn webhook_data(key: &ApiKey, reason: Option<&str>) -> serde_json::Value {
    json!({
        "keyId": key.id,
        "name": key.name,
        "environment": key.environment,
        "prefix": key.display_prefix,
        "scopes": key.scope_names(),
        "createdBy": key.created_by,
        "expiresAt": key.expires_at,
        "revokedAt": key.revoked_at,
        "previousValidUntil": key.previous_valid_until,
        "reason": reason,
    })
}

/// Emits `event` about `key` in the caller's transaction.
pub(crate) async fn emit(
    conn: &mut diesel_async::AsyncPgConnection,
    event: EventType,
    key: &ApiKey,
    reason: Option<&str>,
) -> AppResult<()> {
    webhooks::emit(conn, key.tenant_id, event, webhook_data(key, reason)).await?;
    Ok(())
}

/// Creates a key; returns it with its secret (shown this once).
pub async fn create(
    db: &Db,
    meta: &RequestMeta,
    by: &Manager,
    new: NewKey,
) -> AppResult<(ApiKey, String)> {
    let name = check_name(&new.name)?;
    let rate = check_rate(new.rate_limit)?;
    let scopes: Scopes = new.scopes.iter().copied().collect();
    by.require_write(new.environment, scopes)?;
    if new.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(AppError::bad_field("expiresAt", "must be in the future"));
    }
    let minted = api_keys::mint(new.environment);
    let (meta, actor, tenant_id, created_by) =
        (meta.clone(), by.actor(), by.tenant_id(), by.created_by());
    let by = by.clone();
    let key = db
        .scoped(by.scope(), |conn| {
            async move {
                // Who may do this is decided here, on rows locked until commit.
                let (rate, expires_at) = match &by {
                    Manager::Member { access, .. } => {
                        confirm_member(conn, access).await?;
                        (rate, new.expires_at)
                    }
                    Manager::Key(grant) => {
                        let locked = rows::lock(conn, tenant_id, &[grant.key_id]).await?;
                        let bounds = bounds_among(grant, &locked)?;
                        bounds.allows(new.environment, scopes)?;
                        (
                            bounds.child_rate(rate)?,
                            bounds.child_expiry(new.expires_at)?,
                        )
                    }
                };
                let key = rows::insert(
                    conn,
                    &NewApiKey {
                        id: Uuid::now_v7(),
                        tenant_id,
                        created_by,
                        name: &name,
                        environment: new.environment.as_str(),
                        display_prefix: &minted.display_prefix,
                        secret_hash: &minted.hash,
                        scopes: scopes.names(),
                        rate_limit: rate.map(|r| r.limit as i32),
                        rate_limit_period: rate.map(|r| r.period_seconds as i32),
                        expires_at,
                    },
                )
                .await?;
                audit::record(
                    conn,
                    &meta,
                    Entry::new(Some(tenant_id), actor, "api_key.create")
                        .target("api_key", key.id)
                        .change(None, Some(summary(&key))),
                )
                .await?;
                emit(conn, EventType::ApiKeyCreated, &key, None).await?;
                Ok(key)
            }
            .scope_boxed()
        })
        .await?;
    Ok((key, minted.secret))
}

/// The environment a stored key belongs to.
pub fn environment_of(key: &ApiKey) -> Environment {
    Environment::parse(&key.environment).unwrap_or(Environment::Live)
}

/// How far a change may reach a key that a key manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Environment and scopes (revoking: it only takes power away).
    Scopes,
    /// Environment, scopes, rate limit and expiry (rotating or changing: the
    /// key keeps working, so it must not exceed the calling key).
    Everything,
}

/// One change to one key, in one transaction: re-read and lock the caller's
/// standing and the key (NOT_FOUND outside the caller's tenant), check that
/// `by` may touch it, let `apply` change it (given the calling key's bounds,
/// when a key calls), and audit `action` with the key before and after and
/// emit `event` (nothing, when `apply` changed nothing).
async fn change<T, F>(
    db: &Db,
    meta: &RequestMeta,
    by: &Manager,
    id: Uuid,
    (action, reach, event): (&'static str, Reach, Option<EventType>),
    apply: F,
) -> AppResult<T>
where
    T: Send,
    F: for<'c> FnOnce(
            &'c mut diesel_async::AsyncPgConnection,
            ApiKey,
            Option<Bounds>,
        ) -> scoped_futures::ScopedBoxFuture<'c, 'c, AppResult<(ApiKey, T)>>
        + Send,
{
    if let Manager::Member { access, .. } = by {
        // As verified for this request; confirmed again inside the transaction.
        access.require(Role::Admin)?;
    }
    let (meta, by) = (meta.clone(), by.clone());
    db.scoped(by.scope(), |conn| {
        async move {
            let (before, bounds) = match &by {
                Manager::Member { access, .. } => {
                    confirm_member(conn, access).await?;
                    let before = rows::find_for_update(conn, by.tenant_id(), id)
                        .await?
                        .ok_or_else(|| not_found("API key"))?;
                    (before, None)
                }
                Manager::Key(grant) => {
                    // The calling key and the target, locked together in id order.
                    let locked = rows::lock(conn, by.tenant_id(), &[grant.key_id, id]).await?;
                    let before = locked
                        .iter()
                        .find(|k| k.id == id)
                        .cloned()
                        .ok_or_else(|| not_found("API key"))?;
                    let bounds = bounds_among(grant, &locked)?;
                    match reach {
                        Reach::Scopes => bounds.allows(
                            environment_of(&before),
                            Scopes::from_names(&before.scope_names()),
                        )?,
                        Reach::Everything => bounds.covers(&before)?,
                    }
                    (before, Some(bounds))
                }
            };
            let summary_before = summary(&before);
            let (after, out) = apply(conn, before, bounds).await?;
            let summary_after = summary(&after);
            if summary_after != summary_before {
                audit::record(
                    conn,
                    &meta,
                    Entry::new(Some(by.tenant_id()), by.actor(), action)
                        .target("api_key", id)
                        .change(Some(summary_before), Some(summary_after)),
                )
                .await?;
                if let Some(event) = event {
                    let reason = (event == EventType::ApiKeyRevoked).then_some("revoked");
                    emit(conn, event, &after, reason).await?;
                }
            }
            Ok(out)
        }
        .scope_boxed()
    })
    .await
}

/// Issues a new secret for `id`; the old one works for `grace_seconds` more.
pub async fn rotate(
    db: &Db,
    meta: &RequestMeta,
    by: &Manager,
    id: Uuid,
    grace_seconds: i64,
) -> AppResult<(ApiKey, String)> {
    if !(0..=MAX_GRACE_SECONDS).contains(&grace_seconds) {
        return Err(AppError::bad_field(
            "gracePeriodSeconds",
            format!("must be between 0 and {MAX_GRACE_SECONDS} (30 days)"),
        ));
    }
    let what = (
        "api_key.rotate",
        Reach::Everything,
        Some(EventType::ApiKeyRotated),
    );
    change(db, meta, by, id, what, move |conn, key, _| {
        async move {
            match key.state(Utc::now()) {
                KeyState::Revoked => return Err(AppError::conflict("this key is revoked")),
                KeyState::Expired => return Err(AppError::conflict("this key has expired")),
                _ => {}
            }
            let minted = api_keys::mint(environment_of(&key));
            let grace_until =
                (grace_seconds > 0).then(|| Utc::now() + chrono::Duration::seconds(grace_seconds));
            let after =
                rows::rotate(conn, id, &minted.hash, &minted.display_prefix, grace_until).await?;
            Ok((after.clone(), (after, minted.secret)))
        }
        .scope_boxed()
    })
    .await
}

/// Revokes `id` at once, on every instance (idempotent: revoking a revoked
/// key changes and audits nothing).
pub async fn revoke(db: &Db, meta: &RequestMeta, by: &Manager, id: Uuid) -> AppResult<ApiKey> {
    let what = (
        "api_key.revoke",
        Reach::Scopes,
        Some(EventType::ApiKeyRevoked),
    );
    change(db, meta, by, id, what, move |conn, key, _| {
        async move {
            if key.revoked_at.is_some() {
                return Ok((key.clone(), key));
            }
            let after = rows::revoke(conn, id).await?;
            Ok((after.clone(), after))
        }
        .scope_boxed()
    })
    .await
}

/// Changes a key's name, scopes or rate limit.
pub async fn update(
    db: &Db,
    meta: &RequestMeta,
    by: &Manager,
    id: Uuid,
    changes: KeyChanges,
) -> AppResult<ApiKey> {
    let name = changes.name.as_deref().map(check_name).transpose()?;
    let rate = match changes.rate_limit {
        None => None,
        Some(r) => Some(check_rate(r)?),
    };
    if rate.is_some() && matches!(by, Manager::Key(_)) {
        // A key's limit is the admins' decision: a key cannot lift its own or
        // a sibling's.
        return Err(AppError::forbidden(
            "API keys cannot change rate limits: ask an admin or owner",
        ));
    }
    let scopes: Option<Scopes> = changes.scopes.map(|s| s.into_iter().collect());
    let what = ("api_key.update", Reach::Everything, None);
    change(db, meta, by, id, what, move |conn, before, bounds| {
        async move {
            if before.revoked_at.is_some() {
                return Err(AppError::conflict("this key is revoked"));
            }
            if let (Some(scopes), Some(bounds)) = (scopes, bounds) {
                bounds.allows(environment_of(&before), scopes)?;
            }
            let after = rows::update(
                conn,
                id,
                &name.unwrap_or(before.name.clone()),
                scopes.map_or_else(|| before.scope_names(), Scopes::names),
                match rate {
                    None => before.rate_limit.zip(before.rate_limit_period),
                    Some(r) => r.map(|r| (r.limit as i32, r.period_seconds as i32)),
                },
            )
            .await?;
            Ok((after.clone(), after))
        }
        .scope_boxed()
    })
    .await
}

/// One of the tenant's keys by id (`None`: no such key in this tenant).
pub async fn find(db: &Db, by: &Manager, id: Uuid) -> AppResult<Option<ApiKey>> {
    by.require_read()?;
    let tenant_id = by.tenant_id();
    db.scoped(by.scope(), |conn| {
        async move { Ok(rows::find(conn, tenant_id, id).await?) }.scope_boxed()
    })
    .await
}

/// A page of the tenant's keys, oldest first.
pub async fn page(
    db: &Db,
    by: &Manager,
    environment: Option<Environment>,
    state: Option<KeyState>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> AppResult<Vec<ApiKey>> {
    by.require_read()?;
    let tenant_id = by.tenant_id();
    db.scoped(by.scope(), |conn| {
        async move {
            Ok(rows::page(
                conn,
                tenant_id,
                environment.map(Environment::as_str),
                state,
                after,
                limit,
            )
            .await?)
        }
        .scope_boxed()
    })
    .await
}
