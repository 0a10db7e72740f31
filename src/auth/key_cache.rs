//! Verified API keys, cached in process, dropped everywhere at once on change.
//!
//! The hot path (a key on every call of the SaaS's backend) makes no database
//! round trip: a key is looked up once (`tg_api_key_lookup`) and its grant kept
//! here. Every change that can alter a grant (revoke, rotation, scopes, rate
//! limit, tenant status or plan) is announced by a trigger on commit
//! (`NOTIFY tenantgate_keys`); every instance's LISTEN connection
//! ([`crate::audit::feed`]) calls [`KeyCache::invalidate`]. Deadlines (expiry,
//! the end of a rotation's grace period) are in the grant and checked on every
//! use. While the LISTEN connection is down the cache is not trusted: every
//! call is verified against the database, which answers UNAVAILABLE if it is
//! down too.
//!
//! Answers "no such key" are cached apart (short-lived, bounded, dropped on
//! every announcement, key creation included), so made-up keys with valid
//! checksums cost one lookup each and cannot push verified keys out; each such
//! answer spends the client address's failed-lookup budget
//! ([`FailedLookups`]).
//!
//! `lastUsedAt` is kept in memory and written in batches by
//! [`KeyCache::flush_last_used`], not once per call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::sync::Cache;
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::api_keys::{self, Environment, KeyGrant, Rate, Scopes};
use super::key_failures::FailedLookups;
use super::publishable::{PublicGrant, PublicKeys};
use crate::db::{Db, api_keys as rows};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// The NOTIFY channel of key changes.
pub const CHANNEL: &str = "tenantgate_keys";

/// How long a cached answer is kept at most (a safety net: changes are
/// announced; this bounds the cost of a lost announcement).
const TTL: Duration = Duration::from_secs(300);
const CAPACITY: u64 = 200_000;
/// How long "no such key" is remembered: short, and every key announcement
/// (creation included) drops all of them, so a new key never meets a stale miss.
const NEGATIVE_TTL: Duration = Duration::from_secs(60);
/// Most "no such key" answers kept. They live in their own cache, so a flood
/// of made-up keys evicts other made-up keys, never a verified one.
const NEGATIVE_CAPACITY: u64 = 100_000;

/// The instance's cache of verified keys; cheap to clone.
#[derive(Clone)]
pub struct KeyCache {
    inner: Arc<Inner>,
}

struct Inner {
    /// Verified keys by hash.
    cache: Cache<[u8; 32], Arc<KeyGrant>>,
    /// Hashes known not to be keys.
    missing: Cache<[u8; 32], ()>,
    /// Bumped on every invalidation, so a lookup that raced with a change is
    /// not cached (see [`KeyCache::authenticate`]).
    epoch: AtomicU64,
    /// Whether announcements are being received (the LISTEN connection is up).
    live: AtomicBool,
    /// Last use per key since the last flush: key -> (tenant, time).
    last_used: Mutex<HashMap<Uuid, (Uuid, DateTime<Utc>)>>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Admitted publishable keys, dropped by the same announcements.
    public: PublicKeys,
    /// Keys whose use from a browser was audited in the last hour.
    leaks: Cache<Uuid, ()>,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::new()
    }
}

fn unknown_key() -> AppError {
    AppError::unauthenticated("this API key is not valid")
}

