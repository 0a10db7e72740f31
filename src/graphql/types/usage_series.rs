//! Usage as charts read it: `Tenant.usage`, `ApiKey.usage` and the platform
//! admins' `admin { usage topConsumers }` answer with these types.

use async_graphql::{Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::api_key::KeyEnvironment;
use crate::db::usage_reads::Range;
use crate::usage::reads::{Granularity, Series};

/// The width of a series' buckets (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum UsageGranularity {
    /// Hourly buckets; a range spans at most 35 days (840 points).
    Hour,
    /// Daily buckets (UTC midnight to midnight); a range spans at most 400 days.
    Day,
}

impl From<UsageGranularity> for Granularity {
    fn from(g: UsageGranularity) -> Self {
        match g {
            UsageGranularity::Hour => Self::Hour,
            UsageGranularity::Day => Self::Day,
        }
    }
}

/// How to split a tenant's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum UsageGroupBy {
    /// One series for the whole tenant (`groups` is empty).
    #[default]
    None,
    /// The whole tenant's series, and in `groups` one series per API key
    /// (the keys with the most usage first) plus one for what signed-in
    /// members recorded themselves.
    Key,
}

/// One bucket of a series.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsagePoint {
    /// The start of the bucket (UTC, on the hour or at midnight).
    pub at: DateTime<Utc>,
    /// The bucket's value by the metric's aggregation: the sum of the
    /// quantities (sum), the number of events (count), the largest quantity
    /// (max), or the number of distinct values of the property (unique count).
    pub value: i64,
}

/// The key a group of usage came from.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageKey {
    /// The key's id.
    pub id: ID,
    /// Its name.
    pub name: String,
    /// Its display prefix (`tg_live_AbC123`).
    pub prefix: String,
}

/// One series: points and their total.
#[derive(Debug, Clone)]
pub struct SeriesData {
    pub points: Vec<UsagePoint>,
    pub total: i64,
    pub exact: bool,
}

impl From<Series> for SeriesData {
    fn from(s: Series) -> Self {
        Self {
            points: s
                .points
                .into_iter()
                .map(|(at, value)| UsagePoint { at, value })
                .collect(),
            total: s.total,
            exact: s.exact,
        }
    }
}

/// The usage of one API key, or of signed-in members (no key).
pub struct UsageGroup {
    pub api_key: Option<UsageKey>,
    pub data: SeriesData,
}

/// One group of a series split by key.
#[Object]
impl UsageGroup {
    /// The key; `null` for what signed-in members recorded themselves (only
    /// for sum and count metrics, where it is the tenant's usage minus every
    /// key's; absent when nothing was recorded that way).
    async fn api_key(&self) -> Option<&UsageKey> {
        self.api_key.as_ref()
    }

    /// The group's points, as in `UsageSeries.points`.
    #[graphql(complexity = "points_cost(child_complexity)")]
    async fn points(&self) -> &[UsagePoint] {
        &self.data.points
    }

    /// The group's total, as in `UsageSeries.total`.
    async fn total(&self) -> i64 {
        self.data.total
    }

    /// Whether `total` is exact (see `UsageSeries.totalExact`).
    async fn total_exact(&self) -> bool {
        self.data.exact
    }
}

/// A metric's usage over a range, bucket by bucket, ready for a chart.
pub struct UsageSeries {
    pub range: Range,
    pub environment: KeyEnvironment,
    pub data: SeriesData,
    pub groups: Vec<UsageGroup>,
}

impl UsageSeries {
    pub fn new(range: Range, environment: KeyEnvironment, series: Series) -> Self {
        Self {
            range,
            environment,
            data: series.into(),
            groups: Vec::new(),
        }
    }
}

/// A metric's usage over a range, bucket by bucket, ready for a chart.
#[Object]
impl UsageSeries {
    /// The metric's key.
    async fn metric(&self) -> &str {
        &self.range.metric
    }

    /// The buckets' width.
    async fn granularity(&self) -> UsageGranularity {
        if self.range.granularity == "hour" {
            UsageGranularity::Hour
        } else {
            UsageGranularity::Day
        }
    }

    /// Live or test usage.
    async fn environment(&self) -> KeyEnvironment {
        self.environment
    }

    /// The start of the first bucket: the requested `from` rounded down to
    /// its bucket (UTC).
    async fn from(&self) -> DateTime<Utc> {
        self.range.from
    }

    /// The end of the last bucket: the requested `to` rounded up to the end
    /// of its bucket (UTC), so every bucket the range touches is in.
    async fn to(&self) -> DateTime<Utc> {
        self.range.to
    }

