//! Failed sign-in budgets per account and per client address, kept in
//! PostgreSQL so that every instance shares them.
//!
//! A budget allows `max` failures per window; past it, attempts are refused with
//! RATE_LIMITED (and retryAfter) before any password is checked. A success clears
//! the account's budget (not the address's).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Double, Integer, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// How many failures a key may have per window.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max: i32,
    pub window: Duration,
}

/// Wrong passwords for one account.
pub const ACCOUNT: Budget = Budget {
    max: 5,
    window: Duration::from_secs(15 * 60),
};
/// Wrong passwords from one client address (many accounts).
pub const ADDRESS: Budget = Budget {
    max: 30,
    window: Duration::from_secs(15 * 60),
};
/// Emails (sign-in links, resets) asked for one address.
pub const EMAILS: Budget = Budget {
    max: 5,
    window: Duration::from_secs(15 * 60),
};

/// The key of an account's budget.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// The key of a client address's budget.
pub fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// The key of an email address's sending budget.
pub fn email_key(email: &str) -> String {
    format!("mail:{email}")
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Timestamptz)]
    window_start: DateTime<Utc>,
}

/// RATE_LIMITED when any of `keys` has spent its budget in its current window.
pub async fn check(db: &Db, keys: &[(String, Budget)]) -> AppResult<()> {
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    let rows: Vec<Row> = db
        .scoped(Scope::anonymous(), |conn| {
            async move {
                diesel::sql_query(
                    "SELECT key, failures, window_start FROM login_failures WHERE key = ANY($1)",
                )
                .bind::<Array<Text>, _>(names)
                .load(conn)
                .await
                .map_err(AppError::from)
            }
            .scope_boxed()
        })
        .await?;
    let now = Utc::now();
    for row in rows {
        let Some((_, budget)) = keys.iter().find(|(k, _)| *k == row.key) else {
            continue;
        };
        let window = chrono::Duration::from_std(budget.window).unwrap_or_default();
        let resets = row.window_start + window;
        if row.failures >= budget.max && resets > now {
            let wait = (resets - now).to_std().unwrap_or_default();
            return Err(AppError::rate_limited(
                "too many attempts; try again later",
                wait.max(Duration::from_secs(1)),
            ));
        }
    }
    Ok(())
}

/// Spends one unit of each key's budget.
pub async fn charge(db: &Db, keys: &[(String, Budget)]) -> AppResult<()> {
    let keys = keys.to_vec();
    db.scoped(Scope::anonymous(), |conn| {
        async move {
            for (key, budget) in keys {
                diesel::sql_query(
                    "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, now(), 1)
                     ON CONFLICT (key) DO UPDATE SET
                       failures = CASE WHEN login_failures.window_start
                                            < now() - make_interval(secs => $2)
                                       THEN 1 ELSE login_failures.failures + 1 END,
                       window_start = CASE WHEN login_failures.window_start
                                                < now() - make_interval(secs => $2)
                                           THEN now() ELSE login_failures.window_start END",
                )
                .bind::<Text, _>(key)
                .bind::<Double, _>(budget.window.as_secs_f64())
                .execute(conn)
                .await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Forgets a key's failures (after a successful sign-in).
pub async fn clear(db: &Db, key: String) -> AppResult<()> {
    db.scoped(Scope::anonymous(), |conn| {
        async move {
            diesel::sql_query("DELETE FROM login_failures WHERE key = $1")
                .bind::<Text, _>(key)
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}
