//! Sessions: sign-in, refresh-token rotation with reuse detection, sign-out.
//!
//! A session is a refresh-token family. Every refresh rotates the token; a token
//! that was already rotated, presented again, means it leaked: the whole family
//! is revoked. Access tokens name their session (`sid`), and every request checks
//! that the session is still live, so signing out takes effect at once.

use std::sync::OnceLock;

use chrono::{Duration, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use scoped_futures::{ScopedBoxFuture, ScopedFutureExt};
use serde_json::json;
use uuid::Uuid;

use super::jwt::{IssuedToken, JwtKeys};
use super::tokens::{self, Kind};
use super::{passwords, throttle};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::{self, Db, users as user_rows};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// How long a session lives without being refreshed... at most.
pub const SESSION_TTL: Duration = Duration::days(30);

/// What a successful sign-in, refresh or link verification hands out.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access: IssuedToken,
    /// Given once; stored only as a hash.
    pub refresh_token: String,
    pub user: user_rows::User,
    pub session_id: Uuid,
    pub tenant_id: Option<Uuid>,
}

/// Opens a session for `user_id` on `conn` (inside the caller's transaction,
/// whose scope includes that user) and returns its id and first refresh token.
/// A request on a tenant's custom domain (`meta.bound_tenant`) opens a session
/// bound to that tenant: it acts there only, never as a platform admin, and
/// then `default_tenant` is that tenant or none.
pub async fn open(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    default_tenant: Option<Uuid>,
    meta: &RequestMeta,
) -> QueryResult<(Uuid, String)> {
    let session_id = Uuid::now_v7();
    let bound = meta.bound_tenant;
    db::sessions::insert(
        conn,
        &db::sessions::NewSession {
            id: session_id,
            user_id,
            default_tenant_id: default_tenant.filter(|t| bound.is_none_or(|b| b == *t)),
            bound_tenant_id: bound,
            user_agent: meta.user_agent.as_deref(),
            ip: meta.ip.as_deref(),
            expires_at: Utc::now() + SESSION_TTL,
        },
    )
    .await?;
    let minted = tokens::mint(Kind::Refresh, user_id);
    db::refresh_tokens::insert(conn, &minted.hash, session_id, user_id).await?;
    Ok((session_id, minted.token))
}

/// The tenant a new session acts in: `wanted` if the user is a member of it,
/// else the user's oldest membership. Runs under the user's own scope.
pub async fn default_tenant(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    wanted: Option<Uuid>,
) -> QueryResult<Option<Uuid>> {
    let mine = db::memberships::active_tenant_ids_of(conn, user_id).await?;
    Ok(match wanted {
        Some(t) if mine.contains(&t) => Some(t),
        _ => <[Uuid]>::first(&mine).copied(),
    })
}

/// A hash to verify against when the email is unknown, so that unknown emails
/// cost the same time as wrong passwords.
async fn dummy_hash() -> AppResult<String> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let h = passwords::hash("not-a-real-password-but-hashed-the-same-way".into()).await?;
    Ok(DUMMY.get_or_init(|| h).clone())
}

/// Signs in with email and password.
pub async fn log_in(
    db: &Db,
    keys: &JwtKeys,
    meta: &RequestMeta,
    email: &str,
    password: String,
    tenant: Option<Uuid>,
) -> AppResult<Grant> {
    let email = email.trim().to_lowercase();
    let ip = meta.ip.as_deref();
    let pair = throttle::account_pair_key(&email, ip);
    let account = throttle::account_key(&email);
    let address = throttle::address_key("login", ip.unwrap_or("unknown"));
    // A network the account signed in from lately is not held to the
    // account's ceiling: many addresses failing cannot lock the owner out.
    let known = throttle::is_known(db, &email, ip).await?;
    let mut budgets = vec![
        (pair.clone(), throttle::ACCOUNT_PAIR),
        (address.clone(), throttle::ADDRESS),
    ];
    if !known {
        budgets.push((account.clone(), throttle::ACCOUNT));
    }
    throttle::spend(db, &budgets).await?;

    let lookup = email.clone();
    let found = db
        .scoped(Scope::anonymous(), |conn| {
            async move { Ok(user_rows::login_lookup(conn, &lookup).await?) }.scope_boxed()
        })
        .await?;
    let (user_id, stored) = match found {
        Some((id, Some(hash))) => (Some(id), hash),
        // Unknown email, or a magic-link-only account: same work, same answer.
        _ => (None, dummy_hash().await?),
    };
    let ok = passwords::verify(password, stored).await? && user_id.is_some();
    let Some(user_id) = user_id.filter(|_| ok) else {
        return Err(AppError::unauthenticated("wrong email or password"));
    };
    throttle::clear(db, pair).await?;
    let mut spent = vec![address];
    if !known {
        spent.push(account);
    }
    throttle::refund(db, spent).await?;
    throttle::remember_known(db, &email, ip).await?;
    start(db, keys, meta, user_id, tenant, "session.login").await
}

