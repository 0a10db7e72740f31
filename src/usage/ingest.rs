//! `recordUsage` and `POST /v1/usage`: a batch of up to [`MAX_EVENTS`]
//! events of one tenant, each checked on its own (a refused event does not
//! hold back the others), then stored in one transaction with its
//! idempotency keys and rollups. An event answered RECORDED is committed
//! when the call answers; when the database fails, the call fails and
//! nothing of it is stored (a retry with the same keys is then safe).
//!
//! Cost of a call: at most 1,000 events, each at most ~5 KB (metric 64 B,
//! idempotency key 200 B, properties 4 KB of JSON, at most 4 levels deep
//! and 32 keys an object), so at most ~5 MB of input (the HTTP body limit
//! caps it lower) and, in the database, a handful of statements: the
//! catalogue read, one INSERT of keys, one of events per 2,000, one of
//! distinct values and two rollup upserts.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::MAX_QUANTITY;
use super::partitions::MAX_AGE;
use super::store::{self, Stored};
use crate::auth::api_keys::Environment;
use crate::db::Db;
use crate::db::usage::NewUsageEvent;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// Most events in one call (more: the whole call is BAD_USER_INPUT).
pub const MAX_EVENTS: usize = 1000;
/// Largest properties object, as compact JSON.
pub const MAX_PROPERTIES_BYTES: usize = 4096;
/// Deepest nesting of properties (the object itself is level 1).
pub const MAX_PROPERTIES_DEPTH: usize = 4;
/// Most keys of one properties object (at any level).
pub const MAX_PROPERTIES_KEYS: usize = 32;
/// How far in the future an event's time may be (clock skew).
pub const MAX_AHEAD: TimeDelta = TimeDelta::minutes(5);

/// One event to record.
#[derive(Debug, Clone)]
pub struct EventInput {
    pub metric: String,
    pub quantity: i64,
    pub occurred_at: DateTime<Utc>,
    pub idempotency_key: String,
    /// A small JSON object (none: `{}`).
    pub properties: Option<serde_json::Value>,
}

/// Who records: the tenant, the environment (a test key's usage is kept
/// apart) and the key, if one sent it.
#[derive(Debug, Clone, Copy)]
pub struct Recorder {
    pub tenant_id: Uuid,
    pub environment: Environment,
    pub api_key_id: Option<Uuid>,
}

/// What enforces the plan's monthly quotas on a batch: the instance's
/// counters and the plan catalogue, and the tenant's plan when the caller
/// knows it (a key does; else it is read). Its `usage` also announces the
/// recorded live usage to live subscribers (see [`super::live`]).
#[derive(Clone, Copy)]
pub struct QuotaCheck<'a> {
    pub usage: &'a super::Usage,
    pub plans: &'a crate::plans::PlanCatalogue,
    pub plan_key: Option<&'a str>,
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Recorded,
    Duplicate,
    Refused,
}

/// One event's answer, in the order given.
#[derive(Debug, Clone)]
pub struct EventResult {
    pub status: Status,
    /// For a refused event: the error code (`BAD_USER_INPUT`), the field
    /// and why.
    pub refusal: Option<EventRefusal>,
}

/// Why an event was refused.
#[derive(Debug, Clone)]
pub struct EventRefusal {
    pub code: &'static str,
    pub field: &'static str,
    pub reason: String,
}

fn over_quota(err: &AppError) -> EventRefusal {
    EventRefusal {
        code: "QUOTA_EXCEEDED",
        field: "quantity",
        reason: err.public_message(),
    }
}

fn refused(field: &'static str, reason: impl Into<String>) -> EventRefusal {
    EventRefusal {
        code: "BAD_USER_INPUT",
        field,
        reason: reason.into(),
    }
}

