//! Live usage across instances: which tenants' counters changed, announced
//! with NOTIFY when usage commits ([`Announcer`]) and fanned out per tenant
//! to the `usageUpdated` subscribers of every instance ([`Watchers`]).
//!
//! An announcement carries only a tenant id; subscribers read the counters
//! themselves under their own tenant scope. Announcing costs at most one
//! NOTIFY per tenant per [`ANNOUNCE_EVERY`] per instance whatever the
//! traffic: the first commit of a window sends its NOTIFY inside its own
//! transaction (delivered only if it commits); a commit that falls inside a
//! window already announced leaves a trailing NOTIFY, sent once the window
//! ends, after that commit. So every commit of live usage is followed by an
//! announcement that reaches LISTEN after the data is visible, and the last
//! push a subscriber gets reflects the final counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use scoped_futures::ScopedFutureExt;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use crate::db::Db;
use crate::db::notify::notify;
use crate::tenancy::Scope;

/// The NOTIFY channel of tenants whose usage changed (payload: the tenant id).
pub const CHANNEL: &str = "tenantgate_usage";
/// At most one announcement per tenant this often, per instance.
pub const ANNOUNCE_EVERY: Duration = Duration::from_millis(250);
/// How often a trailing announcement that failed (the database is down) is
/// tried again, and how many times.
const RETRY_EVERY: Duration = Duration::from_secs(1);
const RETRIES: u32 = 30;
/// Past this many remembered tenants, windows that ended are forgotten.
const PRUNE_PAST: usize = 10_000;

/// The per-tenant announcement windows of one instance; cheap to clone.
#[derive(Clone, Default)]
pub struct Announcer {
    slots: Arc<Mutex<HashMap<Uuid, Slot>>>,
}

struct Slot {
    /// When the last announcement of this tenant was claimed.
    last: Instant,
    /// Whether a trailing announcement is waiting for the window to end.
    trailing: bool,
}

impl Announcer {
    /// Inside the transaction that records live usage of `tenant`: sends
    /// the NOTIFY (delivered on commit) when this tenant's window is open.
    /// Whether it did; pass that to [`Announcer::committed`].
    pub async fn in_transaction(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
    ) -> QueryResult<bool> {
        if !self.claim(tenant) {
            return Ok(false);
        }
        notify(conn, CHANNEL, &tenant.to_string()).await?;
        Ok(true)
    }

    /// After that transaction committed: when it did not announce itself,
    /// makes sure a trailing announcement follows at the end of the window.
    pub fn committed(&self, db: &Db, tenant: Uuid, announced: bool) {
        if announced {
            return;
        }
        let due = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let slot = slots.entry(tenant).or_insert_with(|| Slot {
                last: Instant::now()
                    .checked_sub(ANNOUNCE_EVERY)
                    .unwrap_or_else(Instant::now),
                trailing: false,
            });
            if slot.trailing {
                // The waiting announcement is sent after this commit.
                return;
            }
            slot.trailing = true;
            slot.last + ANNOUNCE_EVERY
        };
        let (slots, db) = (self.slots.clone(), db.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            // Taking the slot before sending: a commit seen after this
            // point schedules an announcement of its own.
            if let Ok(mut slots) = slots.lock()
                && let Some(slot) = slots.get_mut(&tenant)
            {
                slot.trailing = false;
                slot.last = Instant::now();
            }
            for attempt in 1..=RETRIES {
                match announce(&db, tenant).await {
                    Ok(()) => return,
                    Err(err) if attempt == RETRIES => {
                        tracing::warn!(tenant.id = %tenant, error = %err, "usage change not announced; live subscribers see it at their next poll");
                    }
                    Err(_) => tokio::time::sleep(RETRY_EVERY).await,
                }
            }
        });
    }

    /// Takes `tenant`'s window when it is open (no announcement claimed in
    /// the last [`ANNOUNCE_EVERY`], none waiting).
    fn claim(&self, tenant: Uuid) -> bool {
        let now = Instant::now();
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get_mut(&tenant) {
            if slot.trailing || now.duration_since(slot.last) < ANNOUNCE_EVERY {
                return false;
            }
            slot.last = now;
            return true;
        }
        if slots.len() >= PRUNE_PAST {
            slots.retain(|_, s| s.trailing || now.duration_since(s.last) < ANNOUNCE_EVERY);
        }
        slots.insert(
            tenant,
            Slot {
                last: now,
                trailing: false,
            },
        );
        true
    }
}

/// One trailing NOTIFY in a transaction of its own.
async fn announce(db: &Db, tenant: Uuid) -> crate::error::AppResult<()> {
    db.scoped(Scope::anonymous(), |conn| {
        async move { Ok(notify(conn, CHANNEL, &tenant.to_string()).await?) }.scope_boxed()
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

    #[tokio::test]
    async fn one_window_per_tenant() {
        let announcer = Announcer::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(announcer.claim(a));
        assert!(!announcer.claim(a), "the window is taken");
        assert!(announcer.claim(b), "tenants have windows of their own");
        tokio::time::sleep(ANNOUNCE_EVERY).await;
        assert!(announcer.claim(a), "the next window is open");
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