/// Opens a session for a user who has just proved who they are (password, link,
/// invitation), records `action` in the audit trail, and issues the tokens.
pub async fn start(
    db: &Db,
    keys: &JwtKeys,
    meta: &RequestMeta,
    user_id: Uuid,
    tenant: Option<Uuid>,
    action: &'static str,
) -> AppResult<Grant> {
    start_after(db, keys, meta, user_id, tenant, action, |_| {
        async { Ok(()) }.scope_boxed()
    })
    .await
}

/// Like [`start`], with `proof` (spending a link, setting a password…) run
/// first in the same transaction: the proof is spent exactly when the
/// session exists.
pub async fn start_after<'a, F>(
    db: &Db,
    keys: &JwtKeys,
    meta: &RequestMeta,
    user_id: Uuid,
    tenant: Option<Uuid>,
    action: &'static str,
    proof: F,
) -> AppResult<Grant>
where
    F: for<'c> FnOnce(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, AppResult<()>>
        + Send
        + 'a,
{
    let meta_tx = meta.clone();
    let (user, session_id, refresh, tenant_id) = db
        .scoped(Scope::user(user_id), |conn| {
            async move {
                proof(conn).await?;
                let user = user_rows::find(conn, user_id)
                    .await?
                    .ok_or_else(|| AppError::unauthenticated("this account no longer exists"))?;
                // A session bound to a custom domain's tenant starts there
                // (or nowhere, when the user is not its member).
                let tenant_id = match meta_tx.bound_tenant {
                    Some(bound) => default_tenant(conn, user_id, Some(bound))
                        .await?
                        .filter(|t| *t == bound),
                    None => default_tenant(conn, user_id, tenant).await?,
                };
                let (session_id, refresh) = open(conn, user_id, tenant_id, &meta_tx).await?;
                audit::record(
                    conn,
                    &meta_tx,
                    Entry::new(
                        None,
                        Actor::User {
                            id: user_id,
                            email: Some(user.email.clone()),
                        },
                        action,
                    )
                    .target("session", session_id),
                )
                .await?;
                Ok((user, session_id, refresh, tenant_id))
            }
            .scope_boxed()
        })
        .await?;
    Ok(Grant {
        access: keys.issue_access(user_id, session_id, tenant_id)?,
        refresh_token: refresh,
        user,
        session_id,
        tenant_id,
    })
}

enum Refreshed {
    Rotated(Box<(user_rows::User, Uuid, String, Option<Uuid>)>),
    Reused,
    Dead,
}

