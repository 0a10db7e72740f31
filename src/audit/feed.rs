//! The live audit feed: one LISTEN connection per instance, fanned out in process
//! (the same connection also receives API-key changes for the key cache,
//! plan changes for the plan catalogue, tenants whose usage changed for
//! `usageUpdated`, see [`crate::usage::live`], and routing changes for the
//! host index, see [`crate::domains::index`]).
//!
//! Entries are announced by a trigger (`pg_notify('tenantgate_audit', …)`) when
//! their transaction commits, so every instance sees every entry, whichever
//! instance wrote it. Subscribers get only ids and tenant ids from here and read
//! the entry itself through their own tenant-scoped transaction.
//!
//! The connection is trusted only while it proves it works: every
//! [`HEARTBEAT_EVERY`] a second connection sends a NOTIFY on this instance's
//! own heartbeat channel. With none received for [`STALE_AFTER`] the key cache
//! and the plan catalogue stop trusting themselves (every key is checked and
//! the catalogue read in the database) and live audit
//! subscriptions end with UNAVAILABLE (they may have missed entries) while
//! live usage subscriptions poll (each push is a whole snapshot, so nothing
//! is lost by a missed announcement); after
//! [`RECONNECT_AFTER`] both connections are replaced. The first heartbeat
//! after that flushes both and trust resumes.

use std::time::Duration;

use anyhow::{Context, bail};
use diesel_async::AsyncPgConnection;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio::time::Instant;
use uuid::Uuid;

use crate::auth::key_cache::{self, KeyCache};
use crate::db::notify::{backend_pid, connect, listen as listen_on};
use crate::domains::index::{self as host_index, HostNotice};
use crate::plans::{PlanCatalogue, catalogue as plan_catalogue};
use crate::usage::catalogue::{self as metric_catalogue, MetricCatalogue};
use crate::usage::live::{self as live_usage, Watchers};

/// The NOTIFY channel of new audit entries.
pub const CHANNEL: &str = "tenantgate_audit";
/// The `application_name` of LISTEN connections (visible in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "tenantgate_listen";
/// The `application_name` of the connections that send heartbeats.
pub const HEARTBEAT_APPLICATION_NAME: &str = "tenantgate_heartbeat";
/// How often the LISTEN connection's heartbeat is sent.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// Without a heartbeat for this long, LISTEN is treated as down.
pub const STALE_AFTER: Duration = Duration::from_secs(3);
/// Without a heartbeat for this long, the connections are replaced.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(10);
/// Longest a heartbeat NOTIFY may take to send.
const SEND_TIMEOUT: Duration = Duration::from_secs(2);

/// The NOTIFY channel of data export changes (ids only).
pub const EXPORTS_CHANNEL: &str = "tenantgate_exports";

/// A data export changed (status or progress): its id and owner only; each
/// subscriber reads the row in its own scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ExportNotice {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}

/// A new entry was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Notice {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
}

/// What subscribers receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEvent {
    /// A new entry.
    Entry(Notice),
    /// The LISTEN connection stopped proving it works: entries may be missed.
    Interrupted,
}

/// The feed every subscription of this instance reads from.
#[derive(Debug, Clone)]
pub struct Feed {
    tx: broadcast::Sender<FeedEvent>,
    exports: broadcast::Sender<ExportNotice>,
    hosts: broadcast::Sender<HostNotice>,
    usage: Watchers,
    task: Option<std::sync::Arc<tokio::task::AbortHandle>>,
}

