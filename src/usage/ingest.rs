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

use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::checks::check;
pub use super::checks::{
    MAX_AHEAD, MAX_PROPERTIES_BYTES, MAX_PROPERTIES_DEPTH, MAX_PROPERTIES_KEYS, parse_occurred_at,
    parse_quantity,
};
use super::partitions::MAX_AGE;
use super::store::{self, Stored};
use crate::auth::api_keys::Environment;
use crate::db::Db;
use crate::db::usage::NewUsageEvent;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// Most events in one call (more: the whole call is BAD_USER_INPUT).
pub const MAX_EVENTS: usize = 1000;
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

/// The refusal of an event whose idempotency key was recorded before with
/// other content.
fn key_reused() -> EventRefusal {
    EventRefusal {
        code: "CONFLICT",
        field: "idempotencyKey",
        reason: "IDEMPOTENCY_KEY_REUSED: this key was recorded with another metric, quantity, \
                 occurredAt or properties; a retry must send the same event, a new event a new key"
            .into(),
    }
}

/// The answer for an event whose key was stored before.
fn seen_before(outcome: Stored) -> EventResult {
    match outcome {
        Stored::KeyReused => EventResult {
            status: Status::Refused,
            refusal: Some(key_reused()),
        },
        _ => EventResult {
            status: Status::Duplicate,
            refusal: None,
        },
    }
}

fn over_quota(err: &AppError) -> EventRefusal {
    EventRefusal {
        code: "QUOTA_EXCEEDED",
        field: "quantity",
        reason: err.public_message(),
    }
}

/// A BAD_USER_INPUT refusal of one event's `field`.
pub fn refused(field: &'static str, reason: impl Into<String>) -> EventRefusal {
    EventRefusal {
        code: "BAD_USER_INPUT",
        field,
        reason: reason.into(),
    }
}

/// One event as it arrived: parsed, or refused already at the boundary (a
/// field that is not even of the right type), so that one malformed event
/// never refuses the whole call.
pub type Incoming = Result<EventInput, EventRefusal>;

/// [`record_each`] for events that all parsed.
pub async fn record(
    db: &Db,
    quotas: Option<QuotaCheck<'_>>,
    who: Recorder,
    events: Vec<EventInput>,
    now: DateTime<Utc>,
) -> AppResult<Vec<EventResult>> {
    record_each(db, quotas, who, events.into_iter().map(Ok).collect(), now).await
}

