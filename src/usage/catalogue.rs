//! The metric catalogue, cached in process and dropped everywhere at once
//! on change (the pattern of [`crate::plans::catalogue`]): a trigger
//! announces every change on commit (`NOTIFY tenantgate_metrics`), every
//! instance's LISTEN connection calls [`MetricCatalogue::invalidate`], and
//! while that connection is down every read goes to the database.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use scoped_futures::ScopedFutureExt;

use crate::db::Db;
use crate::db::metrics::{self as rows, MetricRow};
use crate::error::AppResult;
use crate::tenancy::Scope;

/// The NOTIFY channel of metric changes.
pub const CHANNEL: &str = "tenantgate_metrics";

/// How long a loaded catalogue is kept at most (changes are announced; this
/// bounds the cost of a lost announcement).
const TTL: Duration = Duration::from_secs(300);

/// The instance's copy of the metric catalogue; cheap to clone.
#[derive(Clone, Default)]
pub struct MetricCatalogue {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cached: RwLock<Option<(Instant, Arc<Vec<MetricRow>>)>>,
    /// Bumped on every invalidation, so a load that raced with a change is
    /// not kept.
    epoch: AtomicU64,
    /// Whether announcements are being received.
    live: AtomicBool,
    /// Loads from the database so far.
    loads: AtomicU64,
}

impl MetricCatalogue {
    /// Every metric by key: the cached copy when announcements are being
    /// received, else read from the database.
    pub async fn get(&self, db: &Db) -> AppResult<Arc<Vec<MetricRow>>> {
        let inner = &self.inner;
        let live = inner.live.load(Ordering::SeqCst);
        if live && let Some(cached) = self.cached() {
            return Ok(cached);
        }
        let epoch = inner.epoch.load(Ordering::SeqCst);
        inner.loads.fetch_add(1, Ordering::Relaxed);
        let rows = db
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(rows::all(conn).await?) }.scope_boxed()
            })
            .await?;
        let rows = Arc::new(rows);
        if live
            && let Ok(mut slot) = inner.cached.write()
            && inner.epoch.load(Ordering::SeqCst) == epoch
        {
            *slot = Some((Instant::now(), rows.clone()));
        }
        Ok(rows)
    }

    fn cached(&self) -> Option<Arc<Vec<MetricRow>>> {
        let slot = self.inner.cached.read().ok()?;
        let (at, rows) = slot.as_ref()?;
        (at.elapsed() < TTL).then(|| rows.clone())
    }

    /// Handles an announcement (or a change made by this instance).
    pub fn invalidate(&self) {
        self.inner.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut slot) = self.inner.cached.write() {
            *slot = None;
        }
    }

    /// Called by the listener: `true` once announcements arrive, `false`
    /// when they stop.
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
