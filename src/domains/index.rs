//! The routing index of one instance: which hosts name which tenant, held in
//! memory so that a host costs no SQL.
//!
//! It maps every tenant's slug (for `<slug>.<base domain>`) and every custom
//! domain that routes (verified, the tenant active, its plan with
//! `customDomain`) to the tenant's id. It is read whole at start (requests on
//! a tenant's host wait for it, at most [`READY_WAIT`]), again every
//! [`RECONCILE_EVERY`] and at once when the LISTEN connection comes back (a
//! lost announcement heals), and one tenant at a time when a trigger
//! announces a change of that tenant (`NOTIFY tenantgate_hosts`, the tenant's
//! id: a slug, status, plan, name or branding changed, a domain was set,
//! verified, un-verified or removed). A change of the plan catalogue
//! (`tenantgate_plans`) reads it whole.
//!
//! Every load takes a sequence number before it reads; a tenant's entries
//! are only ever replaced by a load that started later than the one that
//! wrote them, so a reload that read older rows never overwrites one that
//! read newer rows. A whole read builds its map outside the lock and swaps it
//! in (keeping the tenants reloaded one by one since it started), and the old
//! map is dropped after the lock is released: lookups never wait for a whole
//! read, nor does a tenant's reload (asked for by a request) queue behind one.
//!
//! Memory: per tenant one slug entry and one reverse entry, about 150 bytes
//! with a 10-character slug (the slug twice, the id twice, the maps'
//! overhead), plus about 120 bytes more for a routing custom domain of 30
//! characters (at most one per tenant): 100,000 tenants take about 15–30 MB.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, Weak};
use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::names::HostName;
use crate::db::{Db, domains as db_domains};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// The NOTIFY channel of routing changes (payload: a tenant's id).
pub const CHANNEL: &str = "tenantgate_hosts";
/// How often the whole index is read again.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(30);
/// How long a request on a tenant's host waits for the first load.
pub const READY_WAIT: Duration = Duration::from_secs(10);

/// What the LISTEN connection tells the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostNotice {
    /// This tenant's routing (or face) changed.
    Tenant(Uuid),
    /// Anything may have changed (the plan catalogue changed, or
    /// announcements may have been missed): read the whole index.
    All,
}

/// One tenant's entries, to remove them when it changes.
#[derive(Debug)]
struct Entry {
    slug: Box<str>,
    domain: Option<Box<str>>,
}

#[derive(Debug, Default)]
struct Maps {
    slugs: HashMap<Box<str>, Uuid>,
    domains: HashMap<Box<str>, Uuid>,
    tenants: HashMap<Uuid, Entry>,
    /// The sequence number of the load that last wrote a tenant's entries
    /// one by one, since the last whole read.
    written: HashMap<Uuid, u64>,
    /// The sequence number of the whole read this map came from.
    whole: u64,
}

impl Maps {
    /// Puts `tenant`'s entries of `from` (or none) in place of its own.
    fn carry(&mut self, tenant: Uuid, from: &Maps) {
        self.remove(tenant);
        if let Some(entry) = from.tenants.get(&tenant) {
            self.insert(db_domains::IndexRow {
                tenant_id: tenant,
                slug: entry.slug.to_string(),
                domain: entry.domain.as_deref().map(str::to_owned),
            });
            // A slug lost to another tenant is kept empty, never routed.
            if self.slugs.get("") == Some(&tenant) {
                self.slugs.remove("");
            }
        }
    }

    /// Puts the whole read `fresh` in place (unless a later whole read is
    /// in), keeping the tenants reloaded one by one after it began; returns
    /// what it replaced.
    fn swap_in(&mut self, mut fresh: Maps) -> Maps {
        if self.whole > fresh.whole {
            return fresh;
        }
        let later: Vec<(Uuid, u64)> = self
            .written
            .iter()
            .filter(|(_, written)| **written > fresh.whole)
            .map(|(t, w)| (*t, *w))
            .collect();
        for (tenant, written) in later {
            fresh.carry(tenant, self);
            fresh.written.insert(tenant, written);
        }
        std::mem::replace(self, fresh)
    }