    /// One point per bucket, oldest first, from `from` up to the current
    /// bucket (or `to`, when earlier): buckets where nothing was recorded
    /// are filled with zero; buckets after the current one are left out (no
    /// usage can be there yet).
    #[graphql(complexity = "points_cost(child_complexity)")]
    async fn points(&self) -> &[UsagePoint] {
        &self.data.points
    }

    /// The total over the range by the metric's aggregation: the sum of the
    /// points (sum, count), the largest point (max), or (unique count) the
    /// number of distinct values over the whole range, which is not the sum
    /// of the points (a value seen in two buckets counts once). Distinct
    /// values are kept for 37 days; for a range starting earlier the total
    /// counts the values still kept, and at least the largest point
    /// (`totalExact` is then false).
    async fn total(&self) -> i64 {
        self.data.total
    }

    /// Whether `total` is exact: always for sum, count and max; for unique
    /// count, when the range starts within the last 37 days.
    async fn total_exact(&self) -> bool {
        self.data.exact
    }

    /// With `groupBy: KEY`: the keys with the most usage in the range (at
    /// most `first`, most first, ties by id), then what signed-in members
    /// recorded themselves; empty otherwise.
    async fn groups(&self) -> &[UsageGroup] {
        &self.groups
    }
}

/// A tenant as `topConsumers` lists it.
#[derive(SimpleObject, Debug, Clone)]
pub struct ConsumerTenant {
    /// The tenant's id (for `admin { tenant(id) }`).
    pub id: ID,
    /// Its name.
    pub name: String,
    /// Its slug.
    pub slug: String,
}

/// One tenant's live usage of a metric over a range.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageConsumer {
    /// The tenant.
    pub tenant: ConsumerTenant,
    /// Its total by the metric's aggregation (for unique count, as in
    /// `UsageSeries.total`).
    pub total: i64,
}

/// The unit in which `points` reports its per-point cost to the `usage`
/// field above it (see [`points_cost`]).
const POINT_UNIT: usize = 1 << 20;

/// What a complexity budget charges for `points`, in two parts: one for the
/// field, and its selection once per point, counted in units of
/// [`POINT_UNIT`]. Only the `usage` field above knows how many points its
/// range has (`points` has no arguments, and a complexity function sees its
/// own field's only), so [`series_cost`] there charges each unit once per
/// bucket. Sums and products by list sizes in between keep the two parts
/// apart; a selection costing 2^20 or more besides the points would be
/// charged as points, which is more, and refused all the same.
pub fn points_cost(child_complexity: usize) -> usize {
    child_complexity
        .saturating_mul(POINT_UNIT)
        .saturating_add(1)
}

/// What a complexity budget charges for a `usage` field's selection
/// (`child_complexity`) over `[from, to)`: every `points` selection once per
/// bucket the range spans (at most 840 hours or 400 days), plus one for the
/// field.
pub fn series_cost(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: UsageGranularity,
    child_complexity: usize,
) -> usize {
    selection_cost(from, to, granularity, child_complexity).saturating_add(1)
}

/// The selection of a series with its points charged per bucket.
fn selection_cost(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: UsageGranularity,
    child_complexity: usize,
) -> usize {
    let buckets = crate::usage::reads::buckets(from, to, granularity.into());
    let buckets = usize::try_from(buckets).unwrap_or(usize::MAX);
    (child_complexity / POINT_UNIT)
        .saturating_mul(buckets)
        .saturating_add(child_complexity % POINT_UNIT)
}

/// What a complexity budget charges for `Tenant.usage`: as [`series_cost`],
/// and with groups its selection once per group it may return (`first`),
/// as lists are charged.
pub fn usage_cost(
    group_by: UsageGroupBy,
    first: i32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: UsageGranularity,
    child_complexity: usize,
) -> usize {
    let selection = selection_cost(from, to, granularity, child_complexity);
    match group_by {
        UsageGroupBy::None => selection.saturating_add(1),
        UsageGroupBy::Key => crate::graphql::cursor::list_cost(Some(first), selection),
    }
}

/// The whole tenant's series from [`crate::db::usage_reads::series`] rows.
pub fn tenant_series(
    range: Range,
    environment: KeyEnvironment,
    rows: Vec<crate::db::usage_reads::SeriesRow>,
    now: DateTime<Utc>,
) -> UsageSeries {
    let distinct = rows.iter().find(|r| r.bucket.is_none()).map(|r| r.value);
    let values = rows.iter().filter_map(|r| Some((r.bucket?, r.value)));
    let series = Series::build(&range, values, distinct, now);
    UsageSeries::new(range, environment, series)
}

