//! Reading usage: a request's range checked and aligned to buckets, and the
//! rollup rows of [`crate::db::usage_reads`] turned into a series a chart can
//! draw (zero-filled, with a total that follows the metric's aggregation).

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, TimeZone, Utc};

use crate::db::Db;
use crate::db::usage_reads::Range;
use crate::error::{AppError, AppResult};

/// Hourly or daily buckets (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    pub fn width(self) -> TimeDelta {
        match self {
            Self::Hour => TimeDelta::hours(1),
            Self::Day => TimeDelta::days(1),
        }
    }

    /// The most buckets one series may span: 35 days of hours, 400 days.
    pub fn max_buckets(self) -> i64 {
        match self {
            Self::Hour => 35 * 24,
            Self::Day => 400,
        }
    }
}

/// How far ahead of now `to` may reach (a chart of the current month ends
/// at the next month's start).
pub const MAX_AHEAD_DAYS: i64 = 31;

/// Distinct values of `unique_count` metrics are kept for buckets at most
/// this old (the partition upkeep forgets older ones with the idempotency
/// keys, 36 days plus a day); older buckets keep only their own count.
pub const DISTINCT_KEPT_DAYS: i64 = 37;

/// The earliest time a range may start.
fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn floor(at: DateTime<Utc>, width: TimeDelta) -> DateTime<Utc> {
    at.duration_trunc(width).unwrap_or(at)
}

fn ceil(at: DateTime<Utc>, width: TimeDelta) -> DateTime<Utc> {
    let down = floor(at, width);
    if down == at { at } else { down + width }
}

/// How many points a series over `[from, to)` may have: the buckets the
/// range touches, at least one and at most the granularity's bound (a range
/// past it is refused when the field runs).
pub fn buckets(from: DateTime<Utc>, to: DateTime<Utc>, granularity: Granularity) -> i64 {
    let width = granularity.width();
    let span = ceil(to, width) - floor(from, width);
    (span.num_seconds() / width.num_seconds()).clamp(1, granularity.max_buckets())
}

/// Checks a requested range of `metric` (BAD_USER_INPUT with the field at
/// fault: an unknown metric, `from` not before `to`, a range over the
/// granularity's bound, `to` more than [`MAX_AHEAD_DAYS`] ahead) and aligns
/// it to buckets: `from` down to the start of its bucket, `to` up to the end
/// of its own, so every bucket the range touches is in.
pub async fn range(
    db: &Db,
    metrics: &super::catalogue::MetricCatalogue,
    metric: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: Granularity,
    now: DateTime<Utc>,
) -> AppResult<Range> {
    let key = crate::admin::metric_key("metric", metric)?;
    let catalogue = metrics.get(db).await?;
    let Some(row) = catalogue.iter().find(|m| m.key == key) else {
        return Err(AppError::bad_field(
            "metric",
            format!("no metric {key:?} (see `metrics`)"),
        ));
    };
    let aggregation = match row.aggregation.as_str() {
        "count" => "count",
        "max" => "max",
        "unique_count" => "unique_count",
        _ => "sum",
    };
    align(key, aggregation, from, to, granularity, now)
}

/// The checks and alignment of [`range`] once the metric is known.
pub fn align(
    metric: String,
    aggregation: &'static str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: Granularity,
    now: DateTime<Utc>,
) -> AppResult<Range> {
    if from >= to {
        return Err(AppError::bad_field("to", "must be after `from`"));
    }
    if from < earliest() {
        return Err(AppError::bad_field("from", "must be in 2000 or later"));
    }
    if to > now + TimeDelta::days(MAX_AHEAD_DAYS) {
        return Err(AppError::bad_field(
            "to",
            format!("must be at most {MAX_AHEAD_DAYS} days from now"),
        ));
    }
    let width = granularity.width();
    let (from, to) = (floor(from, width), ceil(to, width));
    let buckets = (to - from).num_seconds() / width.num_seconds();
    if buckets > granularity.max_buckets() {
        let bound = match granularity {
            Granularity::Hour => "35 days with HOUR",
            Granularity::Day => "400 days with DAY",
        };
        return Err(AppError::bad_field(
            "from",
            format!("the range may span at most {bound}"),
        ));
    }
    Ok(Range {
        metric,
        granularity: granularity.as_db(),
        from,
        to,
        aggregation,
    })
}

/// A series ready for a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// One point per bucket of the range up to the current one (zero where
    /// nothing was recorded), plus any later bucket that has data.
    pub points: Vec<(DateTime<Utc>, i64)>,
    pub total: i64,
    /// Whether `total` is exact (see [`Series::build`]).
    pub exact: bool,
}