/// Records `events` for `who` as of `now`. BAD_USER_INPUT for the whole
/// call when it holds no event or more than [`MAX_EVENTS`]; otherwise one
/// result per event. With `quotas`, live events are taken from the plan's
/// monthly quotas in order: an event that would go past its metric's quota
/// is refused (QUOTA_EXCEEDED) and the others are still recorded.
pub async fn record(
    db: &Db,
    quotas: Option<QuotaCheck<'_>>,
    who: Recorder,
    events: Vec<EventInput>,
    now: DateTime<Utc>,
) -> AppResult<Vec<EventResult>> {
    if events.is_empty() {
        return Err(AppError::bad_field("events", "give at least one event"));
    }
    if events.len() > MAX_EVENTS {
        return Err(AppError::bad_field(
            "events",
            format!(
                "at most {MAX_EVENTS} events a call ({} given): split the batch",
                events.len()
            ),
        ));
    }
    let mut results: Vec<EventResult> = Vec::with_capacity(events.len());
    let mut valid: Vec<(usize, NewUsageEvent)> = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        match check(&event, now) {
            Ok(()) => {
                valid.push((
                    i,
                    NewUsageEvent {
                        id: Uuid::now_v7(),
                        tenant_id: who.tenant_id,
                        metric: event.metric,
                        quantity: event.quantity,
                        environment: who.environment.as_str(),
                        api_key_id: who.api_key_id,
                        idempotency_key: Some(event.idempotency_key),
                        properties: event
                            .properties
                            .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
                        occurred_at: event.occurred_at,
                    },
                ));
                results.push(EventResult {
                    status: Status::Recorded,
                    refusal: None,
                });
            }
            Err(refusal) => results.push(EventResult {
                status: Status::Refused,
                refusal: Some(refusal),
            }),
        }
    }
    let mut held = HashMap::new();
    if let Some(check) = quotas
        && who.environment == Environment::Live
        && !valid.is_empty()
    {
        let plan = plan_of(db, check, who.tenant_id).await?;
        // Retried events take nothing: those already stored are answered
        // DUPLICATE before the quota is asked, and a key repeated in the
        // batch reserves once.
        let stored = match &plan {
            Some(plan) if !plan.monthly_quotas.as_object().is_none_or(|q| q.is_empty()) => {
                let keys: Vec<String> = valid
                    .iter()
                    .filter_map(|(_, e)| e.idempotency_key.clone())
                    .collect();
                already_stored(db, who.tenant_id, who.environment, keys).await?
            }
            _ => Default::default(),
        };
        let mut in_batch = std::collections::HashSet::new();
        let mut kept = Vec::with_capacity(valid.len());
        for (i, event) in valid {
            let idem = event.idempotency_key.as_deref().unwrap_or_default();
            if stored.contains(idem) {
                results[i] = EventResult {
                    status: Status::Duplicate,
                    refusal: None,
                };
                continue;
            }
            if !in_batch.insert(idem.to_owned()) {
                kept.push((i, event));
                continue;
            }
            let reserved = match &plan {
                Some(plan) => {
                    check
                        .usage
                        .reserve_quota(
                            db,
                            plan,
                            who.tenant_id,
                            &event.metric,
                            event.quantity,
                            event.occurred_at,
                        )
                        .await
                }
                None => Ok(None),
            };
            match reserved {
                Ok(reservation) => {
                    if let Some(reservation) = reservation {
                        held.insert(i, reservation);
                    }
                    kept.push((i, event));
                }
                Err(err @ AppError::QuotaExceeded(_)) => {
                    results[i] = EventResult {
                        status: Status::Refused,
                        refusal: Some(over_quota(&err)),
                    }
                }
                Err(err) => return Err(err),
            }
        }
        valid = kept;
    }
    if valid.is_empty() {
        return Ok(results);
    }
    let tenant = who.tenant_id;
    let outcome = db
        .scoped(Scope::tenant(tenant), |conn| {
            async move {
                let rules =
                    store::rules(conn, valid.iter().map(|(_, e)| e.metric.as_str())).await?;
                let (known, unknown): (Vec<_>, Vec<_>) = valid
                    .into_iter()
                    .partition(|(_, e)| rules.contains_key(&e.metric));
                let events: Vec<NewUsageEvent> = known.iter().map(|(_, e)| e.clone()).collect();
                let stored = store::write(conn, tenant, &events, &rules).await?;
                // New live usage is announced to every instance's
                // `usageUpdated` subscribers (on commit).
                let live =
                    stored.contains(&Stored::Recorded) && who.environment == Environment::Live;
                let announced = match quotas {
                    Some(check) if live => {
                        Some(check.usage.live().in_transaction(conn, tenant).await?)
                    }
                    _ => None,
                };
                let mut answers: HashMap<usize, Result<Stored, String>> = HashMap::new();
                for ((i, _), s) in known.iter().zip(stored) {
                    answers.insert(*i, Ok(s));
                }
                for (i, e) in unknown {
                    answers.insert(i, Err(e.metric));
                }
                Ok((answers, announced))
            }
            .scope_boxed()
        })
        .await?;
    let (outcome, announced) = outcome;
    if let (Some(check), Some(announced)) = (quotas, announced) {
        check.usage.live().committed(db, tenant, announced);
    }
    for (i, answer) in outcome {
        if matches!(answer, Ok(Stored::Recorded))
            && let Some(reservation) = held.remove(&i)
            && let Some(check) = quotas
        {
            check.usage.announce(reservation.keep());
        }
        results[i] = match answer {
            Ok(Stored::Recorded) => EventResult {
                status: Status::Recorded,
                refusal: None,
            },
            Ok(Stored::Duplicate) => EventResult {
                status: Status::Duplicate,
                refusal: None,
            },
            Err(metric) => EventResult {
                status: Status::Refused,
                refusal: Some(refused(
                    "metric",
                    format!("no metric has the key {metric}: see the `metrics` query"),
                )),
            },
        };
    }
    Ok(results)
}