/// The whole tenant's series and its groups from
/// [`crate::db::usage_reads::grouped`] rows: the top keys in their order,
/// then (sum and count metrics) what no key sent, when anything.
pub fn grouped_series(
    range: Range,
    environment: KeyEnvironment,
    rows: Vec<crate::db::usage_reads::GroupedRow>,
    now: DateTime<Utc>,
) -> UsageSeries {
    use std::collections::BTreeMap;
    let mut whole = Vec::new();
    let mut distinct = None;
    let mut keys_sum: BTreeMap<DateTime<Utc>, i64> = BTreeMap::new();
    let mut per_key: std::collections::HashMap<uuid::Uuid, Vec<(DateTime<Utc>, i64)>> =
        Default::default();
    let mut top = Vec::new();
    for row in rows {
        match (row.kind, row.api_key_id, row.bucket) {
            (0, _, Some(at)) => whole.push((at, row.value)),
            (1, Some(key), Some(at)) => per_key.entry(key).or_default().push((at, row.value)),
            (2, Some(key), _) => top.push((key, row.value, row.name, row.prefix)),
            (3, _, Some(at)) => {
                keys_sum.insert(at, row.value);
            }
            (4, _, _) => distinct = Some(row.value),
            _ => {}
        }
    }
    // The statement's top keys come unordered from the UNION: by total, then id.
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut groups: Vec<UsageGroup> = top
        .into_iter()
        .map(|(key, total, name, prefix)| {
            let values = per_key.remove(&key).unwrap_or_default();
            let mut series = Series::build(&range, values, None, now);
            // The key's total as the statement computed it (for unique
            // count, from the distinct values of the whole range).
            if range.aggregation == "unique_count" {
                series.total = total;
            }
            UsageGroup {
                api_key: Some(UsageKey {
                    id: ID(key.to_string()),
                    name: name.unwrap_or_default(),
                    prefix: prefix.unwrap_or_default(),
                }),
                data: series.into(),
            }
        })
        .collect();
    if matches!(range.aggregation, "sum" | "count") {
        let members: Vec<(DateTime<Utc>, i64)> = whole
            .iter()
            .map(|(at, v)| (*at, v - keys_sum.get(at).copied().unwrap_or(0)))
            .filter(|(_, v)| *v > 0)
            .collect();
        if !members.is_empty() {
            groups.push(UsageGroup {
                api_key: None,
                data: Series::build(&range, members, None, now).into(),
            });
        }
    }
    let series = Series::build(&range, whole, distinct, now);
    let mut out = UsageSeries::new(range, environment, series);
    out.groups = groups;
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn points_are_charged_once_per_bucket_of_the_range() {
        // `{ total points { at value } }`: total 1, points 1 + 2 a point.
        let selection = 1 + points_cost(2);
        let day = series_cost(at(1, 0), at(2, 0), UsageGranularity::Hour, selection);
        assert_eq!(day, 1 + 1 + 1 + 24 * 2);
        let most = series_cost(
            at(1, 0),
            at(1, 0) + chrono::Duration::hours(840),
            UsageGranularity::Hour,
            selection,
        );
        assert_eq!(most, 3 + 840 * 2);
        // A range past the bound (refused when the field runs) costs the bound.
        let over = series_cost(
            at(1, 0),
            at(30, 0) + chrono::Duration::days(30),
            UsageGranularity::Hour,
            selection,
        );
        assert_eq!(over, most);
        assert_eq!(
            series_cost(at(1, 0), at(11, 0), UsageGranularity::Day, selection),
            3 + 10 * 2
        );
        // Groups: the series' and each group's points per bucket, the whole
        // selection once per group.
        let grouped = 1 + points_cost(2) + (1 + 1 + points_cost(2));
        assert_eq!(
            usage_cost(
                UsageGroupBy::Key,
                10,
                at(1, 0),
                at(2, 0),
                UsageGranularity::Hour,
                grouped
            ),
            10 * (1 + 1 + 24 * 2 + 1 + 1 + 1 + 24 * 2) + 1
        );
        // A selection without points is charged as before.
        assert_eq!(
            series_cost(at(1, 0), at(2, 0), UsageGranularity::Hour, 3),
            4
        );
        // Saturating, never wrapping: still far past any budget.
        let huge = series_cost(
            at(1, 0),
            at(2, 0),
            UsageGranularity::Hour,
            points_cost(usize::MAX),
        );
        assert!(huge >= usize::MAX / POINT_UNIT, "{huge}");
    }
}
