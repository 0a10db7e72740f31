//! The plan catalogue, cached in process and dropped everywhere at once on
//! change.
//!
//! `plans` and `Tenant.plan` read the catalogue on every call; it changes
//! only when a platform admin (or a migration, or `billing sync-prices`)
//! edits a plan. A trigger announces every change on commit
//! (`NOTIFY tenantgate_plans`); every instance's LISTEN connection
//! ([`crate::audit::feed`], the one that also carries key changes) calls
//! [`PlanCatalogue::invalidate`], so the next read loads it again. While that
//! connection is down or silent the cache is not trusted: every read goes to
//! the database (as key verification does), and the first heartbeat after
//! that empties it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use scoped_futures::ScopedFutureExt;

use super::{Catalogue, Plan};
use crate::db::{self, Db};
use crate::error::AppResult;
use crate::tenancy::Scope;

/// The NOTIFY channel of plan changes.
pub const CHANNEL: &str = "tenantgate_plans";

/// How long a loaded catalogue is kept at most (a safety net: changes are
/// announced; this bounds the cost of a lost announcement).
const TTL: Duration = Duration::from_secs(300);

/// The instance's copy of the catalogue; cheap to clone.
#[derive(Clone, Default)]
pub struct PlanCatalogue {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cached: RwLock<Option<(Instant, Arc<Catalogue>)>>,
    /// Bumped on every invalidation, so a load that raced with a change is
    /// not kept (see [`PlanCatalogue::get`]).
    epoch: AtomicU64,
    /// Whether announcements are being received (the LISTEN connection is up).
    live: AtomicBool,
    /// Loads from the database so far.
    loads: AtomicU64,
}

impl PlanCatalogue {
    pub fn new() -> Self {
        Self::default()
    }

    /// The catalogue: the cached copy when announcements are being
    /// received, else (or when there is none yet) read in its own statement
    /// through `db` (a query request's reads join its transaction).
    pub async fn get(&self, db: &Db) -> AppResult<Arc<Catalogue>> {
        let inner = &self.inner;
        let live = inner.live.load(Ordering::SeqCst);
        if live && let Some(cached) = self.cached() {
            return Ok(cached);
        }
        let epoch = inner.epoch.load(Ordering::SeqCst);
        inner.loads.fetch_add(1, Ordering::Relaxed);
        let rows = db
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(db::plans::all(conn).await?) }.scope_boxed()
            })
            .await?;
        let catalogue = Arc::new(Catalogue::new(rows));
        if live && let Ok(mut slot) = inner.cached.write() {
            // A change announced while we read may be missing from what we
            // read: keep it only if none was.
            if inner.epoch.load(Ordering::SeqCst) == epoch {
                *slot = Some((Instant::now(), catalogue.clone()));
            }
        }
        Ok(catalogue)
    }

    /// The plan `key`, public or not. A key the cached copy does not know
    /// (a plan created a moment ago, its announcement still on the way) is
    /// looked up once more in the database.
    pub async fn plan(&self, db: &Db, key: &str) -> AppResult<Option<Arc<Plan>>> {
        let catalogue = self.get(db).await?;
        if let Some(plan) = catalogue.get(key) {
            return Ok(Some(plan.clone()));
        }
        self.invalidate();
        Ok(self.get(db).await?.get(key).cloned())
    }

    fn cached(&self) -> Option<Arc<Catalogue>> {
        let slot = self.inner.cached.read().ok()?;
        let (at, catalogue) = slot.as_ref()?;
        (at.elapsed() < TTL).then(|| catalogue.clone())
    }

    /// Handles an announcement (or a change made by this instance): the next
    /// read loads the catalogue again.
    pub fn invalidate(&self) {
        let inner = &self.inner;
        inner.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut slot) = inner.cached.write() {
            *slot = None;
        }
    }

    /// Called by the listener: `true` once announcements arrive (the copy is
    /// dropped, as some may have been missed), `false` when they stop.
    pub fn set_live(&self, live: bool) {
        if live {
            self.invalidate();
        }
        self.inner.live.store(live, Ordering::SeqCst);
    }

    /// Whether announcements are being received.
    pub fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// How many times the catalogue was read from the database.
    pub fn loads(&self) -> u64 {
        self.inner.loads.load(Ordering::Relaxed)
    }
}