impl KeyCache {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
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
                live: AtomicBool::new(false),
                last_used: Mutex::new(HashMap::new()),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                public: PublicKeys::default(),
                leaks: Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(Duration::from_secs(3600))
                    .build(),
            }),
        }
    }

    /// Verifies a presented key: its shape and checksum first (no lookup), then
    /// the cache, then the database. UNAUTHENTICATED for an unknown, revoked,
    /// expired or rotated-out key; FORBIDDEN when its tenant is not active.
    /// Every answer "no such key" (cached or not) spends one of `client`'s
    /// failed lookups, and a client past that budget gets RATE_LIMITED instead
    /// of a database lookup.
    pub async fn authenticate(
        &self,
        db: &Db,
        secret: &str,
        failures: &FailedLookups,
        client: Option<&str>,
    ) -> AppResult<Arc<KeyGrant>> {
        api_keys::parse(secret)?;
        let hash = api_keys::hash(secret);
        let now = Utc::now();
        let inner = &self.inner;
        let live = inner.live.load(Ordering::SeqCst);
        if live && let Some(known) = self.known(&hash, now, failures, client).await {
            return known;
        }
        // A client's lookups run a few at a time: a burst of made-up keys costs
        // at most that many lookups before its failures are counted (and a
        // burst of one real key finds it cached once its turn comes).
        let _turn = failures.lookup_turn(client).await;
        if live && let Some(known) = self.known(&hash, now, failures, client).await {
            return known;
        }
        failures.check(client)?;
        inner.misses.fetch_add(1, Ordering::Relaxed);
        let epoch = inner.epoch.load(Ordering::SeqCst);
        let grant = load(db, &hash).await?.map(Arc::new);
        if live {
            match &grant {
                Some(grant) => inner.cache.insert(hash, grant.clone()),
                None => inner.missing.insert(hash, ()),
            }
            // A change announced while we read may predate our snapshot:
            // drop what we just cached (the invalidation that bumped the
            // epoch may have run before our insert).
            if inner.epoch.load(Ordering::SeqCst) != epoch {
                inner.cache.invalidate(&hash);
                inner.missing.invalidate(&hash);
            }
        }
        let Some(grant) = grant else {
            failures.spend(client).await?;
            return Err(unknown_key());
        };
        grant.check(now)?;
        Ok(grant)
    }

    /// The cached answer for `hash`, if there is one (a cached "no such key"
    /// spends one of `client`'s failed lookups).
    async fn known(
        &self,
        hash: &[u8; 32],
        now: DateTime<Utc>,
        failures: &FailedLookups,
        client: Option<&str>,
    ) -> Option<AppResult<Arc<KeyGrant>>> {
        let inner = &self.inner;
        if let Some(grant) = inner.cache.get(hash) {
            inner.hits.fetch_add(1, Ordering::Relaxed);
            return Some(grant.check(now).map(|()| grant));
        }
        if inner.missing.contains_key(hash) {
            inner.hits.fetch_add(1, Ordering::Relaxed);
            return Some(match failures.spend(client).await {
                Ok(()) => Err(unknown_key()),
                Err(err) => Err(err),
            });
        }
        None
    }

    /// Handles an announcement: `k:<key id>`, `t:<tenant id>`, `p:<tenant
    /// id>` (publishable keys only) or `*`. Every
    /// announcement also forgets every "no such key": a created or rotated key
    /// (announced as `k:<its id>`) may be one that was asked for before.
    pub fn invalidate(&self, payload: &str) {
        let inner = &self.inner;
        inner.epoch.fetch_add(1, Ordering::SeqCst);
        inner.missing.invalidate_all();
        inner.public.invalidate(payload);
        let target = payload
            .split_once(':')
            .and_then(|(kind, id)| Some((kind, Uuid::parse_str(id).ok()?)));
        let result = match target {
            Some(("k", id)) => inner
                .cache
                .invalidate_entries_if(move |_, g| g.key_id == id)
                .map(drop),
            Some(("t", id)) => inner
                .cache
                .invalidate_entries_if(move |_, g| g.tenant_id == id)
                .map(drop),
            // A publishable key, an origin, the name or branding: nothing a
            // secret key's grant holds.
            Some(("p", _)) => Ok(()),
            _ => {
                inner.cache.invalidate_all();
                Ok(())
            }
        };
        if let Err(err) = result {
            tracing::error!(error = %err, "could not invalidate cached keys; dropping them all");
            inner.cache.invalidate_all();
        }
    }

    /// Called by the listener: `true` once LISTEN is established (everything
    /// cached before is dropped, as announcements may have been missed),
    /// `false` when the connection is lost.
    pub fn set_live(&self, live: bool) {
        let inner = &self.inner;
        if live {
            inner.epoch.fetch_add(1, Ordering::SeqCst);
            inner.cache.invalidate_all();
            inner.missing.invalidate_all();
            inner.public.clear();
        }
        inner.live.store(live, Ordering::SeqCst);
    }

    /// Verifies a presented publishable key (see
    /// [`PublicKeys::authenticate`]), cached while announcements are received.
    pub async fn authenticate_publishable(
        &self,
        db: &Db,
        key: &str,
        failures: &FailedLookups,
        client: Option<&str>,
    ) -> AppResult<Arc<PublicGrant>> {
        self.inner
            .public
            .authenticate(db, key, self.is_live(), failures, client)
            .await
    }

    /// Whether a secret key's use from a browser should be audited now: the
    /// first time in an hour on this instance.
    pub fn first_leak_report(&self, key_id: Uuid) -> bool {
        let mut first = false;
        self.inner.leaks.get_with(key_id, || first = true);
        first
    }

    /// Whether announcements are being received.
    pub fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.inner.hits.load(Ordering::Relaxed),
            self.inner.misses.load(Ordering::Relaxed),
        )
    }

    /// Notes that `grant` was used now (written by [`Self::flush_last_used`]).
    pub fn touch(&self, grant: &KeyGrant) {
        // Microseconds, as the database keeps it: `lastUsedAt` reads the same
        // before and after the flush (and in a compiled read).
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        if let Ok(mut map) = self.inner.last_used.lock() {
            map.insert(grant.key_id, (grant.tenant_id, now));
        }
    }

    /// The last use of `key_id` seen by this instance and not yet written.
    pub fn pending_last_used(&self, key_id: Uuid) -> Option<DateTime<Utc>> {
        let map = self.inner.last_used.lock().ok()?;
        map.get(&key_id).map(|(_, at)| *at)
    }

    /// The last uses of `tenant_id`'s keys seen by this instance and not yet
    /// written (ids, times): a compiled read takes them into `lastUsedAt` as
    /// [`Self::pending_last_used`] does for one key. One pass over the map,
    /// which holds at most one entry per key used since the last flush.
    pub fn pending_last_used_in(&self, tenant_id: Uuid) -> (Vec<Uuid>, Vec<DateTime<Utc>>) {
        let Ok(map) = self.inner.last_used.lock() else {
            return (Vec::new(), Vec::new());
        };
        map.iter()
            .filter(|(_, (tenant, _))| *tenant == tenant_id)
            .map(|(key, (_, at))| (*key, *at))
            .unzip()
    }

    /// Writes the last uses noted since the last flush: one transaction per
    /// tenant. What cannot be written is kept for the next flush.
    pub async fn flush_last_used(&self, db: &Db) -> AppResult<usize> {
        let taken: HashMap<Uuid, (Uuid, DateTime<Utc>)> = match self.inner.last_used.lock() {
            Ok(mut map) => std::mem::take(&mut *map),
            Err(_) => return Ok(0),
        };
        let mut by_tenant: HashMap<Uuid, (Vec<Uuid>, Vec<DateTime<Utc>>)> = HashMap::new();
        for (key, (tenant, at)) in &taken {
            let slot = by_tenant.entry(*tenant).or_default();
            slot.0.push(*key);
            slot.1.push(*at);
        }
        let mut written = 0;
        let mut failure = None;
        for (tenant, (ids, ats)) in by_tenant {
            let result = db
                .scoped(Scope::tenant(tenant), |conn| {
                    let (ids, ats) = (&ids, &ats);
                    async move { Ok(rows::touch(conn, ids, ats).await?) }.scope_boxed()
                })
                .await;
            match result {
                Ok(n) => written += n,
                Err(err) => {
                    // Put them back unless a newer use was noted meanwhile.
                    if let Ok(mut map) = self.inner.last_used.lock() {
                        for (id, at) in ids.iter().zip(ats) {
                            map.entry(*id).or_insert((tenant, at));
                        }
                    }
                    failure = Some(err);
                }
            }
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(written),
        }
    }
}

