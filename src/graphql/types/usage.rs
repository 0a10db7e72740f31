//! The input and answer of `recordUsage`.

use async_graphql::{Enum, InputObject, Json, SimpleObject};
use chrono::{DateTime, Utc};

use crate::usage::ingest::{EventInput, EventResult, Status};

/// One usage event to record.
#[derive(InputObject, Debug, Clone)]
pub struct UsageEventInput {
    /// The metric's key (see `metrics`).
    pub metric: String,
    /// How much (1 to 1,000,000,000).
    pub quantity: i64,
    /// When it happened: at most 35 days ago, at most 5 minutes ahead.
    pub occurred_at: DateTime<Utc>,
    /// Recording the same key twice (per tenant and mode) records once, for
    /// at least 35 days (1-200 characters).
    pub idempotency_key: String,
    /// A small JSON object (at most 4 KB, 4 levels, 32 keys an object).
    pub properties: Option<Json<serde_json::Value>>,
}

impl From<UsageEventInput> for EventInput {
    fn from(input: UsageEventInput) -> Self {
        Self {
            metric: input.metric,
            quantity: input.quantity,
            occurred_at: input.occurred_at,
            idempotency_key: input.idempotency_key,
            properties: input.properties.map(|j| j.0),
        }
    }
}

/// What became of one event.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageEventStatus {
    /// Stored (committed before the call answered).
    Recorded,
    /// Its idempotency key was recorded before: nothing was added.
    Duplicate,
    /// Not recorded: see `code`, `field` and `reason`.
    Refused,
}

/// One event's answer, in the order the events were given.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageEventResult {
    /// The event's place in the batch (from 0).
    pub index: i32,
    /// What became of it.
    pub status: UsageEventStatus,
    /// For a refused event, the error code (`BAD_USER_INPUT`).
    pub code: Option<String>,
    /// For a refused event, the field at fault.
    pub field: Option<String>,
    /// For a refused event, why.
    pub reason: Option<String>,
}

impl UsageEventResult {
    pub fn new(index: usize, result: EventResult) -> Self {
        let status = match result.status {
            Status::Recorded => UsageEventStatus::Recorded,
            Status::Duplicate => UsageEventStatus::Duplicate,
            Status::Refused => UsageEventStatus::Refused,
        };
        let refusal = result.refusal;
        Self {
            index: i32::try_from(index).unwrap_or(i32::MAX),
            status,
            code: refusal.as_ref().map(|r| r.code.to_owned()),
            field: refusal.as_ref().map(|r| r.field.to_owned()),
            reason: refusal.map(|r| r.reason),
        }
    }
}

/// The answer of `recordUsage`.
#[derive(SimpleObject, Debug, Clone)]
pub struct RecordUsageResult {
    /// One result per event, in order.
    pub results: Vec<UsageEventResult>,
    /// How many were recorded by this call.
    pub recorded: i32,
    /// How many were duplicates.
    pub duplicates: i32,
    /// How many were refused.
    pub refused: i32,
}

impl RecordUsageResult {
    pub fn new(results: Vec<EventResult>) -> Self {
        let results: Vec<UsageEventResult> = results
            .into_iter()
            .enumerate()
            .map(|(i, r)| UsageEventResult::new(i, r))
            .collect();
        let count = |s| results.iter().filter(|r| r.status == s).count() as i32;
        Self {
            recorded: count(UsageEventStatus::Recorded),
            duplicates: count(UsageEventStatus::Duplicate),
            refused: count(UsageEventStatus::Refused),
            results,
        }
    }
}

/// One of the plan's monthly quotas and how much of it is used this month
/// (live usage; the calendar month in UTC).
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct Quota {
    /// The metric's key.
    pub metric: String,
    /// How much is used this month.
    pub used: i64,
    /// The plan's monthly limit.
    pub limit: i64,
    /// `used` as a percentage of `limit` (may pass 100 when the plan's
    /// limit was lowered).
    pub percent: f64,
    /// When the month ends and the quota starts again.
    pub resets_at: DateTime<Utc>,
}

/// The quotas of `tenant` under `plan`, read in `scope`: the larger of
/// what this instance's counters know (they include usage not written yet)
/// and the daily rollups (what every instance wrote; one statement for
/// every metric).
pub async fn quotas(
    db: &crate::db::Db,
    scope: crate::tenancy::Scope,
    counters: &crate::usage::quotas::Quotas,
    plan: &crate::plans::Plan,
    tenant: uuid::Uuid,
) -> crate::error::AppResult<Vec<Quota>> {
    use scoped_futures::ScopedFutureExt;
    let limits = crate::plans::monthly_quotas(plan);
    if limits.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let (from, resets_at) = crate::usage::quotas::period(now);
    let stored = db
        .scoped(scope, |conn| {
            async move {
                Ok(crate::usage::quotas::all_used_in_db(conn, tenant, from, resets_at).await?)
            }
            .scope_boxed()
        })
        .await?;
    let mut out = Vec::with_capacity(limits.len());
    for (metric, limit) in limits {
        // This instance's counter knows usage not written yet; the rollups
        // know what other instances wrote since it was seeded (without
        // Redis each instance counts its own), so the larger is nearer.
        let stored = stored.get(&metric).copied().unwrap_or(0);
        let used = match counters.known_used(tenant, &metric, now).await {
            Some(used) => used.max(stored),
            None => stored,
        };
        out.push(Quota {
            percent: if limit > 0 {
                (used as f64 * 1000.0 / limit as f64).round() / 10.0
            } else {
                100.0
            },
            metric,
            used,
            limit,
            resets_at,
        });
    }
    Ok(out)
}
