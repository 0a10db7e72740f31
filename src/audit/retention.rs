//! Audit retention: entries older than their tenant's plan keeps them
//! (`audit_retention_days`), and the platform trail's after
//! `--platform-audit-retention-days` (written to `audit_settings` by the
//! owner at start-up: [`set_platform_days`]), are deleted at start and daily,
//! 10,000 a transaction.
//!
//! The runtime role never deletes from the trail itself: `tg_audit_retention`
//! (SECURITY DEFINER) decides what is old from the database's clock, the plan
//! and `audit_settings`, so no caller can choose what goes. Two instances
//! never run it at once (an advisory lock; the second gets -1 and tries again
//! later).

use std::time::Duration;

use scoped_futures::ScopedFutureExt;

use crate::db::Db;
use crate::error::AppResult;
use crate::tenancy::Scope;
use crate::usage::Stop;

/// Entries one transaction deletes at most.
pub const BATCH: i32 = 10_000;
/// How often the job runs.
const EVERY: Duration = Duration::from_secs(24 * 3600);
/// When a run gave way (another instance, a lock, an error), the next try.
const RETRY: Duration = Duration::from_secs(60);

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    /// Entries deleted.
    pub deleted: i64,
    /// Whether it gave way before the end (another instance ran the job, a
    /// lock did not come in time, or the server is stopping): the next run
    /// finishes.
    pub deferred: bool,
}

/// Keeps the platform's own trail `days` (30 to 3,650), on the owner's
/// connection `owner_url` (the runtime roles cannot change it). Instances
/// started with different values: the last one started wins.
pub async fn set_platform_days(owner_url: &str, days: u32) -> anyhow::Result<()> {
    anyhow::ensure!(
        (30..=3650).contains(&days),
        "the platform audit retention is 30 to 3,650 days"
    );
    let mut conn = crate::db::owner_connection(owner_url).await?;
    crate::db::audit_log::set_platform_retention(&mut conn, days as i32).await?;
    Ok(())
}

/// Deletes every entry past its retention, [`BATCH`] a transaction, until
/// none is left or `stop` (the next run finishes).
pub async fn expire(db: &Db, stop: &Stop) -> AppResult<Expired> {
    let mut done = Expired::default();
    loop {
        if stop.is_stopped() {
            done.deferred = true;
            break;
        }
        let n = db
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(crate::db::audit_log::expire(conn, BATCH).await?) }.scope_boxed()
            })
            .await?;
        if n < 0 {
            done.deferred = true;
            break;
        }
        done.deleted += n;
        if n < i64::from(BATCH) {
            break;
        }
    }
    if done.deleted > 0 || done.deferred {
        tracing::info!(
            deleted = done.deleted,
            deferred = done.deferred,
            "audit retention applied"
        );
    }
    Ok(done)
}

/// Runs [`expire`] at start and daily until `stop` (a minute later when a run
/// gave way or failed).
pub fn start(db: Db, stop: Stop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = Duration::ZERO;
        loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.stopped() => break,
            }
            wait = match expire(&db, &stop).await {
                Ok(done) if !done.deferred => EVERY,
                Ok(_) => RETRY,
                Err(err) => {
                    tracing::warn!(error = %err, "audit retention not applied; retrying in a minute");
                    RETRY
                }
            };
        }
    })
}