impl Feed {
    /// Starts listening on `url` in the background; reconnects on failure.
    /// Key changes (`tenantgate_keys`) go to `keys` and plan changes
    /// (`tenantgate_plans`) to `plans`, which are told whether the connection
    /// is trusted (heartbeats arrive).
    pub fn start(
        url: String,
        keys: KeyCache,
        plans: PlanCatalogue,
        metrics: MetricCatalogue,
    ) -> Self {
        let (tx, _) = broadcast::channel(1024);
        let sender = tx.clone();
        let (exports, _) = broadcast::channel(256);
        let export_sender = exports.clone();
        let (hosts, _) = broadcast::channel(1024);
        let host_sender = hosts.clone();
        let usage = Watchers::default();
        let watchers = usage.clone();
        let task = tokio::spawn(async move {
            let channel = format!("tenantgate_hb_{}", Uuid::new_v4().simple());
            let mut backoff = Duration::from_millis(100);
            loop {
                let trusted = Trusted {
                    keys: &keys,
                    plans: &plans,
                    metrics: &metrics,
                    usage: &watchers,
                    exports: &export_sender,
                    hosts: &host_sender,
                };
                let result = listen(&url, &channel, &sender, &trusted).await;
                distrust(&sender, &trusted);
                match result {
                    Ok(()) => backoff = Duration::from_millis(100),
                    Err(err) => {
                        tracing::warn!(error = %err, ?backoff, "LISTEN connection lost; reconnecting");
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
        Self {
            tx,
            exports,
            hosts,
            usage,
            task: Some(std::sync::Arc::new(task.abort_handle())),
        }
    }

    /// Stops listening (on shutdown, before the database goes away).
    pub fn stop(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }

    /// A receiver of events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FeedEvent> {
        self.tx.subscribe()
    }

    /// A receiver of data export changes from now on.
    pub fn exports(&self) -> broadcast::Receiver<ExportNotice> {
        self.exports.subscribe()
    }

    /// A receiver of routing changes from now on (the host index's).
    pub fn hosts(&self) -> broadcast::Receiver<HostNotice> {
        self.hosts.subscribe()
    }

    /// The per-tenant usage announcements of this instance.
    pub fn usage(&self) -> &Watchers {
        &self.usage
    }
}

/// What trusts the LISTEN connection while its heartbeats arrive.
struct Trusted<'a> {
    keys: &'a KeyCache,
    plans: &'a PlanCatalogue,
    metrics: &'a MetricCatalogue,
    usage: &'a Watchers,
    exports: &'a broadcast::Sender<ExportNotice>,
    hosts: &'a broadcast::Sender<HostNotice>,
}

/// Stops trusting the caches; tells subscribers if they were being served.
fn distrust(sender: &broadcast::Sender<FeedEvent>, trusted: &Trusted<'_>) {
    let Trusted {
        keys,
        plans,
        metrics,
        usage,
        ..
    } = trusted;
    plans.set_live(false);
    metrics.set_live(false);
    usage.set_live(false);
    if keys.is_live() {
        keys.set_live(false);
        // No receivers is fine: nobody is subscribed right now.
        let _ = sender.send(FeedEvent::Interrupted);
    }
}

async fn notify(conn: &mut AsyncPgConnection, channel: &str, payload: &str) -> anyhow::Result<()> {
    let send = crate::db::notify::notify(conn, channel, payload);
    tokio::time::timeout(SEND_TIMEOUT, send)
        .await
        .context("a NOTIFY took too long")??;
    Ok(())
}

async fn listen(
    url: &str,
    heartbeat: &str,
    sender: &broadcast::Sender<FeedEvent>,
    trusted: &Trusted<'_>,
) -> anyhow::Result<()> {
    let Trusted {
        keys,
        plans,
        metrics,
        usage,
        exports,
        hosts,
    } = trusted;
    let mut conn = connect(url, APPLICATION_NAME).await?;
    for channel in [
        CHANNEL,
        EXPORTS_CHANNEL,
        key_cache::CHANNEL,
        plan_catalogue::CHANNEL,
        metric_catalogue::CHANNEL,
        live_usage::CHANNEL,
        host_index::CHANNEL,
        heartbeat,
    ] {
        listen_on(&mut conn, channel).await?;
    }
    // Heartbeats go out on a connection of their own: they prove that a NOTIFY
    // committed elsewhere reaches this LISTEN, end to end.
    let mut notifier = connect(url, HEARTBEAT_APPLICATION_NAME).await?;
    let mut last_beat = Instant::now();
    let mut ticks = tokio::time::interval(HEARTBEAT_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stream = std::pin::pin!(conn.notifications_stream());
    loop {
        tokio::select! {
            item = stream.next() => {
                let Some(item) = item else { bail!("the LISTEN connection closed") };
                let notification = item?;
                if notification.channel == heartbeat {
                    last_beat = Instant::now();
                    if !keys.is_live() {
                        // Announcements may have been missed: start afresh.
                        let _ = hosts.send(HostNotice::All);
                        keys.set_live(true);
                        tracing::info!("LISTEN heartbeat received: the key cache is trusted");
                    }
                    if !plans.is_live() {
                        plans.set_live(true);
                    }
                    if !metrics.is_live() {
                        metrics.set_live(true);
                    }
                    usage.set_live(true);
                } else if notification.channel == key_cache::CHANNEL {
                    keys.invalidate(&notification.payload);
                } else if notification.channel == plan_catalogue::CHANNEL {
                    plans.invalidate();
                    // A plan may have gained or lost custom domains.
                    let _ = hosts.send(HostNotice::All);
                } else if notification.channel == host_index::CHANNEL {
                    match notification.payload.parse::<Uuid>() {
                        Ok(tenant) => {
                            let _ = hosts.send(HostNotice::Tenant(tenant));
                        }
                        Err(err) => tracing::warn!(error = %err, "unreadable host notice"),
                    }
                } else if notification.channel == metric_catalogue::CHANNEL {
                    metrics.invalidate();
                } else if notification.channel == EXPORTS_CHANNEL {
                    match serde_json::from_str::<ExportNotice>(&notification.payload) {
                        Ok(notice) => {
                            let _ = exports.send(notice);
                        }
                        Err(err) => tracing::warn!(error = %err, "unreadable export notice"),
                    }
                } else if notification.channel == live_usage::CHANNEL {
                    match notification.payload.parse::<Uuid>() {
                        Ok(tenant) => usage.announce(tenant),
                        Err(err) => tracing::warn!(error = %err, "unreadable usage notice"),
                    }
                } else {
                    match serde_json::from_str::<Notice>(&notification.payload) {
                        Ok(notice) => {
                            let _ = sender.send(FeedEvent::Entry(notice));
                        }
                        Err(err) => tracing::warn!(error = %err, "unreadable audit notice"),
                    }
                }
            }
            _ = ticks.tick() => {
                let quiet = last_beat.elapsed();
                if quiet >= RECONNECT_AFTER {
                    bail!("no LISTEN heartbeat for {quiet:?}");
                }
                if quiet >= STALE_AFTER && keys.is_live() {
                    tracing::warn!(?quiet, "LISTEN heartbeat missed: checking every key in the database");
                    distrust(sender, trusted);
                }
                notify(&mut notifier, heartbeat, "beat").await?;
            }
        }
    }
}

/// Checks at start-up that LISTEN/NOTIFY works on `url`: a NOTIFY sent on one
/// connection must reach a LISTEN on another within `deadline`, and a
/// connection must keep its server process between statements. Both fail
/// behind a pooler in transaction mode (e.g. PgBouncer `pool_mode =
/// transaction`), which would silently break revocations and the audit feed.
pub async fn check_listen_notify(url: &str, deadline: Duration) -> anyhow::Result<()> {
    const ADVICE: &str = "LISTEN/NOTIFY does not work on DATABASE_URL: is it a pooler in \
        transaction mode (e.g. PgBouncer pool_mode = transaction)? Point DATABASE_URL at \
        PostgreSQL itself or at a session-mode pool; key revocations and the audit feed need it";
    let check = async {
        let mut listener = connect(url, "tenantgate_probe").await?;
        let first = backend_pid(&mut listener).await?;
        let channel = format!("tenantgate_probe_{}", Uuid::new_v4().simple());
        listen_on(&mut listener, &channel).await?;
        let second = backend_pid(&mut listener).await?;
        if first != second {
            bail!("{ADVICE} (the server process changed between two statements)");
        }
        let mut sender = connect(url, "tenantgate_probe").await?;
        notify(&mut sender, &channel, "probe").await?;
        let mut stream = std::pin::pin!(listener.notifications_stream());
        while let Some(item) = stream.next().await {
            if item?.channel == channel {
                return Ok(());
            }
        }
        bail!("{ADVICE} (the LISTEN connection closed)")
    };
    match tokio::time::timeout(deadline, check).await {
        Ok(result) => result,
        Err(_) => bail!("{ADVICE} (a NOTIFY did not arrive within {deadline:?})"),
    }
}