impl Series {
    /// The series of `range` from its buckets' values and, for
    /// `unique_count`, the distinct count of the values kept for the range.
    /// The total sums the buckets (sum, count), takes the largest (max), or
    /// for `unique_count` counts distinct values over the range; when the
    /// range starts before [`DISTINCT_KEPT_DAYS`] some values may have been
    /// forgotten, so the total is then the larger of that count and the
    /// largest bucket's (a lower bound) and `exact` is false.
    pub fn build(
        range: &Range,
        values: impl IntoIterator<Item = (DateTime<Utc>, i64)>,
        distinct: Option<i64>,
        now: DateTime<Utc>,
    ) -> Self {
        let width = if range.granularity == "hour" {
            TimeDelta::hours(1)
        } else {
            TimeDelta::days(1)
        };
        let mut data: BTreeMap<DateTime<Utc>, i64> = BTreeMap::new();
        for (at, value) in values {
            *data.entry(at).or_default() += value;
        }
        let fill_end = range.to.min(floor(now, width) + width);
        let mut points = Vec::new();
        let mut at = range.from;
        while at < fill_end {
            points.push((at, data.get(&at).copied().unwrap_or(0)));
            at += width;
        }
        points.extend(data.range(fill_end..range.to).map(|(at, v)| (*at, *v)));
        let largest = data.values().copied().max().unwrap_or(0);
        let (total, exact) = match range.aggregation {
            "max" => (largest, true),
            "unique_count" => (
                distinct.unwrap_or(0).max(largest),
                range.from >= now - TimeDelta::days(DISTINCT_KEPT_DAYS),
            ),
            _ => (data.values().fold(0i64, |a, v| a.saturating_add(*v)), true),
        };
        Self {
            points,
            total,
            exact,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_are_aligned_and_bounded() {
        let now = at("2026-12-06T10:30:00Z");
        let r = align(
            "m".into(),
            "sum",
            at("2026-12-01T10:15:00Z"),
            at("2026-12-02T10:15:00Z"),
            Granularity::Day,
            now,
        )
        .unwrap();
        assert_eq!(
            (r.from, r.to),
            (at("2026-12-01T00:00:00Z"), at("2026-12-03T00:00:00Z"))
        );
        let bad = |from: &str, to: &str, g| match align("m".into(), "sum", at(from), at(to), g, now)
            .unwrap_err()
        {
            AppError::BadUserInput { field, .. } => field.unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            bad(
                "2026-12-02T00:00:00Z",
                "2026-12-01T00:00:00Z",
                Granularity::Day
            ),
            "to"
        );
        assert_eq!(
            bad(
                "2026-10-01T00:00:00Z",
                "2026-11-05T00:00:01Z",
                Granularity::Hour
            ),
            "from"
        );
        assert_eq!(
            bad(
                "2025-01-01T00:00:00Z",
                "2026-02-06T00:00:00Z",
                Granularity::Day
            ),
            "from"
        );
        assert_eq!(
            bad(
                "2026-12-01T00:00:00Z",
                "2027-01-07T11:00:00Z",
                Granularity::Day
            ),
            "to"
        );
        assert_eq!(
            bad(
                "1999-12-01T00:00:00Z",
                "1999-12-02T00:00:00Z",
                Granularity::Day
            ),
            "from"
        );
        // Exactly the bound is allowed.
        align(
            "m".into(),
            "sum",
            at("2026-10-01T00:00:00Z"),
            at("2026-11-05T00:00:00Z"),
            Granularity::Hour,
            now,
        )
        .unwrap();
    }

    #[test]
    fn series_fill_zeros_up_to_now_and_total_by_aggregation() {
        let now = at("2026-12-06T10:30:00Z");
        let mut range = align(
            "m".into(),
            "sum",
            at("2026-12-06T07:00:00Z"),
            at("2026-12-06T14:00:00Z"),
            Granularity::Hour,
            now,
        )
        .unwrap();
        let values = vec![
            (at("2026-12-06T08:00:00Z"), 5),
            (at("2026-12-06T10:00:00Z"), 2),
        ];
        let s = Series::build(&range, values.clone(), None, now);
        let shown: Vec<i64> = s.points.iter().map(|p| p.1).collect();
        assert_eq!(shown, [0, 5, 0, 2], "07..10 filled, nothing after now");
        assert_eq!((s.total, s.exact), (7, true));
        range.aggregation = "max";
        assert_eq!(Series::build(&range, values.clone(), None, now).total, 5);
        range.aggregation = "unique_count";
        let s = Series::build(&range, values.clone(), Some(6), now);
        assert_eq!((s.total, s.exact), (6, true));
        range.from = now - TimeDelta::days(40);
        let s = Series::build(&range, values, Some(1), now);
        assert_eq!((s.total, s.exact), (5, false));
    }
}
