//! Publishable keys: their format, what an admitted one grants, and the
//! per-instance cache of admitted keys.
//!
//! A publishable key reads `tg_pk_live_<34 random base62><6 base62 CRC32>`
//! (or `tg_pk_test_…`), the same shape and checksum as a secret key, so a typo
//! is refused before any lookup. It is not a secret: it ships in the tenant's
//! web pages, is stored as it is and shown again. All it may do is call
//! `/v1/public/{key}/…` (the public check and branding) from a page on one of
//! its tenant's allowed origins; anywhere else it is refused (FORBIDDEN).
//!
//! Admitted keys are cached next to secret keys ([`super::key_cache::KeyCache`]
//! owns a [`PublicKeys`]) and dropped by the same announcements
//! (`NOTIFY tenantgate_keys`, `p:<tenant id>` on every change of a key, the
//! origins, or the tenant's name or branding, which leaves its secret keys
//! cached; `t:<tenant id>` on its status or plan), so a revocation
//! or a removed origin applies at once on every instance.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::sync::Cache;
use rand::Rng;
use rand::distr::Alphanumeric;
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::api_keys::{CHECKSUM_LEN, Environment, RANDOM_LEN, checksum};
use super::key_failures::FailedLookups;
use crate::db::{Db, publishable_keys as rows};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// Most publishable keys a tenant may have that are not revoked.
pub const MAX_ACTIVE_KEYS: i64 = 10;

const TTL: Duration = Duration::from_secs(300);
const CAPACITY: u64 = 50_000;
const NEGATIVE_TTL: Duration = Duration::from_secs(60);
const NEGATIVE_CAPACITY: u64 = 100_000;

fn prefix(environment: Environment) -> &'static str {
    match environment {
        Environment::Live => "tg_pk_live_",
        Environment::Test => "tg_pk_test_",
    }
}

/// Whether `s` looks like a publishable key (to refuse it by name where a
/// secret key or a session token is expected).
pub fn looks_like_publishable(s: &str) -> bool {
    s.starts_with("tg_pk_")
}

/// Makes a new publishable key of `environment`.
pub fn mint(environment: Environment) -> String {
    let random: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(RANDOM_LEN)
        .map(char::from)
        .collect();
    let body = format!("{}{random}", prefix(environment));
    format!("{body}{}", checksum(&body))
}

/// Checks a presented publishable key's shape and checksum (no lookup):
/// UNAUTHENTICATED for anything that cannot be one we issued.
pub fn parse(key: &str) -> AppResult<Environment> {
    let malformed =
        || AppError::unauthenticated("this is not a valid publishable key (check for typos)");
    let environment = if key.starts_with("tg_pk_live_") {
        Environment::Live
    } else if key.starts_with("tg_pk_test_") {
        Environment::Test
    } else {
        return Err(malformed());
    };
    let prefix_len = prefix(environment).len();
    if key.len() != prefix_len + RANDOM_LEN + CHECKSUM_LEN
        || !key[prefix_len..].bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(malformed());
    }
    let (body, sum) = key.split_at(prefix_len + RANDOM_LEN);
    if checksum(body) != sum {
        return Err(malformed());
    }
    Ok(environment)
}

/// An admitted publishable key and what its tenant shows the public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicGrant {
    pub key_id: Uuid,
    pub tenant_id: Uuid,
    pub environment: Environment,
    pub revoked_at: Option<DateTime<Utc>>,
    pub tenant_slug: String,
    pub tenant_name: String,
    pub tenant_status: String,
    pub plan_key: String,
    /// The tenant's branding as stored (validated when it was set).
    pub branding: serde_json::Value,
    /// The allowed origins, normalised (`scheme://host[:port]`).
    pub origins: Vec<String>,
}

impl PublicGrant {
    /// Whether the key may be used: UNAUTHENTICATED when revoked.
    pub fn check(&self) -> AppResult<()> {
        if self.revoked_at.is_some() {
            return Err(AppError::unauthenticated(
                "this publishable key was revoked",
            ));
        }
        Ok(())
    }

    /// Whether a page of `origin` (the request's `Origin`, as the browser
    /// serialised it) may use the key: an exact match with an allowed origin.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

fn unknown_key() -> AppError {
    AppError::unauthenticated("this publishable key is not valid")
}

/// Admitted publishable keys of this instance, and keys known not to exist.
pub struct PublicKeys {
    cache: Cache<String, Arc<PublicGrant>>,
    missing: Cache<String, ()>,
    epoch: AtomicU64,
}

impl Default for PublicKeys {
    fn default() -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .support_invalidation_closures()
                .build(),
            missing: Cache::builder()
                .max_capacity(NEGATIVE_CAPACITY)
                .time_to_live(NEGATIVE_TTL)
                .build(),
            epoch: AtomicU64::new(0),
        }
    }
}