/// Rotates a refresh token: the old one stops working, a new one is issued.
/// A token presented after it was rotated revokes its whole session.
pub async fn refresh(db: &Db, keys: &JwtKeys, meta: &RequestMeta, token: &str) -> AppResult<Grant> {
    let invalid = || AppError::unauthenticated("the refresh token is invalid or expired");
    let user_id = tokens::scope_id(Kind::Refresh, token).ok_or_else(invalid)?;
    let hash = tokens::hash(token);
    let meta_tx = meta.clone();
    let outcome = db
        .scoped(Scope::user(user_id), |conn| {
            async move {
                let Some((session_id, rotated_at)) = db::refresh_tokens::lock(conn, &hash).await?
                else {
                    return Ok(Refreshed::Dead);
                };
                let (live, default_tenant) = db::sessions::lock_state(conn, session_id).await?;
                if !live {
                    return Ok(Refreshed::Dead);
                }
                if let Some(rotated_at) = rotated_at {
                    // Two tabs refreshing at once, or a client retrying after a
                    // timeout: refuse the late one, but do not end the session.
                    if rotated_at > Utc::now() - Duration::seconds(10) {
                        return Ok(Refreshed::Dead);
                    }
                    revoke(conn, &meta_tx, user_id, session_id, "refresh token reuse").await?;
                    return Ok(Refreshed::Reused);
                }
                db::refresh_tokens::mark_rotated(conn, &hash).await?;
                let minted = tokens::mint(Kind::Refresh, user_id);
                db::refresh_tokens::insert(conn, &minted.hash, session_id, user_id).await?;
                db::sessions::touch(conn, session_id).await?;
                audit::record(
                    conn,
                    &meta_tx,
                    Entry::new(None, Actor::user(user_id), "session.refresh")
                        .target("session", session_id),
                )
                .await?;
                let user = user_rows::find(conn, user_id).await?.ok_or_else(invalid)?;
                Ok(Refreshed::Rotated(Box::new((
                    user,
                    session_id,
                    minted.token,
                    default_tenant,
                ))))
            }
            .scope_boxed()
        })
        .await?;
    match outcome {
        Refreshed::Rotated(rotated) => {
            let (user, session_id, refresh_token, tenant_id) = *rotated;
            Ok(Grant {
                access: keys.issue_access(user.id, session_id, tenant_id)?,
                refresh_token,
                user,
                session_id,
                tenant_id,
            })
        }
        Refreshed::Reused => {
            tracing::warn!(user.id = %user_id, "refresh token reused: session revoked");
            Err(AppError::unauthenticated(
                "this refresh token was already used: the session is revoked, sign in again",
            ))
        }
        Refreshed::Dead => Err(invalid()),
    }
}

async fn revoke(
    conn: &mut AsyncPgConnection,
    meta: &RequestMeta,
    user_id: Uuid,
    session_id: Uuid,
    reason: &str,
) -> QueryResult<()> {
    let changed = db::sessions::revoke(conn, session_id, reason).await?;
    if changed == 0 {
        return Ok(());
    }
    audit::record(
        conn,
        meta,
        Entry::new(None, Actor::user(user_id), "session.revoke")
            .target("session", session_id)
            .change(None, Some(json!({ "reason": reason }))),
    )
    .await?;
    Ok(())
}

/// Ends one session (the caller's).
pub async fn log_out(
    db: &Db,
    meta: &RequestMeta,
    user_id: Uuid,
    session_id: Uuid,
) -> AppResult<()> {
    let meta = meta.clone();
    db.scoped(Scope::user(user_id), |conn| {
        async move {
            revoke(conn, &meta, user_id, session_id, "logout").await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Revokes every live session of `user_id` on `conn`; returns how many.
pub async fn revoke_all(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    reason: &str,
) -> QueryResult<usize> {
    db::sessions::revoke_all_of(conn, user_id, reason).await
}

/// Ends every session of the user; returns how many were live.
pub async fn log_out_everywhere(db: &Db, meta: &RequestMeta, user_id: Uuid) -> AppResult<i32> {
    let meta = meta.clone();
    db.scoped(Scope::user(user_id), |conn| {
        async move {
            let ended = revoke_all(conn, user_id, "logout everywhere").await?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, Actor::user(user_id), "session.revoke_all")
                    .target("user", user_id)
                    .change(None, Some(json!({ "sessions": ended }))),
            )
            .await?;
            Ok(i32::try_from(ended).unwrap_or(i32::MAX))
        }
        .scope_boxed()
    })
    .await
}

/// Makes `tenant_id` the session's default tenant (the user must be a member)
/// and issues an access token acting in it.
pub async fn switch_tenant(
    db: &Db,
    keys: &JwtKeys,
    meta: &RequestMeta,
    user_id: Uuid,
    session_id: Uuid,
    tenant_id: Uuid,
) -> AppResult<IssuedToken> {
    let meta = meta.clone();
    db.scoped(Scope::user(user_id), |conn| {
        async move {
            if default_tenant(conn, user_id, Some(tenant_id)).await? != Some(tenant_id) {
                return Err(AppError::not_found("tenant not found"));
            }
            db::sessions::set_default_tenant(conn, session_id, tenant_id).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, Actor::user(user_id), "session.switch_tenant")
                    .target("session", session_id)
                    .change(None, Some(json!({ "tenantId": tenant_id }))),
            )
            .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    keys.issue_access(user_id, session_id, Some(tenant_id))
}
