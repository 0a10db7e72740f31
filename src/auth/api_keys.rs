//! API keys: their format, their scopes, and what a verified key grants.
//!
//! A key reads `tg_live_<34 random base62><6 base62 CRC32>` (or `tg_test_…`):
//! 202 random bits, and a checksum over everything before it, so a mistyped or
//! truncated key is refused before any lookup and a leaked key can be
//! recognised by a scanner from its shape alone (as GitHub's tokens are). Only
//! the SHA-256 of the whole key and a short display prefix are stored.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::AppError;

/// How many random base62 characters a key has (34 × log2(62) ≈ 202 bits).
pub(super) const RANDOM_LEN: usize = 34;
/// How many base62 characters the CRC32 checksum takes (62^6 > 2^32).
pub(super) const CHECKSUM_LEN: usize = 6;
/// How many random characters the display prefix shows.
const DISPLAY_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Live keys touch live data; test keys only test-mode data (their usage never
/// counts against quotas or billing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    Live,
    Test,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(Self::Live),
            "test" => Some(Self::Test),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::Live => "tg_live_",
            Self::Test => "tg_test_",
        }
    }
}

/// What a key may do. The fixed, documented set; each guards fields of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyScope {
    /// Read the tenant itself (`tenant` and its own fields).
    TenantRead,
    /// Read members and invitations.
    MembersRead,
    /// Read API keys.
    KeysRead,
    /// Create, rotate, update and revoke API keys (never beyond the key's own
    /// scopes and environment).
    KeysWrite,
    /// Read the audit trail.
    AuditRead,
    /// Read the subscription and invoices (billing fields).
    BillingRead,
    /// Read usage and quotas.
    UsageRead,
    /// Record usage.
    UsageWrite,
    /// Read webhook endpoints and their delivery log.
    WebhooksRead,
    /// Create, change, delete webhook endpoints, rotate their secrets, replay
    /// deliveries and send test events.
    WebhooksWrite,
}

impl KeyScope {
    pub const ALL: [KeyScope; 10] = [
        Self::TenantRead,
        Self::MembersRead,
        Self::KeysRead,
        Self::KeysWrite,
        Self::AuditRead,
        Self::BillingRead,
        Self::UsageRead,
        Self::UsageWrite,
        Self::WebhooksRead,
        Self::WebhooksWrite,
    ];