impl PublicKeys {
    /// Verifies a presented publishable key: shape and checksum, then the
    /// cache (when `live`), then the database. An unknown key spends one of
    /// `client`'s failed lookups (the budget secret keys spend).
    pub async fn authenticate(
        &self,
        db: &Db,
        key: &str,
        live: bool,
        failures: &FailedLookups,
        client: Option<&str>,
    ) -> AppResult<Arc<PublicGrant>> {
        parse(key)?;
        if live && let Some(known) = self.known(key, failures, client).await {
            return known;
        }
        let _turn = failures.lookup_turn(client).await;
        if live && let Some(known) = self.known(key, failures, client).await {
            return known;
        }
        failures.check(client)?;
        let epoch = self.epoch.load(Ordering::SeqCst);
        let grant = load(db, key).await?.map(Arc::new);
        if live {
            match &grant {
                Some(grant) => self.cache.insert(key.to_owned(), grant.clone()),
                None => self.missing.insert(key.to_owned(), ()),
            }
            if self.epoch.load(Ordering::SeqCst) != epoch {
                self.cache.invalidate(key);
                self.missing.invalidate(key);
            }
        }
        let Some(grant) = grant else {
            failures.spend(client).await?;
            return Err(unknown_key());
        };
        grant.check()?;
        Ok(grant)
    }

    async fn known(
        &self,
        key: &str,
        failures: &FailedLookups,
        client: Option<&str>,
    ) -> Option<AppResult<Arc<PublicGrant>>> {
        if let Some(grant) = self.cache.get(key) {
            return Some(grant.check().map(|()| grant));
        }
        if self.missing.contains_key(key) {
            return Some(match failures.spend(client).await {
                Ok(()) => Err(unknown_key()),
                Err(err) => Err(err),
            });
        }
        None
    }

    /// Drops what an announcement may have changed: a tenant's keys
    /// (`t:<id>`, `p:<id>`), nothing for a secret key (`k:<id>`), everything otherwise;
    /// every announcement forgets every "no such key".
    pub fn invalidate(&self, payload: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.missing.invalidate_all();
        let target = payload
            .split_once(':')
            .and_then(|(kind, id)| Some((kind, Uuid::parse_str(id).ok()?)));
        match target {
            Some(("k", _)) => {}
            Some(("t" | "p", id)) => {
                if self
                    .cache
                    .invalidate_entries_if(move |_, g| g.tenant_id == id)
                    .is_err()
                {
                    self.cache.invalidate_all();
                }
            }
            _ => self.cache.invalidate_all(),
        }
    }

    /// Drops everything (announcements may have been missed).
    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.cache.invalidate_all();
        self.missing.invalidate_all();
    }
}

async fn load(db: &Db, key: &str) -> AppResult<Option<PublicGrant>> {
    let row = db
        .scoped(Scope::anonymous(), |conn| {
            async move { Ok(rows::lookup(conn, key).await?) }.scope_boxed()
        })
        .await?;
    row.map(|row| {
        let environment = Environment::parse(&row.environment).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "unknown key environment {:?}",
                row.environment
            ))
        })?;
        Ok(PublicGrant {
            key_id: row.id,
            tenant_id: row.tenant_id,
            environment,
            revoked_at: row.revoked_at,
            tenant_slug: row.tenant_slug,
            tenant_name: row.tenant_name,
            tenant_status: row.tenant_status,
            plan_key: row.plan_key,
            branding: row.branding,
            origins: row.origins.into_iter().flatten().collect(),
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_parse_and_typos_do_not() {
        for env in [Environment::Live, Environment::Test] {
            let key = mint(env);
            assert_eq!(parse(&key).unwrap(), env);
            assert!(looks_like_publishable(&key));
            assert!(!super::super::api_keys::looks_like_key(&key));
            assert!(super::super::api_keys::parse(&key).is_err());
            let bytes = key.as_bytes();
            for i in prefix(env).len()..bytes.len() {
                let mut typo = bytes.to_vec();
                typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
                assert!(
                    parse(&String::from_utf8(typo).unwrap()).is_err(),
                    "typo at {i}"
                );
            }
            assert!(parse(&key[..key.len() - 1]).is_err());
            assert!(parse(&format!("{key}x")).is_err());
        }
        // A secret key is not a publishable key.
        let secret = super::super::api_keys::mint(Environment::Live).secret;
        assert!(parse(&secret).is_err());
        assert!(parse("tg_pk_live_").is_err());
        assert_ne!(mint(Environment::Live), mint(Environment::Live));
    }
}
