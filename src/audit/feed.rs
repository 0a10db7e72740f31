//! The live audit feed: one LISTEN connection per instance, fanned out in process
//! (the same connection also receives API-key changes for the key cache).
//!
//! Entries are announced by a trigger (`pg_notify('tenantgate_audit', …)`) when
//! their transaction commits, so every instance sees every entry, whichever
//! instance wrote it. Subscribers get only ids and tenant ids from here and read
//! the entry itself through their own tenant-scoped transaction.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::auth::key_cache::{self, KeyCache};

/// The NOTIFY channel of new audit entries.
pub const CHANNEL: &str = "tenantgate_audit";

/// A new entry was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Notice {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
}

/// The feed every subscription of this instance reads from.
#[derive(Debug, Clone)]
pub struct Feed {
    tx: broadcast::Sender<Notice>,
    task: Option<std::sync::Arc<tokio::task::AbortHandle>>,
}

impl Feed {
    /// Starts listening on `url` in the background; reconnects on failure.
    /// Key changes (`tenantgate_keys`) go to `keys`, which is told whether the
    /// connection is up.
    pub fn start(url: String, keys: KeyCache) -> Self {
        let (tx, _) = broadcast::channel(1024);
        let sender = tx.clone();
        let task = tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                let result = listen(&url, &sender, &keys).await;
                keys.set_live(false);
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
            task: Some(std::sync::Arc::new(task.abort_handle())),
        }
    }

    /// Stops listening (on shutdown, before the database goes away).
    pub fn stop(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }

    /// A receiver of notices from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }
}

async fn listen(
    url: &str,
    sender: &broadcast::Sender<Notice>,
    keys: &KeyCache,
) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    diesel::sql_query(format!("LISTEN {}", key_cache::CHANNEL))
        .execute(&mut conn)
        .await?;
    // Announcements may have been missed while disconnected: start afresh.
    keys.set_live(true);
    let mut stream = std::pin::pin!(conn.notifications_stream());
    while let Some(item) = stream.next().await {
        let notification = item?;
        if notification.channel == key_cache::CHANNEL {
            keys.invalidate(&notification.payload);
            continue;
        }
        match serde_json::from_str::<Notice>(&notification.payload) {
            Ok(notice) => {
                // No receivers is fine: nobody is subscribed right now.
                let _ = sender.send(notice);
            }
            Err(err) => tracing::warn!(error = %err, "unreadable audit notice"),
        }
    }
    anyhow::bail!("the LISTEN connection closed")
}
