//! Live usage across instances: which tenants' counters changed, announced
//! with NOTIFY after usage commits ([`Announcer`]) and fanned out per tenant
//! to the `usageUpdated` subscribers of every instance ([`Watchers`]).
//!
//! An announcement carries only a tenant id; subscribers read the counters
//! themselves under their own tenant scope. NOTIFY never runs inside the
//! transactions that record usage: PostgreSQL's `PreCommit_Notify` takes a
//! database-wide lock held through the commit's WAL flush, so notifying
//! transactions commit one at a time across the whole cluster. Instead a
//! commit that recorded live usage marks its tenant dirty on this instance,
//! and one task sends every dirty tenant in a single statement of its own
//! (`pg_notify` over `unnest`), at once when idle and then at most once per
//! [`ANNOUNCE_EVERY`] while commits keep coming. So every commit of live
//! usage is followed by an announcement that reaches LISTEN after the data
//! is visible, and the last push a subscriber gets reflects the final
//! counts; an instance sends at most one NOTIFY statement per window
//! whatever its traffic and its number of tenants.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use tokio::sync::watch;
use uuid::Uuid;

use crate::db::Db;
use crate::db::notify::notify_each;
use crate::tenancy::Scope;

/// The NOTIFY channel of tenants whose usage changed (payload: the tenant id).
pub const CHANNEL: &str = "tenantgate_usage";
/// At most one announcement statement this often, per instance.
pub const ANNOUNCE_EVERY: Duration = Duration::from_millis(250);
/// How often an announcement that failed (the database is down) is tried
/// again, and how many times in a row before its tenants are dropped.
const RETRY_EVERY: Duration = Duration::from_secs(1);
const RETRIES: u32 = 30;
/// Past this many watched tenants, those nobody watches any more are forgotten.
const PRUNE_PAST: usize = 10_000;

/// This instance's tenants whose live usage committed and is not announced
/// yet; cheap to clone.
#[derive(Clone, Default)]
pub struct Announcer {
    state: Arc<Mutex<Pending>>,
}

#[derive(Default)]
struct Pending {
    /// Tenants to announce at the next send.
    dirty: HashSet<Uuid>,
    /// Whether the sending task runs (it stops once nothing is dirty).
    running: bool,
}

impl Announcer {
    /// After a transaction that recorded live usage of `tenant` committed:
    /// makes sure an announcement of `tenant` follows, within
    /// [`ANNOUNCE_EVERY`].
    pub fn committed(&self, db: &Db, tenant: Uuid) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.dirty.insert(tenant);
        if state.running {
            return;
        }
        state.running = true;
        drop(state);
        let (state, db) = (self.state.clone(), db.clone());
        tokio::spawn(async move { send_loop(state, db).await });
    }

    /// Takes the dirty tenants, or stops the task (under the same lock, so a
    /// commit seen after this point starts a task of its own).
    fn take(state: &Mutex<Pending>) -> Option<Vec<Uuid>> {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        if state.dirty.is_empty() {
            state.running = false;
            return None;
        }
        Some(state.dirty.drain().collect())
    }
}

/// Sends the dirty tenants now, then once per window while more arrive.
async fn send_loop(state: Arc<Mutex<Pending>>, db: Db) {
    let mut failures = 0;
    while let Some(tenants) = Announcer::take(&state) {
        match announce(&db, &tenants).await {
            Ok(()) => {
                failures = 0;
                tokio::time::sleep(ANNOUNCE_EVERY).await;
            }
            Err(err) => {
                failures += 1;
                if failures >= RETRIES {
                    tracing::warn!(tenants = tenants.len(), error = %err, "usage changes not announced; live subscribers see them at their next poll");
                    failures = 0;
                } else {
                    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                    state.dirty.extend(tenants);
                }
                tokio::time::sleep(RETRY_EVERY).await;
            }
        }
    }
}

/// One NOTIFY per tenant, all in one statement and a short transaction of
/// its own.
async fn announce(db: &Db, tenants: &[Uuid]) -> crate::error::AppResult<()> {
    let ids: Vec<String> = tenants.iter().map(Uuid::to_string).collect();
    db.scoped(Scope::anonymous(), |conn| {
        async move { Ok(notify_each(conn, CHANNEL, &ids).await?) }.scope_boxed()
    })
    .await
}

/// The subscribers' side on one instance: a watch per tenant that someone
/// subscribes to, bumped on every announcement of that tenant, and whether
/// announcements are arriving at all (the LISTEN heartbeat); cheap to clone.
#[derive(Clone, Debug)]
pub struct Watchers {
    inner: Arc<WatchersInner>,
}

#[derive(Debug)]
struct WatchersInner {
    tenants: Mutex<HashMap<Uuid, watch::Sender<u64>>>,
    live: AtomicBool,
}

impl Default for Watchers {
    fn default() -> Self {
        Self {
            inner: Arc::new(WatchersInner {
                tenants: Mutex::new(HashMap::new()),
                live: AtomicBool::new(false),
            }),
        }
    }
}

impl Watchers {
    /// A receiver that changes whenever `tenant`'s usage is announced (or
    /// the LISTEN connection's trust changes). Only that tenant's
    /// announcements ever reach it.
    pub fn watch(&self, tenant: Uuid) -> watch::Receiver<u64> {
        let mut tenants = self.inner.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if tenants.len() >= PRUNE_PAST {
            tenants.retain(|_, s| s.receiver_count() > 0);
        }
        tenants
            .entry(tenant)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// `tenant`'s usage changed (an announcement arrived).
    pub fn announce(&self, tenant: Uuid) {
        let mut tenants = self.inner.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sender) = tenants.get(&tenant) else {
            return;
        };
        if sender.receiver_count() == 0 {
            tenants.remove(&tenant);
            return;
        }
        sender.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether announcements are arriving (LISTEN proved alive by its
    /// heartbeat); when not, subscribers poll.
    pub fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// Records whether announcements arrive; on a change every subscriber
    /// is woken (to poll while they do not, to read afresh once they do).
    pub fn set_live(&self, live: bool) {
        if self.inner.live.swap(live, Ordering::SeqCst) == live {
            return;
        }
        let tenants = self.inner.tenants.lock().unwrap_or_else(|e| e.into_inner());
        for sender in tenants.values() {
            sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_stops_when_nothing_is_dirty() {
        let announcer = Announcer::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        {
            let mut state = announcer.state.lock().unwrap();
            state.dirty.extend([a, b, a]);
            state.running = true;
        }
        let mut taken = Announcer::take(&announcer.state).unwrap();
        taken.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(taken, want, "each dirty tenant once");
        assert!(announcer.state.lock().unwrap().running);
        assert!(Announcer::take(&announcer.state).is_none());
        assert!(!announcer.state.lock().unwrap().running, "stopped");
    }

    #[tokio::test]
    async fn watchers_see_only_their_tenant() {
        let watchers = Watchers::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut rx = watchers.watch(a);
        watchers.announce(b);
        assert!(!rx.has_changed().unwrap());
        watchers.announce(a);
        watchers.announce(a);
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        assert!(!rx.has_changed().unwrap(), "announcements coalesce");
        watchers.set_live(true);
        assert!(
            rx.has_changed().unwrap(),
            "a change of trust wakes everyone"
        );
        drop(rx);
        watchers.announce(a);
        assert!(watchers.inner.tenants.lock().unwrap().is_empty());
    }
}