/// Reads a key by hash (one statement in its own transaction).
async fn load(db: &Db, hash: &[u8; 32]) -> AppResult<Option<KeyGrant>> {
    let row = db
        .scoped(Scope::anonymous(), |conn| {
            async move { Ok(rows::lookup(conn, hash).await?) }.scope_boxed()
        })
        .await?;
    row.map(grant_from_row).transpose()
}

fn grant_from_row(row: rows::KeyLookup) -> AppResult<KeyGrant> {
    let environment = Environment::parse(&row.environment).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "unknown key environment {:?}",
            row.environment
        ))
    })?;
    let rate = |limit: i32, period: i32| Rate {
        limit: limit.max(1) as u32,
        period_seconds: period.max(1) as u32,
    };
    Ok(KeyGrant {
        key_id: row.id,
        tenant_id: row.tenant_id,
        tenant_slug: row.tenant_slug,
        tenant_status: row.tenant_status,
        plan_key: row.plan_key,
        created_by: row.created_by,
        name: row.name,
        environment,
        display_prefix: row.display_prefix,
        scopes: Scopes::from_names(&row.scopes.into_iter().flatten().collect::<Vec<_>>()),
        key_rate: row
            .rate_limit
            .zip(row.rate_limit_period)
            .map(|(l, p)| rate(l, p)),
        tenant_rate: rate(row.api_calls_per_hour, 3600),
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        previous_valid_until: row.valid_until,
        is_previous: row.is_previous,
    })
}