/// Records `events` for `who` as of `now`. BAD_USER_INPUT for the whole
/// call when it holds no event or more than [`MAX_EVENTS`]; otherwise one
/// result per event. With `quotas`, live events are taken from the plan's
/// monthly quotas in order: an event that would go past its metric's quota
/// is refused (QUOTA_EXCEEDED) and the others are still recorded.
pub async fn record_each(
    db: &Db,
    quotas: Option<QuotaCheck<'_>>,
    who: Recorder,
    events: Vec<Incoming>,
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
    // Events refused only for being too old whose key may have been stored
    // while they were young enough: a retry of those is a duplicate.
    let mut too_old: Vec<(usize, String, i64)> = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        let event = match event {
            Ok(event) => event,
            Err(refusal) => {
                results.push(EventResult {
                    status: Status::Refused,
                    refusal: Some(refusal),
                });
                continue;
            }
        };
        let fingerprint = store::fingerprint(
            &event.metric,
            event.quantity,
            Some(event.occurred_at),
            event.properties.as_ref(),
        );
        match check(&event, now) {
            Ok(()) => {
                valid.push((
                    i,
                    NewUsageEvent {
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
                        fingerprint,
                        held: 0,
                        quota: None,
                    },
                ));
                results.push(EventResult {
                    status: Status::Recorded,
                    refusal: None,
                });
            }
            Err(refusal) => {
                if refusal.field == "occurredAt" && event.occurred_at < now - MAX_AGE {
                    too_old.push((i, event.idempotency_key, fingerprint));
                }
                results.push(EventResult {
                    status: Status::Refused,
                    refusal: Some(refusal),
                })
            }
        }
    }
    // A key repeated in the batch is decided by its first event, before any
    // quota is reserved: a repeat takes nothing and is never stored on its
    // own (else a repeat of an event refused for the quota would pass).
    let (mut valid, followers) = repeats(valid);
    if !too_old.is_empty() {
        let keys: Vec<String> = too_old.iter().map(|(_, k, _)| k.clone()).collect();
        let stored = already_stored(db, who.tenant_id, who.environment, keys).await?;
        for (i, key, fingerprint) in too_old {
            if let Some(print) = stored.get(&key)
                && store::same_content(*print, fingerprint) == Stored::Duplicate
            {
                results[i] = seen_before(Stored::Duplicate);
            }
        }
    }
    let mut held = HashMap::new();
    if let Some(check) = quotas
        && who.environment == Environment::Live
        && !valid.is_empty()
    {
        let plan = plan_of(db, check, who.tenant_id).await?;
        // Retried events take nothing: those already stored are answered
        // DUPLICATE before the quota is asked (a key repeated in the batch
        // is no longer here: see `repeats`).
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
        let mut kept = Vec::with_capacity(valid.len());
        for (i, mut event) in valid {
            let idem = event.idempotency_key.as_deref().unwrap_or_default();
            if let Some(print) = stored.get(idem) {
                results[i] = seen_before(store::same_content(*print, event.fingerprint));
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
                        event.quota = reservation.mark();
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
        follow(&mut results, &followers);
        return Ok(results);
    }
    let tenant = who.tenant_id;
    // Set when the work is done and only COMMIT is left: an error after it
    // leaves the outcome unknown (the rows may be stored).
    let committing = std::sync::atomic::AtomicBool::new(false);
    let committing_ref = &committing;
    let outcome = db
        .scoped(Scope::tenant(tenant), |conn| {
            async move {
                let rules =
                    store::rules(conn, valid.iter().map(|(_, e)| e.metric.as_str())).await?;
                let (known, unknown): (Vec<_>, Vec<_>) = valid
                    .into_iter()
                    .partition(|(_, e)| rules.contains_key(&e.metric));
                // A UNIQUE_COUNT value past the cap is refused (it is stored
                // as a digest, but a value that long is a sender's bug).
                let (known, too_long): (Vec<_>, Vec<_>) =
                    known
                        .into_iter()
                        .partition(|(_, e)| match rules.get(&e.metric) {
                            Some(store::Aggregation::UniqueCount(property)) => {
                                store::distinct_value(e, property)
                                    .is_none_or(|v| v.len() <= store::MAX_DISTINCT_VALUE_BYTES)
                            }
                            _ => true,
                        });
                let (known, events): (Vec<usize>, Vec<NewUsageEvent>) = known.into_iter().unzip();
                let stored = store::write(conn, tenant, &events, &rules).await?;
                // The quota thresholds the new events crossed are announced
                // in this transaction: with the usage, or not at all.
                super::thresholds::record_crossed(
                    conn,
                    quotas.and_then(|q| q.usage.alert_mailer()),
                    tenant,
                    &events,
                    &stored,
                )
                .await?;
                // New live usage is announced to every instance's
                // `usageUpdated` subscribers (after the commit).
                let live =
                    stored.contains(&Stored::Recorded) && who.environment == Environment::Live;
                let announced = quotas.is_some() && live;
                let mut answers: HashMap<usize, Result<Stored, EventRefusal>> = HashMap::new();
                for (i, s) in known.into_iter().zip(stored) {
                    answers.insert(i, Ok(s));
                }
                for (i, e) in unknown {
                    answers.insert(
                        i,
                        Err(refused(
                            "metric",
                            format!(
                                "no metric has the key {}: see the `metrics` query",
                                e.metric
                            ),
                        )),
                    );
                }
                for (i, _) in too_long {
                    answers.insert(
                        i,
                        Err(refused(
                            "properties",
                            format!(
                                "the value this metric counts is longer than {} bytes",
                                store::MAX_DISTINCT_VALUE_BYTES
                            ),
                        )),
                    );
                }
                committing_ref.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok((answers, announced))
            }
            .scope_boxed()
        })
        .await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => {
            if committing.load(std::sync::atomic::Ordering::SeqCst) {
                // The commit failed or its acknowledgement was lost: the
                // events may be stored, so what they took stays taken (a
                // retry finds them stored and takes nothing more). At worst
                // the quota counts them without their rows, until the
                // counter is read again from the rollups; never the reverse.
                tracing::warn!(tenant.id = %tenant, error = %err, "recordUsage commit outcome unknown; its quota reservations are kept");
                held.into_values()
                    .for_each(super::quotas::Reservation::forget);
            }
            return Err(err);
        }
    };
    let (outcome, announced) = outcome;
    if let Some(check) = quotas
        && announced
    {
        check.usage.live().committed(db, tenant);
    }
    for (i, answer) in outcome {
        if matches!(answer, Ok(Stored::Recorded))
            && let Some(reservation) = held.remove(&i)
        {
            reservation.keep();
        }
        results[i] = match answer {
            Ok(Stored::Recorded) => EventResult {
                status: Status::Recorded,
                refusal: None,
            },
            Ok(seen @ (Stored::Duplicate | Stored::KeyReused)) => seen_before(seen),
            Err(refusal) => EventResult {
                status: Status::Refused,
                refusal: Some(refusal),
            },
        };
    }
    follow(&mut results, &followers);
    Ok(results)
}