    /// Replaces the entries of `tenants` by `rows`, read by the load `seq`,
    /// unless a later load wrote them already.
    fn apply(&mut self, tenants: &[Uuid], rows: Vec<db_domains::IndexRow>, seq: u64) {
        if self.whole > seq {
            // A whole read that began later is in: it is newer.
            return;
        }
        let mut by_tenant: HashMap<Uuid, db_domains::IndexRow> =
            rows.into_iter().map(|r| (r.tenant_id, r)).collect();
        for tenant in tenants {
            if self.written.get(tenant).is_some_and(|w| *w >= seq) {
                continue;
            }
            self.remove(*tenant);
            if let Some(row) = by_tenant.remove(tenant) {
                self.insert(row);
            }
            self.written.insert(*tenant, seq);
        }
    }

    fn remove(&mut self, tenant: Uuid) {
        if let Some(old) = self.tenants.remove(&tenant) {
            if self.slugs.get(&old.slug) == Some(&tenant) {
                self.slugs.remove(&old.slug);
            }
            if let Some(domain) = old.domain
                && self.domains.get(&domain) == Some(&tenant)
            {
                self.domains.remove(&domain);
            }
        }
    }

    fn insert(&mut self, row: db_domains::IndexRow) {
        self.remove(row.tenant_id);
        let slug: Box<str> = row.slug.into();
        let domain: Option<Box<str>> = row.domain.map(Into::into);
        // A slug or domain that moved from another tenant in the same load:
        // the other's stale entry goes.
        if let Some(previous) = self.slugs.insert(slug.clone(), row.tenant_id)
            && previous != row.tenant_id
            && let Some(entry) = self.tenants.get_mut(&previous)
            && entry.slug == slug
        {
            entry.slug = "".into();
        }
        if let Some(domain) = &domain
            && let Some(previous) = self.domains.insert(domain.clone(), row.tenant_id)
            && previous != row.tenant_id
            && let Some(entry) = self.tenants.get_mut(&previous)
        {
            entry.domain = None;
        }
        self.tenants.insert(row.tenant_id, Entry { slug, domain });
    }
}

/// The instance's routing index (shared by clones of [`super::Domains`]).
#[derive(Debug)]
pub struct HostIndex {
    maps: RwLock<Maps>,
    ready: watch::Sender<bool>,
    /// Whole reads run one at a time.
    loading: tokio::sync::Mutex<()>,
    /// Taken by every load before it reads.
    sequence: AtomicU64,
    /// Whole reads so far (tests and metrics).
    full_loads: AtomicU64,
}

impl Default for HostIndex {
    fn default() -> Self {
        Self {
            maps: RwLock::default(),
            ready: watch::Sender::new(false),
            loading: tokio::sync::Mutex::new(()),
            sequence: AtomicU64::new(1),
            full_loads: AtomicU64::new(0),
        }
    }
}

impl HostIndex {
    /// The tenant `name` routes to, from memory.
    pub fn tenant_of(&self, name: &HostName) -> Option<Uuid> {
        let maps = self.maps.read().unwrap_or_else(|e| e.into_inner());
        match name {
            HostName::Portal => None,
            HostName::Subdomain(slug) => maps.slugs.get(slug.as_str()).copied(),
            HostName::Custom(domain) => maps.domains.get(domain.as_str()).copied(),
        }
    }

    /// The routing custom domain of `tenant`, if it has one.
    pub fn domain_of(&self, tenant: Uuid) -> Option<String> {
        let maps = self.maps.read().unwrap_or_else(|e| e.into_inner());
        maps.tenants
            .get(&tenant)
            .and_then(|e| e.domain.as_deref().map(str::to_owned))
    }

