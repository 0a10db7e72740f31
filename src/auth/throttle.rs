//! Failed sign-in budgets per account and per client address, kept in
//! PostgreSQL so that every instance shares them.
//!
//! A budget allows `max` attempts per window; every attempt is counted before
//! any password is checked, so concurrent requests cannot slip through; past
//! the limit, attempts are refused with RATE_LIMITED (and retryAfter). A
//! successful sign-in clears the account's budget and gives the address's
//! attempt back.

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
/// Emails (sign-in links, resets) asked for one email address.
pub const EMAILS: Budget = Budget {
    max: 5,
    window: Duration::from_secs(15 * 60),
};
/// Emails asked for from one client address (any email addresses).
pub const EMAILS_PER_ADDRESS: Budget = Budget {
    max: 20,
    window: Duration::from_secs(15 * 60),
};
/// Sign-ups from one client address.
pub const SIGN_UPS: Budget = Budget {
    max: 20,
    window: Duration::from_secs(60 * 60),
};

/// The key of an account's budget.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// The key of a client address's budget of `kind`; IPv6 clients are counted
/// per /64 (one subscriber usually holds a whole /64).
pub fn address_key(kind: &str, ip: &str) -> String {
    let net = match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_owned(),
    };
    format!("{kind}:{net}")
}

/// The key of an email address's sending budget.
pub fn email_key(email: &str) -> String {
    format!("mail:{email}")
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Timestamptz)]
    window_start: DateTime<Utc>,
}

/// Spends one attempt of each budget, atomically (so concurrent requests
/// cannot all slip past a check), and refuses with RATE_LIMITED when any of
/// them is over its limit. Callers give the attempt back with [`refund`] or
/// [`clear`] when it succeeded.
pub async fn spend(db: &Db, keys: &[(String, Budget)]) -> AppResult<()> {
    let keys = keys.to_vec();
    let counted: Vec<(Row, Budget)> = db
        .scoped(Scope::anonymous(), |conn| {
            async move {
                let mut out = Vec::new();
                for (key, budget) in keys {
                    let row: Row = diesel::sql_query(
                        "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, now(), 1)
                         ON CONFLICT (key) DO UPDATE SET
                           failures = CASE WHEN login_failures.window_start
                                                < now() - make_interval(secs => $2)
                                           THEN 1 ELSE login_failures.failures + 1 END,
                           window_start = CASE WHEN login_failures.window_start
                                                    < now() - make_interval(secs => $2)
                                               THEN now() ELSE login_failures.window_start END
                         RETURNING failures, window_start",
                    )
                    .bind::<Text, _>(key)
                    .bind::<Double, _>(budget.window.as_secs_f64())
                    .get_result(conn)
                    .await?;
                    out.push((row, budget));
                }
                Ok(out)
            }
            .scope_boxed()
        })
        .await?;
    let now = Utc::now();
    let wait = counted
        .iter()
        .filter(|(row, budget)| row.failures > budget.max)
        .map(|(row, budget)| {
            let window = chrono::Duration::from_std(budget.window).unwrap_or_default();
            (row.window_start + window - now)
                .to_std()
                .unwrap_or_default()
        })
        .max();
    match wait {
        Some(wait) => Err(AppError::rate_limited(
            "too many attempts; try again later",
            wait.max(Duration::from_secs(1)),
        )),
        None => Ok(()),
    }
}

/// Gives back one attempt of each key (a success that should not count).
pub async fn refund(db: &Db, keys: Vec<String>) -> AppResult<()> {
    db.scoped(Scope::anonymous(), |conn| {
        async move {
            diesel::sql_query(
                "UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = ANY($1)",
            )
            .bind::<Array<Text>, _>(keys)
            .execute(conn)
            .await?;
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