    /// The scope's name, as stored and as the JSON endpoint shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TenantRead => "tenant:read",
            Self::MembersRead => "members:read",
            Self::KeysRead => "keys:read",
            Self::KeysWrite => "keys:write",
            Self::AuditRead => "audit:read",
            Self::BillingRead => "billing:read",
            Self::UsageRead => "usage:read",
            Self::UsageWrite => "usage:write",
            Self::WebhooksRead => "webhooks:read",
            Self::WebhooksWrite => "webhooks:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Scopes(u16);

impl Scopes {
    pub fn contains(self, scope: KeyScope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = KeyScope> {
        KeyScope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// From stored names; unknown names (from a newer version) are ignored.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        names
            .iter()
            .filter_map(|n| KeyScope::parse(n.as_ref()))
            .collect()
    }

    pub fn names(self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl FromIterator<KeyScope> for Scopes {
    fn from_iter<I: IntoIterator<Item = KeyScope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

/// A freshly made key: show `secret` once, store `hash` and `display_prefix`.
pub struct MintedKey {
    pub secret: String,
    pub hash: [u8; 32],
    pub display_prefix: String,
}

/// Makes a new key of `environment`.
pub fn mint(environment: Environment) -> MintedKey {
    let random: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(RANDOM_LEN)
        .map(char::from)
        .collect();
    let body = format!("{}{random}", environment.prefix());
    let secret = format!("{body}{}", checksum(&body));
    MintedKey {
        hash: hash(&secret),
        display_prefix: secret[..environment.prefix().len() + DISPLAY_LEN].to_owned(),
        secret,
    }
}

/// The stored hash of a key.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// CRC32 of `body` in 6 base62 digits.
pub(super) fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(digits.to_vec()).unwrap_or_default()
}

/// Whether `s` looks like an API key at all (the `tg_live_` / `tg_test_`
/// prefix), to tell it from a session token in `Authorization: Bearer`.
pub fn looks_like_key(s: &str) -> bool {
    s.starts_with("tg_live_") || s.starts_with("tg_test_")
}

/// Checks a presented key's shape and checksum (no lookup): UNAUTHENTICATED
/// for anything that cannot be a key we issued.
pub fn parse(secret: &str) -> Result<Environment, AppError> {
    let malformed = || AppError::unauthenticated("this is not a valid API key (check for typos)");
    let environment = if secret.starts_with("tg_live_") {
        Environment::Live
    } else if secret.starts_with("tg_test_") {
        Environment::Test
    } else {
        return Err(malformed());
    };
    let prefix_len = environment.prefix().len();
    if secret.len() != prefix_len + RANDOM_LEN + CHECKSUM_LEN
        || !secret[prefix_len..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    {
        return Err(malformed());
    }
    let (body, sum) = secret.split_at(prefix_len + RANDOM_LEN);
    if checksum(body) != sum {
        return Err(malformed());
    }
    Ok(environment)
}

/// A rate: `limit` calls per `period_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub limit: u32,
    pub period_seconds: u32,
}

/// A verified key and its tenant, as cached by every instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub key_id: Uuid,
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    pub tenant_status: String,
    pub plan_key: String,
    pub created_by: Option<Uuid>,
    pub name: String,
    pub environment: Environment,
    pub display_prefix: String,
    pub scopes: Scopes,
    /// The key's own limit, when it has one.
    pub key_rate: Option<Rate>,
    /// The plan's API calls per hour.
    pub tenant_rate: Rate,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// For a secret being rotated out: when it stops working.
    pub previous_valid_until: Option<DateTime<Utc>>,
    pub is_previous: bool,
}

impl KeyGrant {
    /// Whether the key may be used at `now`: UNAUTHENTICATED (revoked, expired,
    /// rotated out) or FORBIDDEN (tenant not active) with the reason.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), AppError> {
        if self.revoked_at.is_some() {
            return Err(AppError::unauthenticated("this API key was revoked"));
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(AppError::unauthenticated("this API key expired"));
        }
        if self.is_previous && self.previous_valid_until.is_none_or(|at| at <= now) {
            return Err(AppError::unauthenticated(
                "this API key was rotated and its grace period is over: use the new secret",
            ));
        }
        if self.tenant_status == "pending_deletion" {
            return Err(AppError::tenant_pending_deletion(
                "this API key's tenant is scheduled for deletion: its keys are refused until an \
                 owner cancels the deletion",
            ));
        }
        if self.tenant_status != "active" {
            return Err(AppError::forbidden(format!(
                "this API key's tenant is {}",
                self.tenant_status.replace('_', " ")
            )));
        }
        Ok(())
    }

    /// The key's limit: its own, else the plan's hourly limit.
    pub fn effective_key_rate(&self) -> Rate {
        self.key_rate.unwrap_or(self.tenant_rate)
    }

    /// FORBIDDEN unless the key holds `scope`.
    pub fn require(&self, scope: KeyScope) -> Result<(), AppError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this API key lacks the {} scope",
                scope.as_str()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_parse_and_typos_do_not() {
        for env in [Environment::Live, Environment::Test] {
            let key = mint(env);
            assert_eq!(key.secret.len(), 8 + RANDOM_LEN + CHECKSUM_LEN);
            assert_eq!(parse(&key.secret).unwrap(), env);
            assert!(key.secret.starts_with(&key.display_prefix));
            assert_eq!(key.hash, hash(&key.secret));
            // Every single-character substitution in the body is caught.
            let bytes = key.secret.as_bytes();
            for i in 8..bytes.len() {
                let mut typo = bytes.to_vec();
                typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
                let typo = String::from_utf8(typo).unwrap();
                assert!(parse(&typo).is_err(), "typo at {i} accepted");
            }
            // Truncated, extended, other environment, not base62.
            assert!(parse(&key.secret[..key.secret.len() - 1]).is_err());
            assert!(parse(&format!("{}x", key.secret)).is_err());
            let swapped = if env == Environment::Live {
                key.secret.replacen("tg_live_", "tg_test_", 1)
            } else {
                key.secret.replacen("tg_test_", "tg_live_", 1)
            };
            assert!(parse(&swapped).is_err());
            assert!(parse(&key.secret.replacen('A', "-", 1)).is_err() || !key.secret.contains('A'));
        }
        assert!(parse("tg_live_").is_err());
        assert!(parse("").is_err());
        assert!(parse("ghp_0123456789").is_err());
    }

    #[test]
    fn keys_are_random() {
        assert_ne!(
            mint(Environment::Live).secret,
            mint(Environment::Live).secret
        );
    }

    #[test]
    fn scopes_round_trip_and_compare() {
        let all: Scopes = KeyScope::ALL.into_iter().collect();
        for scope in KeyScope::ALL {
            assert_eq!(KeyScope::parse(scope.as_str()), Some(scope));
            assert!(all.contains(scope));
        }
        let read: Scopes = [KeyScope::TenantRead, KeyScope::KeysRead]
            .into_iter()
            .collect();
        assert!(read.is_subset_of(all));
        assert!(!all.is_subset_of(read));
        assert_eq!(Scopes::from_names(&read.names()), read);
        assert_eq!(
            Scopes::from_names(&["nope", "keys:read"]).names(),
            ["keys:read"]
        );
    }
}