/// Which of `keys` are stored already for `tenant` in `environment`.
async fn already_stored(
    db: &Db,
    tenant: Uuid,
    environment: Environment,
    keys: Vec<String>,
) -> AppResult<std::collections::HashSet<String>> {
    db.scoped(Scope::tenant(tenant), |conn| {
        async move {
            let found =
                crate::db::usage::stored_keys(conn, tenant, environment.as_str(), &keys).await?;
            Ok(found.into_iter().collect())
        }
        .scope_boxed()
    })
    .await
}

/// The tenant's plan (its key read when the caller does not know it).
async fn plan_of(
    db: &Db,
    check: QuotaCheck<'_>,
    tenant: Uuid,
) -> AppResult<Option<std::sync::Arc<crate::plans::Plan>>> {
    let key = match check.plan_key {
        Some(key) => key.to_owned(),
        None => {
            db.scoped(Scope::tenant(tenant), |conn| {
                async move { Ok(crate::db::usage::tenant_plan_key(conn, tenant).await?) }
                    .scope_boxed()
            })
            .await?
        }
    };
    check.plans.plan(db, &key).await
}

/// Checks one event on its own (the catalogue is checked in the database).
fn check(event: &EventInput, now: DateTime<Utc>) -> Result<(), EventRefusal> {
    if crate::admin::metric_key("metric", &event.metric).is_err() {
        return Err(refused(
            "metric",
            "use 1-64 characters: a lower-case letter, then a-z, 0-9, _ . : -",
        ));
    }
    if !(1..=MAX_QUANTITY).contains(&event.quantity) {
        return Err(refused(
            "quantity",
            format!("must be between 1 and {MAX_QUANTITY}"),
        ));
    }
    if event.occurred_at < now - MAX_AGE {
        return Err(refused(
            "occurredAt",
            "more than 35 days old: usage that old can no longer be recorded",
        ));
    }
    if event.occurred_at > now + MAX_AHEAD {
        return Err(refused(
            "occurredAt",
            "more than 5 minutes in the future: check the sender's clock",
        ));
    }
    let idem = &event.idempotency_key;
    if idem.is_empty() || idem.chars().count() > 200 {
        return Err(refused("idempotencyKey", "must be 1 to 200 characters"));
    }
    if let Err(err) = crate::input::check_str("idempotencyKey", idem) {
        return Err(refused("idempotencyKey", err.public_message()));
    }
    if let Some(properties) = &event.properties {
        check_properties(properties)?;
    }
    Ok(())
}

