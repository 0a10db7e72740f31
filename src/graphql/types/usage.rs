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
