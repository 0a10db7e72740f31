//! Upkeep of the monthly partitions of raw usage events: at start and once
//! a day the server creates the months ahead, drops those past the
//! retention, and forgets idempotency keys that no retry can need any more.

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};
use scoped_futures::ScopedFutureExt;

use crate::db::Db;
use crate::db::usage as rows;
use crate::error::AppResult;
use crate::tenancy::Scope;

/// How old an event may be when it is recorded.
pub const MAX_AGE: TimeDelta = TimeDelta::days(35);
/// How long an idempotency key is kept after it was recorded: a retry
/// within [`MAX_AGE`] of recording it is always answered DUPLICATE (even
/// when its event has since become too old to record), with a day to spare.
pub const DEDUP_KEPT: TimeDelta = TimeDelta::days(36);
/// Months of raw events kept (whole months, counted before the current one).
pub const RAW_RETENTION_MONTHS: u32 = 13;
/// Months created ahead of the current one.
pub const MONTHS_AHEAD: u32 = 2;

/// The first instant of the month `months` before `at`'s (UTC).
fn month_start(at: DateTime<Utc>, months_back: u32) -> DateTime<Utc> {
    let index = at.year() * 12 + at.month0() as i32 - months_back as i32;
    Utc.with_ymd_and_hms(
        index.div_euclid(12),
        index.rem_euclid(12) as u32 + 1,
        1,
        0,
        0,
        0,
    )
    .single()
    .unwrap_or(at)
}

/// What one upkeep run did.
#[derive(Debug, Clone, Default)]
pub struct Upkeep {
    /// Months made ahead.
    pub created: Vec<String>,
    /// Months past the retention, detached and dropped.
    pub dropped: Vec<String>,
    /// Idempotency keys and distinct values forgotten.
    pub pruned: i64,
    /// Steps given up on (a lock not had within its timeout, another
    /// instance running the upkeep): the next run retries them.
    pub deferred: Vec<String>,
}

/// Most rows one prune statement (and transaction) deletes.
pub const PRUNE_BATCH: i32 = 10_000;

/// Runs the upkeep as of `now` (a clock passed in, so tests can move it),
/// in short steps of their own transactions so that ingest never waits on
/// it for long: each month ahead made standalone then attached (SHARE
/// UPDATE EXCLUSIVE: inserts go on); old months detached (ACCESS EXCLUSIVE
/// for an instant, waited for at most 300 ms, else retried next run) and
/// then dropped; keys recorded more than [`DEDUP_KEPT`] ago and distinct
/// values of buckets older than that and a day forgotten [`PRUNE_BATCH`]
/// rows a transaction. Every step takes the upkeep's advisory lock, so two
/// instances never run it at once (the second skips what is busy).
pub async fn maintain(db: &Db, now: DateTime<Utc>) -> AppResult<Upkeep> {
    let mut upkeep = Upkeep::default();
    let first = month_start(now - DEDUP_KEPT, 0);
    let last = now + TimeDelta::days(31 * i64::from(MONTHS_AHEAD));
    let mut month = first;
    while month <= last {
        let made = db
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(rows::add_partition(conn, month).await?) }.scope_boxed()
            })
            .await;
        match made? {
            Some(name) if name == "busy" => upkeep.deferred.push(format!("add {month}")),
            Some(name) => upkeep.created.push(name),
            None => {}
        }
        month = month_start(month + TimeDelta::days(32), 0);
    }
    let drop_before = month_start(now, RAW_RETENTION_MONTHS);
    for drop in [false, true] {
        let gone = db
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(rows::retire_partitions(conn, drop_before, drop).await?) }
                    .scope_boxed()
            })
            .await;
        match gone? {
            Some(names) if drop => upkeep.dropped.extend(names),
            Some(_) => {}
            None => upkeep
                .deferred
                .push(if drop { "drop" } else { "detach" }.into()),
        }
    }
    let dedup_before = now - DEDUP_KEPT;
    let distinct_before = dedup_before - TimeDelta::days(1);
    for (what, before) in [
        (rows::Prune::Keys, dedup_before),
        (rows::Prune::Distinct, distinct_before),
    ] {
        loop {
            let pruned = db
                .scoped(Scope::anonymous(), |conn| {
                    async move { Ok(rows::prune(conn, what, before, PRUNE_BATCH).await?) }
                        .scope_boxed()
                })
                .await;
            match pruned? {
                -1 => {
                    upkeep.deferred.push(
                        match what {
                            rows::Prune::Keys => "prune keys",
                            rows::Prune::Distinct => "prune distinct values",
                        }
                        .into(),
                    );
                    break;
                }
                n => {
                    upkeep.pruned += n;
                    if n < i64::from(PRUNE_BATCH) {
                        break;
                    }
                }
            }
        }
    }
    if !upkeep.created.is_empty() || !upkeep.dropped.is_empty() || !upkeep.deferred.is_empty() {
        tracing::info!(created = ?upkeep.created, dropped = ?upkeep.dropped, pruned = upkeep.pruned, deferred = ?upkeep.deferred, "usage partitions maintained");
    }
    Ok(upkeep)
}

/// The partitions of raw usage events, oldest first.
pub async fn list(db: &Db) -> AppResult<Vec<String>> {
    db.scoped(Scope::anonymous(), |conn| {
        async move { Ok(rows::partitions(conn).await?) }.scope_boxed()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_start_counts_back_across_years() {
        let at = Utc.with_ymd_and_hms(2026, 2, 17, 5, 0, 0).unwrap();
        assert_eq!(
            month_start(at, 0),
            Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            month_start(at, 13),
            Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            month_start(at, 2),
            Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap()
        );
    }
}