    /// How many tenants the index holds.
    pub fn len(&self) -> usize {
        self.maps
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .tenants
            .len()
    }

    /// Whether the index holds no tenant.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many times the whole index has been read.
    pub fn full_loads(&self) -> u64 {
        self.full_loads.load(Ordering::Relaxed)
    }

    /// Waits until the first whole read is in (at most [`READY_WAIT`]):
    /// UNAVAILABLE after that.
    pub async fn wait_ready(&self) -> AppResult<()> {
        if *self.ready.borrow() {
            return Ok(());
        }
        let mut rx = self.ready.subscribe();
        match tokio::time::timeout(READY_WAIT, rx.wait_for(|ready| *ready)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(AppError::unavailable(
                "this server has not yet loaded which addresses serve which tenant: try again",
            )),
        }
    }

    /// Reads `tenants` again (every tenant when `None`) and replaces their
    /// entries. Lookups never wait for the read; a tenant's reload never
    /// waits for a whole read.
    pub async fn reload(&self, db: &Db, tenants: Option<&[Uuid]>) -> AppResult<()> {
        let _one_whole_read_at_a_time = match tenants {
            None => Some(self.loading.lock().await),
            Some(_) => None,
        };
        let seq = self.sequence.fetch_add(1, Ordering::SeqCst);
        let wanted = tenants.map(<[Uuid]>::to_vec);
        let rows = db
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(db_domains::host_index(conn, wanted.as_deref()).await?) }
                    .scope_boxed()
            })
            .await?;
        match tenants {
            None => {
                // Built before the lock is taken.
                let mut fresh = Maps {
                    whole: seq,
                    ..Maps::default()
                };
                for row in rows {
                    fresh.insert(row);
                }
                let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
                let old = maps.swap_in(fresh);
                drop(maps);
                // The old map is freed outside the lock.
                drop(old);
                self.full_loads.fetch_add(1, Ordering::Relaxed);
                self.ready.send_replace(true);
            }
            Some(tenants) => {
                let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
                maps.apply(tenants, rows, seq);
            }
        }
        Ok(())
    }
}

