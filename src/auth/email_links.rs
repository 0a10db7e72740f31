//! Sign-in links, password resets and email verification: one mechanism.
//!
//! A request mints a single-use token (15 minutes for links and resets, 24 hours
//! for verification), stores its hash, and emails a link. Asking for a link
//! answers the same whether or not the email has an account. Consuming a token
//! marks it used in the same transaction that acts on it.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::AsyncPgConnection;
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::signup::normalize_email;
use super::throttle;
use super::tokens::{self, Kind};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::{Db, email_tokens, users};
use crate::error::{AppError, AppResult};
use crate::mail::{Mail, Mailer};
use crate::tenancy::Scope;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    MagicLink,
    PasswordReset,
    VerifyEmail,
}

impl Purpose {
    fn stored(self) -> &'static str {
        match self {
            Self::MagicLink => "magic_link",
            Self::PasswordReset => "password_reset",
            Self::VerifyEmail => "verify_email",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Self::MagicLink => Kind::MagicLink,
            Self::PasswordReset => Kind::PasswordReset,
            Self::VerifyEmail => Kind::VerifyEmail,
        }
    }

    fn ttl(self) -> Duration {
        match self {
            Self::MagicLink | Self::PasswordReset => Duration::minutes(15),
            Self::VerifyEmail => Duration::hours(24),
        }
    }

    fn mail(self, link: &str) -> (String, String) {
        match self {
            Self::MagicLink => (
                "Your sign-in link".into(),
                format!(
                    "Sign in to tenantgate with this link (valid 15 minutes, once):\n\n{link}\n\nIf you did not ask for it, ignore this email."
                ),
            ),
            Self::PasswordReset => (
                "Reset your password".into(),
                format!(
                    "Choose a new password with this link (valid 15 minutes, once):\n\n{link}\n\nIf you did not ask for it, ignore this email; your password is unchanged."
                ),
            ),
            Self::VerifyEmail => (
                "Confirm your email address".into(),
                format!("Confirm your email address with this link (valid 24 hours):\n\n{link}"),
            ),
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::MagicLink => "/auth/magic-link",
            Self::PasswordReset => "/auth/reset-password",
            Self::VerifyEmail => "/auth/verify-email",
        }
    }
}

/// Mints a token for `user_id` and queues its email, on `conn`.
pub async fn send(
    conn: &mut AsyncPgConnection,
    mailer: &Mailer,
    user_id: Uuid,
    email: &str,
    purpose: Purpose,
) -> QueryResult<()> {
    let minted = tokens::mint(purpose.kind(), user_id);
    email_tokens::insert(
        conn,
        &minted.hash,
        user_id,
        purpose.stored(),
        Utc::now() + purpose.ttl(),
    )
    .await?;
    let link = format!(
        "{}{}?token={}",
        mailer.public_url,
        purpose.path(),
        minted.token
    );
    let (subject, body) = purpose.mail(&link);
    mailer
        .queue(
            conn,
            Mail {
                to: email.to_owned(),
                subject,
                body,
            },
        )
        .await?;
    Ok(())
}

/// Asks for a link by email. The answer is the same whether or not the email
/// has an account; each email address has a small sending budget.
pub async fn request(
    db: &Db,
    mailer: &Mailer,
    meta: &RequestMeta,
    raw_email: &str,
    purpose: Purpose,
) -> AppResult<()> {
    let email = normalize_email(raw_email)?;
    let ip = meta.ip.as_deref();
    let kind = purpose.stored();
    let mut budgets = vec![
        (
            throttle::email_pair_key(kind, &email, ip),
            throttle::EMAILS_PAIR,
        ),
        (
            throttle::address_key("mail", ip.unwrap_or("unknown")),
            throttle::EMAILS_PER_ADDRESS,
        ),
    ];
    // Networks the account signed in from are not held to the per-email
    // ceiling, so flooding it does not lock the owner out.
    if !throttle::is_known(db, &email, ip).await? {
        budgets.push((throttle::email_key(kind, &email), throttle::EMAILS));
    }
    throttle::spend(db, &budgets).await?;
    // The rest runs after the answer, so known and unknown emails answer alike
    // (same work, same time) before any lookup.
    let (db, mailer, meta) = (db.clone(), mailer.clone(), meta.clone());
    tokio::spawn(async move {
        if let Err(err) = send_if_known(&db, &mailer, &meta, email, purpose).await {
            tracing::warn!(error = %err, purpose = purpose.stored(), "could not send a link");
        }
    });
    Ok(())
}

async fn send_if_known(
    db: &Db,
    mailer: &Mailer,
    meta: &RequestMeta,
    email: String,
    purpose: Purpose,
) -> AppResult<()> {
    let lookup = email.clone();
    let user = db
        .scoped(Scope::anonymous().with_email_lookup(&email), |conn| {
            async move { Ok(users::find_by_email(conn, &lookup).await?) }.scope_boxed()
        })
        .await?;
    let Some(user) = user else {
        tracing::info!(
            purpose = purpose.stored(),
            "link asked for an unknown email"
        );
        return Ok(());
    };
    let (mailer, meta) = (mailer.clone(), meta.clone());
    db.scoped(Scope::user(user.id), |conn| {
        async move {
            send(conn, &mailer, user.id, &user.email, purpose).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(
                    None,
                    Actor::Anonymous,
                    match purpose {
                        Purpose::MagicLink => "session.magic_link_sent",
                        Purpose::PasswordReset => "user.password_reset_sent",
                        Purpose::VerifyEmail => "user.verification_sent",
                    },
                )
                .target("user", user.id),
            )
            .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Spends a token of `purpose` on `conn` (whose scope is the token's user):
/// UNAUTHENTICATED when unknown, used or expired.
pub async fn consume(
    conn: &mut AsyncPgConnection,
    token: &str,
    purpose: Purpose,
) -> AppResult<Uuid> {
    let invalid = || AppError::unauthenticated("this link is invalid, used or expired");
    let user_id = tokens::scope_id(purpose.kind(), token).ok_or_else(invalid)?;
    let spent = email_tokens::spend(conn, &tokens::hash(token), user_id, purpose.stored()).await?;
    if spent != 1 {
        return Err(invalid());
    }
    Ok(user_id)
}

/// Checks, without spending it, that a token of `purpose` is live on `conn`
/// (whose scope is the token's user): UNAUTHENTICATED when unknown, used or
/// expired. Returns the user's email.
pub async fn check(
    conn: &mut AsyncPgConnection,
    token: &str,
    purpose: Purpose,
) -> AppResult<String> {
    let invalid = || AppError::unauthenticated("this link is invalid, used or expired");
    let user_id = tokens::scope_id(purpose.kind(), token).ok_or_else(invalid)?;
    let email =
        email_tokens::live_email(conn, &tokens::hash(token), user_id, purpose.stored()).await?;
    email.ok_or_else(invalid)
}

/// Spends every unused link of the user (after a password reset).
pub async fn spend_all(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<usize> {
    email_tokens::spend_all(conn, user_id).await
}

/// The user a well-formed token of `purpose` names (before any database work).
pub fn token_user(token: &str, purpose: Purpose) -> AppResult<Uuid> {
    tokens::scope_id(purpose.kind(), token)
        .ok_or_else(|| AppError::unauthenticated("this link is invalid, used or expired"))
}