/// A later event of the batch whose idempotency key an earlier valid event
/// holds: its index, the first event's index and both fingerprints.
struct Repeat {
    at: usize,
    first: usize,
    first_print: i64,
    print: i64,
}

/// Splits the valid events into the first of each idempotency key and the
/// repeats of a key given earlier in the batch.
fn repeats(valid: Vec<(usize, NewUsageEvent)>) -> (Vec<(usize, NewUsageEvent)>, Vec<Repeat>) {
    // Which events repeat an earlier key (keys borrowed: nothing copied).
    let mut first: HashMap<&str, (usize, i64), foldhash::fast::RandomState> = HashMap::default();
    let mut repeats = Vec::new();
    // Whether each event (by its place in `valid`) repeats an earlier key.
    let mut repeated = vec![false; valid.len()];
    for (place, (i, event)) in valid.iter().enumerate() {
        let Some(idem) = event.idempotency_key.as_deref() else {
            continue;
        };
        match first.entry(idem) {
            std::collections::hash_map::Entry::Occupied(slot) => {
                let (at, first_print) = *slot.get();
                repeats.push(Repeat {
                    at: *i,
                    first: at,
                    first_print,
                    print: event.fingerprint,
                });
                repeated[place] = true;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((*i, event.fingerprint));
            }
        }
    }
    drop(first);
    if repeats.is_empty() {
        return (valid, repeats);
    }
    let kept = valid
        .into_iter()
        .zip(repeated)
        .filter(|(_, repeat)| !repeat)
        .map(|(event, _)| event)
        .collect();
    (kept, repeats)
}

/// Answers each repeat from its key's first event, once that one is
/// decided: refused the same way when it was refused, else a duplicate
/// (same content) or a key reuse (other content).
fn follow(results: &mut [EventResult], repeats: &[Repeat]) {
    for repeat in repeats {
        let first = &results[repeat.first];
        results[repeat.at] = match first.status {
            Status::Refused => first.clone(),
            Status::Recorded | Status::Duplicate => {
                seen_before(store::same_content(Some(repeat.first_print), repeat.print))
            }
        };
    }
}

/// Which of `keys` are stored already for `tenant` in `environment`, with
/// their fingerprints.
async fn already_stored(
    db: &Db,
    tenant: Uuid,
    environment: Environment,
    keys: Vec<String>,
) -> AppResult<HashMap<String, Option<i64>>> {
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