/// A properties value: a JSON object, small and shallow, with no string
/// PostgreSQL cannot store.
fn check_properties(value: &serde_json::Value) -> Result<(), EventRefusal> {
    if !value.is_object() {
        return Err(refused("properties", "must be a JSON object"));
    }
    fn depth_ok(value: &serde_json::Value, level: usize) -> Result<(), EventRefusal> {
        if level > MAX_PROPERTIES_DEPTH {
            return Err(refused(
                "properties",
                format!("nested more than {MAX_PROPERTIES_DEPTH} levels deep"),
            ));
        }
        match value {
            serde_json::Value::Object(map) => {
                if map.len() > MAX_PROPERTIES_KEYS {
                    return Err(refused(
                        "properties",
                        format!("an object has more than {MAX_PROPERTIES_KEYS} keys"),
                    ));
                }
                map.values().try_for_each(|v| depth_ok(v, level + 1))
            }
            serde_json::Value::Array(items) => {
                items.iter().try_for_each(|v| depth_ok(v, level + 1))
            }
            _ => Ok(()),
        }
    }
    depth_ok(value, 1)?;
    let size = serde_json::to_vec(value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_PROPERTIES_BYTES {
        return Err(refused(
            "properties",
            format!("{size} bytes as JSON; at most {MAX_PROPERTIES_BYTES}"),
        ));
    }
    if let Err(err) = crate::input::check_json(value, "properties") {
        return Err(refused("properties", err.public_message()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(metric: &str, quantity: i64, ago: TimeDelta) -> EventInput {
        EventInput {
            metric: metric.into(),
            quantity,
            occurred_at: Utc::now() - ago,
            idempotency_key: "k".into(),
            properties: None,
        }
    }

    fn field(e: &EventInput) -> Option<&'static str> {
        check(e, Utc::now()).err().map(|r| r.field)
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(field(&event("api_calls", 1, TimeDelta::zero())), None);
        assert_eq!(field(&event("API", 1, TimeDelta::zero())), Some("metric"));
        assert_eq!(
            field(&event("api_calls", 0, TimeDelta::zero())),
            Some("quantity")
        );
        assert_eq!(
            field(&event("api_calls", MAX_QUANTITY + 1, TimeDelta::zero())),
            Some("quantity")
        );
        assert_eq!(
            field(&event("api_calls", 1, TimeDelta::days(36))),
            Some("occurredAt")
        );
        assert_eq!(
            field(&event("api_calls", 1, -TimeDelta::minutes(6))),
            Some("occurredAt")
        );
        assert_eq!(field(&event("api_calls", 1, -TimeDelta::minutes(4))), None);
        let mut e = event("api_calls", 1, TimeDelta::zero());
        e.idempotency_key = "a\u{0}".into();
        assert_eq!(field(&e), Some("idempotencyKey"));
    }

    #[test]
    fn properties_are_small_shallow_objects() {
        let ok = |v: serde_json::Value| check_properties(&v).is_ok();
        assert!(ok(json!({ "region": "eu", "n": 3, "tags": ["a", "b"] })));
        assert!(ok(json!({ "a": { "b": { "c": 1 } } })));
        assert!(!ok(json!({ "a": { "b": { "c": { "d": 1 } } } })));
        assert!(!ok(json!([1])));
        assert!(!ok(json!("text")));
        assert!(!ok(json!({ "v": "x".repeat(MAX_PROPERTIES_BYTES) })));
        let wide: serde_json::Map<_, _> = (0..=MAX_PROPERTIES_KEYS)
            .map(|i| (format!("k{i}"), json!(i)))
            .collect();
        assert!(!ok(serde_json::Value::Object(wide)));
        assert!(!ok(json!({ "v": "a\u{0}b" })));
    }
}
