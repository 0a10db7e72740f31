//! The webhooks' upkeep, on every instance every [`EVERY`] (and once at
//! start): retention and the report of dropped events.
//!
//! Retention: `tg_webhook_prune` (SECURITY DEFINER) deletes deliveries that
//! ended (succeeded, failed, canceled) more than 30 days ago by the
//! database's clock, with their attempts, and events older than 30 days
//! that no delivery still needs; [`BATCH`] of each per transaction, at most
//! [`BATCHES`] transactions a run (the next run goes on). The runtime role
//! deletes nothing itself and chooses no date. Two instances never prune at
//! once (the second gets -1 and waits for its next run).
//!
//! Drops: an endpoint with [`PENDING_CAP`] pending deliveries gets no new
//! one (the fan-out's mark, recounted at most once a minute; the drop is
//! appended to `webhook_endpoint_drops`, which `tg_webhook_drops_to_report`
//! folds into the endpoint's count first); once a day at most per endpoint,
//! the upkeep writes a `webhook_endpoint.events_dropped` audit entry (by the
//! system) in the endpoint's tenant, saying how many were dropped since the
//! last report. The endpoint's `droppedEvents` and `lastDroppedAt` show it.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::service::Webhooks;
use crate::audit::{self, Actor, Entry};
use crate::db::webhook_deliveries as deliveries;
use crate::db::webhook_endpoints as rows;
use crate::error::AppResult;
use crate::tenancy::Scope;
use crate::usage::Stop;

/// Pending deliveries an endpoint may have; events past it are dropped for
/// that endpoint (the figure is the fan-out's, in migration
/// 2026-12-10-200001).
pub const PENDING_CAP: i64 = 10_000;
/// Rows of each kind (deliveries, events) one retention transaction deletes
/// at most.
pub const BATCH: i32 = 5_000;
/// Retention transactions per run at most.
pub const BATCHES: usize = 20;
/// How long ended deliveries and unneeded events are kept (the database's
/// figure, in `tg_webhook_prune`).
pub const RETENTION_DAYS: i64 = 30;
/// How often the upkeep runs.
const EVERY: Duration = Duration::from_secs(10 * 60);
/// Endpoints with drops reported per run at most.
const REPORTS: i32 = 100;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Upkept {
    /// Deliveries and events deleted.
    pub pruned: i64,
    /// Whether retention gave way (another instance, a lock) or stopped at
    /// [`BATCHES`]: the next run goes on.
    pub deferred: bool,
    /// Endpoints whose drops were reported.
    pub reported: usize,
}

impl Webhooks {
    /// One upkeep run: retention, then the drops' reports.
    pub async fn upkeep(&self) -> AppResult<Upkept> {
        let mut done = Upkept::default();
        for i in 0.. {
            if i == BATCHES {
                done.deferred = true;
                break;
            }
            let n = self
                .0
                .db
                .scoped(Scope::anonymous(), |conn| {
                    async move { Ok(deliveries::prune(conn, BATCH).await?) }.scope_boxed()
                })
                .await?;
            if n < 0 {
                done.deferred = true;
                break;
            }
            done.pruned += n;
            if n < i64::from(BATCH) {
                break;
            }
        }
        let due = self
            .0
            .db
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(rows::drops_to_report(conn, REPORTS).await?) }.scope_boxed()
            })
            .await?;
        for d in due {
            if self.report_drops(d.tenant_id, d.endpoint_id).await? {
                done.reported += 1;
            }
        }
        if done.pruned > 0 || done.reported > 0 {
            tracing::info!(
                pruned = done.pruned,
                deferred = done.deferred,
                reported = done.reported,
                "webhook upkeep"
            );
        }
        Ok(done)
    }

    /// Audits an endpoint's drops since its last report, if it has some and
    /// was not reported in the last day (re-checked on the locked row).
    async fn report_drops(&self, tenant: Uuid, endpoint: Uuid) -> AppResult<bool> {
        self.0
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move {
                    let Some(e) = rows::find_for_update(conn, tenant, endpoint).await? else {
                        return Ok(false);
                    };
                    // Reported within the last day by the database's clock:
                    // nothing marked, nothing audited.
                    if e.dropped_count <= e.drop_reported_count
                        || !rows::mark_drops_reported(conn, endpoint, e.dropped_count).await?
                    {
                        return Ok(false);
                    }
                    audit::record(
                        conn,
                        &super::worker::system_meta(),
                        Entry::new(
                            Some(tenant),
                            Actor::System,
                            "webhook_endpoint.events_dropped",
                        )
                        .target("webhook_endpoint", endpoint)
                        .change(
                            None,
                            Some(json!({
                                "url": e.url,
                                "dropped": e.dropped_count - e.drop_reported_count,
                                "droppedTotal": e.dropped_count,
                                "lastDroppedAt": e.last_dropped_at,
                                "pendingCap": PENDING_CAP,
                            })),
                        ),
                    )
                    .await?;
                    Ok(true)
                }
                .scope_boxed()
            })
            .await
    }

    /// Runs the upkeep now and every [`EVERY`] until `stop`.
    pub(super) async fn keep_up(self, stop: Stop) {
        loop {
            if let Err(e) = self.upkeep().await {
                tracing::warn!(error = %e, "webhook upkeep failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {},
                _ = stop.stopped() => break,
            }
        }
    }
}
