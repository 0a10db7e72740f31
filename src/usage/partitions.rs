//! Upkeep of the monthly partitions of raw usage events: at start and once
//! a day the server creates the months ahead, drops those past the
//! retention, and forgets idempotency keys that no retry can need any more.

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};
use scoped_futures::ScopedFutureExt;

use crate::db::Db;
use crate::db::usage::{self as rows, PartitionChanges};
use crate::error::AppResult;
use crate::tenancy::Scope;

/// How old an event may be when it is recorded.
pub const MAX_AGE: TimeDelta = TimeDelta::days(35);
/// How long an idempotency key is kept after its event's time: past
/// [`MAX_AGE`] a retry is refused as too old, so a day more is enough.
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

/// Runs the upkeep as of `now` (a clock passed in, so tests can move it).
pub async fn maintain(db: &Db, now: DateTime<Utc>) -> AppResult<PartitionChanges> {
    let from = now - DEDUP_KEPT;
    let to = now + TimeDelta::days(31 * i64::from(MONTHS_AHEAD));
    let drop_before = month_start(now, RAW_RETENTION_MONTHS);
    let dedup_before = now - DEDUP_KEPT;
    let changes = db
        .scoped(Scope::anonymous(), |conn| {
            async move {
                Ok(rows::maintain_partitions(conn, from, to, drop_before, dedup_before).await?)
            }
            .scope_boxed()
        })
        .await?;
    let (created, dropped) = (
        changes.created.clone().unwrap_or_default(),
        changes.dropped.clone().unwrap_or_default(),
    );
    if !created.is_empty() || !dropped.is_empty() {
        tracing::info!(?created, ?dropped, "usage partitions maintained");
    }
    Ok(changes)
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