/// Keeps `index` fresh until every [`super::Domains`] is dropped: a whole read
/// now and every [`RECONCILE_EVERY`] (retried every second until the first
/// succeeds), one tenant at a time as `notices` announce changes, `changed`
/// told the tenants of each announcement once they are reloaded (`None`
/// after a whole read: any of them).
pub(super) fn start(
    index: Weak<HostIndex>,
    db: Db,
    mut notices: broadcast::Receiver<HostNotice>,
    changed: impl Fn(Option<Vec<Uuid>>) -> futures_util::future::BoxFuture<'static, ()> + Send + 'static,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(RECONCILE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut retry = tokio::time::interval(Duration::from_secs(1));
        loop {
            let Some(current) = index.upgrade() else {
                return;
            };
            let loaded = *current.ready.borrow();
            // The tenants announced, and whether to read the whole index.
            let mut tenants = Vec::new();
            let whole = tokio::select! {
                _ = ticks.tick() => true,
                _ = retry.tick(), if !loaded => true,
                notice = notices.recv() => {
                    let mut whole = false;
                    let mut next = notice.map_err(|e| match e {
                        broadcast::error::RecvError::Closed => broadcast::error::TryRecvError::Closed,
                        broadcast::error::RecvError::Lagged(n) => broadcast::error::TryRecvError::Lagged(n),
                    });
                    // Take every announcement already waiting, in one read.
                    loop {
                        match next {
                            Ok(HostNotice::Tenant(t)) => tenants.push(t),
                            Ok(HostNotice::All) | Err(broadcast::error::TryRecvError::Lagged(_)) => whole = true,
                            Err(broadcast::error::TryRecvError::Closed) => return,
                            Err(broadcast::error::TryRecvError::Empty) => break,
                        }
                        next = notices.try_recv();
                    }
                    whole
                }
            };
            let wanted = (!whole).then_some(tenants.as_slice());
            match current.reload(&db, wanted).await {
                // After a whole read every tenant may have changed.
                Ok(()) => changed((!whole).then_some(tenants)).await,
                Err(err) => tracing::warn!(error = %err, "reading the routing index failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tenant: Uuid, slug: &str, domain: Option<&str>) -> db_domains::IndexRow {
        db_domains::IndexRow {
            tenant_id: tenant,
            slug: slug.into(),
            domain: domain.map(Into::into),
        }
    }

    #[test]
    fn a_load_never_overwrites_one_that_began_later() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut maps = Maps::default();
        // Acme's reload (seq 3) lands before the whole read that began
        // earlier (seq 2) and read Acme's old domain.
        maps.apply(&[a], vec![row(a, "acme", Some("new.acme.com"))], 3);
        let mut fresh = Maps {
            whole: 2,
            ..Maps::default()
        };
        fresh.insert(row(a, "acme", Some("old.acme.com")));
        fresh.insert(row(b, "globex", None));
        let old = maps.swap_in(fresh);
        assert!(old.domains.contains_key("new.acme.com"));
        assert_eq!(maps.domains.get("new.acme.com"), Some(&a));
        assert!(!maps.domains.contains_key("old.acme.com"));
        assert_eq!(maps.slugs.get("globex"), Some(&b));
        // An older reload of Acme (seq 1, its domain still old) is ignored.
        maps.apply(&[a], vec![row(a, "acme", Some("old.acme.com"))], 1);
        assert_eq!(maps.domains.get("new.acme.com"), Some(&a));
        // Acme removed by a reload that read no row: gone, and kept gone by
        // a whole read that began before it.
        maps.apply(&[a, a], vec![], 4);
        assert!(!maps.tenants.contains_key(&a));
        let mut fresh = Maps {
            whole: 3,
            ..Maps::default()
        };
        fresh.insert(row(a, "acme", Some("new.acme.com")));
        maps.swap_in(fresh);
        assert!(!maps.tenants.contains_key(&a));
        assert!(!maps.domains.contains_key("new.acme.com"));
        // A whole read older than the one in is not swapped in.
        let mut fresh = Maps {
            whole: 2,
            ..Maps::default()
        };
        fresh.insert(row(a, "acme", Some("new.acme.com")));
        let kept = maps.swap_in(fresh);
        assert_eq!(kept.whole, 2);
        assert_eq!(maps.whole, 3);
        // A later whole read replaces everything.
        let mut fresh = Maps {
            whole: 9,
            ..Maps::default()
        };
        fresh.insert(row(b, "globex", None));
        maps.swap_in(fresh);
        assert!(!maps.tenants.contains_key(&a));
        assert_eq!(maps.slugs.get("globex"), Some(&b));
        assert!(maps.written.is_empty());
    }

    #[test]
    fn a_tenant_replaced_leaves_nothing_behind() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut maps = Maps::default();
        maps.insert(row(a, "acme", Some("portal.acme.com")));
        maps.insert(row(b, "globex", None));
        // Acme renames its slug and loses its domain; Globex takes the slug.
        maps.remove(a);
        maps.insert(row(a, "acme2", None));
        maps.remove(b);
        maps.insert(row(b, "acme", None));
        assert_eq!(maps.slugs.get("acme"), Some(&b));
        assert_eq!(maps.slugs.get("acme2"), Some(&a));
        assert!(!maps.slugs.contains_key("globex"));
        assert!(maps.domains.is_empty());
        // A slug that moved before the old holder's reload: the holder's
        // removal does not take the new one's entry.
        maps.insert(row(a, "acme", None));
        maps.remove(b);
        assert_eq!(maps.slugs.get("acme"), Some(&a));
        assert_eq!(maps.tenants.len(), 1);
    }
}
