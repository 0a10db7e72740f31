//! Budgets of anonymous or cheap callers (sign-in attempts, emails, sign-ups,
//! password changes, invitations), kept in PostgreSQL so that every instance
//! shares them.
//!
//! A budget allows `max` attempts per window; every attempt is counted before
//! the work it pays for (a password hash, an email), so concurrent requests
//! cannot slip through; past the limit, attempts are refused with RATE_LIMITED
//! (and retryAfter).
//!
//! Sign-in failures are counted per (account, client address) pair, with a
//! looser ceiling per account and a budget per address: whoever guesses from
//! one address is stopped after [`ACCOUNT_PAIR`] tries; many addresses
//! together reach [`ACCOUNT`], which then stops sign-ins from networks the
//! account has never signed in from, but never from the networks it signed in
//! from in the last [`KNOWN_FOR`] (so a distributed attacker cannot lock the
//! owner out of their usual places). A successful sign-in clears its pair,
//! gives the account's and the address's attempt back, and remembers the
//! network. Emailed links are budgeted the same way, per purpose: per (email,
//! network) pair, a per-email ceiling known networks are exempt from, and per
//! network.

use std::time::Duration;

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use scoped_futures::ScopedFutureExt;

use crate::db::{Db, login_failures};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// How many failures a key may have per window.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max: i32,
    pub window: Duration,
}

/// Wrong passwords for one account from one client address (IPv6: one /64).
pub const ACCOUNT_PAIR: Budget = Budget {
    max: 5,
    window: Duration::from_secs(15 * 60),
};
/// Wrong passwords for one account from all addresses together: a ceiling that
/// takes 20 addresses spending their whole pair budget to reach (so a single
/// attacker cannot lock an owner out), and still bounds a distributed guesser
/// to 100 guesses per 15 minutes per account.
pub const ACCOUNT: Budget = Budget {
    max: 100,
    window: Duration::from_secs(15 * 60),
};
/// Wrong passwords from one client address (many accounts).
pub const ADDRESS: Budget = Budget {
    max: 30,
    window: Duration::from_secs(15 * 60),
};
/// How long a network an account signed in from stays exempt from the
/// account's ceilings.
pub const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Emails of one purpose (sign-in link, reset, verification) asked for one
/// email address from one client address.
pub const EMAILS_PAIR: Budget = Budget {
    max: 3,
    window: Duration::from_secs(15 * 60),
};
/// Emails of one purpose asked for one email address from networks it has
/// not signed in from: bounds what reaches an inbox (known networks are not
/// held to it, so flooding it does not lock the owner out).
pub const EMAILS: Budget = Budget {
    max: 10,
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
/// New passwords chosen anonymously (a reset link, accepting an invitation)
/// from one client address: each costs a strength check and a hash.
pub const PASSWORD_SETS_PER_ADDRESS: Budget = Budget {
    max: 20,
    window: Duration::from_secs(15 * 60),
};
/// New passwords tried with one link or invitation (a weak one is refused
/// without spending the link, so it could be retried for ever).
pub const PASSWORD_SETS: Budget = Budget {
    max: 10,
    window: Duration::from_secs(15 * 60),
};
/// Invitations sent by one member.
pub const INVITES_PER_INVITER: Budget = Budget {
    max: 20,
    window: Duration::from_secs(60 * 60),
};
/// Invitations sent from one tenant.
pub const INVITES_PER_TENANT: Budget = Budget {
    max: 100,
    window: Duration::from_secs(24 * 60 * 60),
};

/// The key of an account's budget.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// The key of an account's budget from one client address.
pub fn account_pair_key(email: &str, ip: Option<&str>) -> String {
    format!("pair:{}|{email}", network(ip.unwrap_or("unknown")))
}

/// The key of a client address's budget of `kind`; IPv6 clients are counted
/// per /64 (one subscriber usually holds a whole /64).
pub fn address_key(kind: &str, ip: &str) -> String {
    format!("{kind}:{}", network(ip))
}

/// What a budget counts as one client: an IPv4 address, or an IPv6 /64
/// (IPv4-mapped IPv6 counts as its IPv4 address).
fn network(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

/// The key of an email address's sending budget for one purpose.
pub fn email_key(purpose: &str, email: &str) -> String {
    format!("mail:{purpose}:{email}")
}

/// The key of an email address's sending budget for one purpose from one
/// client address.
pub fn email_pair_key(purpose: &str, email: &str, ip: Option<&str>) -> String {
    format!(
        "mailpair:{purpose}:{}|{email}",
        network(ip.unwrap_or("unknown"))
    )
}

/// The key that remembers that an account signed in from a client's network.
pub fn known_key(email: &str, ip: Option<&str>) -> String {
    format!("known:{}|{email}", network(ip.unwrap_or("unknown")))
}

/// Whether the account signed in from the client's network in the last
/// [`KNOWN_FOR`].
pub async fn is_known(db: &Db, email: &str, ip: Option<&str>) -> AppResult<bool> {
    let key = known_key(email, ip);
    db.scoped(Scope::anonymous(), |conn| {
        async move { Ok(login_failures::remembered(conn, &key, KNOWN_FOR).await?) }.scope_boxed()
    })
    .await
}

/// Remembers that the account signed in from the client's network.
pub async fn remember_known(db: &Db, email: &str, ip: Option<&str>) -> AppResult<()> {
    let key = known_key(email, ip);
    db.scoped(Scope::anonymous(), |conn| {
        async move { Ok(login_failures::remember(conn, &key).await?) }.scope_boxed()
    })
    .await
}

/// Spends one attempt of each budget, atomically (so concurrent requests
/// cannot all slip past a check), and refuses with RATE_LIMITED when any of
/// them is over its limit. Callers give the attempt back with [`refund`] or
/// [`clear`] when it succeeded.
pub async fn spend(db: &Db, keys: &[(String, Budget)]) -> AppResult<()> {
    let keys = keys.to_vec();
    db.scoped(Scope::anonymous(), |conn| {
        async move { spend_on(conn, &keys).await }.scope_boxed()
    })
    .await
}

/// Like [`spend`], on the caller's transaction: when the caller's work fails
/// (or this refuses), the attempts are rolled back with it.
pub async fn spend_on(conn: &mut AsyncPgConnection, keys: &[(String, Budget)]) -> AppResult<()> {
    let mut counted = Vec::new();
    for (key, budget) in keys {
        let row = login_failures::count(conn, key, budget.window).await?;
        counted.push((row, *budget));
    }
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
            login_failures::give_back(conn, keys).await?;
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
            login_failures::forget(conn, &key).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_per_ipv4_address_and_ipv6_slash_64() {
        assert_eq!(address_key("login", "198.51.100.9"), "login:198.51.100.9");
        assert_eq!(
            address_key("login", "::ffff:198.51.100.9"),
            "login:198.51.100.9"
        );
        assert_eq!(
            address_key("login", "2001:db8:1:2:aaaa::1"),
            address_key("login", "2001:db8:1:2:bbbb::2")
        );
        assert_ne!(
            address_key("login", "2001:db8:1:2::1"),
            address_key("login", "2001:db8:1:3::1")
        );
        assert_ne!(
            account_pair_key("a@example.com", Some("198.51.100.9")),
            account_pair_key("a@example.com", Some("198.51.100.10"))
        );
    }
}
