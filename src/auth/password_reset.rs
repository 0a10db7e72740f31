//! Setting a new password with a reset link.
//!
//! The order is the defence: the link is checked first (one indexed read,
//! nothing spent), then the budgets of the client address and of the link are
//! spent, and only then is the password checked for strength and hashed. Made-up
//! or used links never reach the hashing slots that sign-in shares, and a valid
//! link cannot be replayed with weak passwords for ever. The link is spent in
//! the transaction that sets the password and opens the new session.

use std::sync::atomic::{AtomicU64, Ordering};

use scoped_futures::ScopedFutureExt;

use super::email_links::{self, Purpose};
use super::jwt::JwtKeys;
use super::sessions::{self, Grant};
use super::{passwords, throttle};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::{Db, users};
use crate::error::AppResult;
use crate::tenancy::Scope;

/// Password checks and hashes started by resets, since start (lets tests
/// prove that refused resets never reach the hashing slots).
static PASSWORD_WORK: AtomicU64 = AtomicU64::new(0);

/// How many password strength checks and hashes resets have started.
pub fn password_work() -> u64 {
    PASSWORD_WORK.load(Ordering::Relaxed)
}

/// Sets a new password with the token of a reset link; every other session of
/// the user ends, and a new one starts.
pub async fn reset_password(
    db: &Db,
    keys: &JwtKeys,
    meta: &RequestMeta,
    token: String,
    new_password: String,
) -> AppResult<Grant> {
    let user_id = email_links::token_user(&token, Purpose::PasswordReset)?;
    let checked = token.clone();
    let email = db
        .scoped(Scope::user(user_id), |conn| {
            async move { email_links::check(conn, &checked, Purpose::PasswordReset).await }
                .scope_boxed()
        })
        .await?;
    throttle::spend(
        db,
        &[
            (
                throttle::address_key("pwset", meta.ip.as_deref().unwrap_or("unknown")),
                throttle::PASSWORD_SETS_PER_ADDRESS,
            ),
            (format!("pwset:user:{user_id}"), throttle::PASSWORD_SETS),
        ],
    )
    .await?;
    PASSWORD_WORK.fetch_add(1, Ordering::Relaxed);
    passwords::check_strength_async(&new_password, &[&email]).await?;
    let hash = passwords::hash(new_password).await?;
    let meta_tx = meta.clone();
    sessions::start_after(
        db,
        keys,
        meta,
        user_id,
        None,
        "session.password_reset",
        |conn| {
            async move {
                email_links::consume(conn, &token, Purpose::PasswordReset).await?;
                email_links::spend_all(conn, user_id).await?;
                users::set_password(conn, user_id, &hash).await?;
                users::mark_verified(conn, user_id).await?;
                let ended = sessions::revoke_all(conn, user_id, "password reset").await?;
                audit::record(
                    conn,
                    &meta_tx,
                    Entry::new(None, Actor::user(user_id), "user.password_reset")
                        .target("user", user_id)
                        .change(None, Some(serde_json::json!({ "sessionsEnded": ended }))),
                )
                .await?;
                Ok(())
            }
            .scope_boxed()
        },
    )
    .await
}
