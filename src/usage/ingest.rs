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
//! caps it lower) and, in the database, one transaction of a handful of
//! statements whatever the batch size: the catalogue read, the key claim
//! (with quotas, after a savepoint: the newly claimed events are then
//! taken from the quota in the same transaction), one batch row per month,
//! one of distinct values, two rollup upserts and the thresholds.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::checks::check;
pub use super::checks::{
    MAX_AHEAD, MAX_PROPERTIES_BYTES, MAX_PROPERTIES_DEPTH, MAX_PROPERTIES_KEYS, parse_occurred_at,
    parse_occurred_at_str, parse_quantity,
};
use super::partitions::MAX_AGE;
use super::store::{self, Stored};
use crate::auth::api_keys::Environment;
use crate::db::Db;
use crate::db::usage::NewUsageEvent;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;
use diesel_async::AsyncPgConnection;

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

/// What the write transaction decided for one event.
type Answer = Result<Stored, EventRefusal>;

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
    let (valid, followers) = repeats(valid);
    if !too_old.is_empty() {
        let keys: Vec<(&str, &str)> = too_old
            .iter()
            .map(|(_, k, _)| (who.environment.as_str(), k.as_str()))
            .collect();
        let stored = already_stored(db, who.tenant_id, &keys).await?;
        for ((i, _, fingerprint), print) in too_old.iter().zip(stored) {
            if let Some(print) = print
                && store::same_content(print, *fingerprint) == Stored::Duplicate
            {
                results[*i] = seen_before(Stored::Duplicate);
            }
        }
    }
    if valid.is_empty() {
        follow(&mut results, &followers);
        return Ok(results);
    }
    // The plan whose monthly quotas this batch is taken from (live events
    // only; none when the plan limits nothing).
    let plan = match quotas {
        Some(check) if who.environment == Environment::Live => {
            plan_of(db, check, who.tenant_id).await?.filter(|plan| {
                plan.monthly_quotas
                    .as_object()
                    .is_some_and(|q| !q.is_empty())
            })
        }
        _ => None,
    };
    let tenant = who.tenant_id;
    // The quota reservations of the events being recorded.
    let held = Held::default();
    let held_ref = &held;
    let plan_ref = plan.as_deref();
    let n = results.len();
    let outcome = db
        .scoped(Scope::tenant(tenant), |conn| {
            async move {
                let rules =
                    store::rules(conn, valid.iter().map(|(_, e)| e.metric.as_str())).await?;
                // What became of each event decided here, by index.
                let mut answers: Vec<Option<Answer>> = (0..n).map(|_| None).collect();
                let mut known = Vec::with_capacity(valid.len());
                let mut events = Vec::with_capacity(valid.len());
                for (i, e) in valid {
                    match rules.get(&e.metric) {
                        None => {
                            let reason = format!(
                                "no metric has the key {}: see the `metrics` query",
                                e.metric
                            );
                            answers[i] = Some(Err(refused("metric", reason)));
                        }
                        // A UNIQUE_COUNT value past the cap is refused (it is
                        // stored as a digest, but a value that long is a
                        // sender's bug).
                        Some(store::Aggregation::UniqueCount(property))
                            if store::distinct_value(&e, property)
                                .is_some_and(|v| v.len() > store::MAX_DISTINCT_VALUE_BYTES) =>
                        {
                            let reason = format!(
                                "the value this metric counts is longer than {} bytes",
                                store::MAX_DISTINCT_VALUE_BYTES
                            );
                            answers[i] = Some(Err(refused("properties", reason)));
                        }
                        Some(_) => {
                            known.push(i);
                            events.push(e);
                        }
                    }
                }
                let stored = match (quotas, plan_ref) {
                    (Some(check), Some(plan)) => {
                        claim_within_quota(
                            conn,
                            check,
                            plan,
                            tenant,
                            &rules,
                            &mut known,
                            &mut events,
                            &mut answers,
                            held_ref,
                        )
                        .await?
                    }
                    _ => store::claim(conn, tenant, &events).await?,
                };
                let seen = quotas.map(|q| q.usage.known_distinct());
                let sent = store::append(conn, tenant, &events, &stored, &rules, seen).await?;
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
                for (i, s) in known.into_iter().zip(stored) {
                    answers[i] = Some(Ok(s));
                }
                held_ref.committing(true);
                Ok((answers, announced, sent))
            }
            .scope_boxed()
        })
        .await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => {
            if held.is_committing() {
                // The commit failed or its acknowledgement was lost: the
                // events may be stored, so what they took stays taken (a
                // retry finds them stored and takes nothing more). At worst
                // the quota counts them without their rows, until the
                // counter is read again from the rollups; never the reverse.
                tracing::warn!(tenant.id = %tenant, error = %err, "recordUsage commit outcome unknown; its quota reservations are kept");
                held.forget_all();
            }
            return Err(err);
        }
    };
    let (outcome, announced, sent) = outcome;
    // Committed: the outcome is known, what is not kept below goes back.
    held.committing(false);
    if let Some(check) = quotas {
        // Committed: the distinct values sent are stored now.
        check.usage.known_distinct().remember(sent);
        if announced {
            check.usage.live().committed(db, tenant);
        }
    }
    for (i, answer) in outcome
        .into_iter()
        .enumerate()
        .filter_map(|(i, a)| Some((i, a?)))
    {
        if matches!(answer, Ok(Stored::Recorded))
            && let Some(reservation) = held.take(i)
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

/// The fingerprints stored with `keys` (environment, key) of `tenant`, in
/// order (see [`crate::db::usage::key_fingerprints`]).
async fn already_stored(
    db: &Db,
    tenant: Uuid,
    keys: &[(&str, &str)],
) -> AppResult<Vec<Option<Option<i64>>>> {
    db.scoped(Scope::tenant(tenant), |conn| {
        async move { Ok(crate::db::usage::key_fingerprints(conn, tenant, keys).await?) }
            .scope_boxed()
    })
    .await
}

/// The quota reservations of a write's events, by index. Dropped, they are
/// given back, unless COMMIT was sent: then the rows may be stored (the
/// acknowledgement lost, or the caller's future dropped mid-commit when
/// its client hung up), and what they took stays taken (at worst the quota
/// counts usage that is not stored until the counter is read again from
/// the rollups; never the reverse).
#[derive(Default)]
struct Held {
    map: std::sync::Mutex<HashMap<usize, super::quotas::Reservation>>,
    committing: std::sync::atomic::AtomicBool,
}

impl Held {
    fn committing(&self, yes: bool) {
        self.committing
            .store(yes, std::sync::atomic::Ordering::SeqCst);
    }

    fn is_committing(&self) -> bool {
        self.committing.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<usize, super::quotas::Reservation>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn put(&self, index: usize, reservation: super::quotas::Reservation) {
        self.map().insert(index, reservation);
    }

    fn take(&self, index: usize) -> Option<super::quotas::Reservation> {
        self.map().remove(&index)
    }

    fn forget_all(&self) {
        self.map()
            .drain()
            .for_each(|(_, r)| super::quotas::Reservation::forget(r));
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.is_committing() {
            self.forget_all();
        }
    }
}

/// Claims the keys of `events` (inside the tenant's transaction), then
/// takes each newly claimed event from `plan`'s monthly quota of its
/// metric, in order: a retried event (its key stored before) takes nothing,
/// and one that would go past its quota is refused (QUOTA_EXCEEDED, in
/// `answers`) and removed from `known` and `events`. A refused event must
/// not keep its key (a retry after the quota resets must be recorded), and
/// the runtime role may not delete keys: when any is refused, what the pass
/// took is given back and every claim of it rolled back to a savepoint
/// (another batch may claim those keys meanwhile), then the others are
/// claimed and taken again, in order. Each pass drops at least one event,
/// so at most as many passes as events. Reservations go to `held` by index.
#[allow(clippy::too_many_arguments)]
async fn claim_within_quota(
    conn: &mut AsyncPgConnection,
    check: QuotaCheck<'_>,
    plan: &crate::plans::Plan,
    tenant: Uuid,
    rules: &HashMap<String, store::Aggregation>,
    known: &mut Vec<usize>,
    events: &mut Vec<NewUsageEvent>,
    answers: &mut [Option<Answer>],
    held: &Held,
) -> AppResult<Vec<Stored>> {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute("SAVEPOINT usage_quota").await?;
    loop {
        let stored = store::claim(conn, tenant, events).await?;
        let mut over = vec![false; events.len()];
        let mut taken = Vec::new();
        for (place, event) in events.iter_mut().enumerate() {
            event.quota = None;
            if stored[place] != Stored::Recorded {
                continue;
            }
            let Some(limit) = super::quotas::limit_of(plan, &event.metric) else {
                continue;
            };
            let Some(amount) = super::quotas::amount(rules.get(&event.metric), event.quantity)
            else {
                continue;
            };
            let reserved = check
                .usage
                .quotas()
                .reserve(
                    &mut super::quotas::Seed::Conn(&mut *conn),
                    tenant,
                    &event.metric,
                    event.occurred_at,
                    amount,
                    limit,
                )
                .await;
            match reserved {
                Ok(reservation) => {
                    event.quota = reservation.mark();
                    taken.push((known[place], reservation));
                }
                Err(err @ AppError::QuotaExceeded(_)) => {
                    answers[known[place]] = Some(Err(over_quota(&err)));
                    over[place] = true;
                }
                Err(err) => return Err(err),
            }
        }
        if !over.contains(&true) {
            for (index, reservation) in taken {
                held.put(index, reservation);
            }
            return Ok(stored);
        }
        drop(taken);
        conn.batch_execute("ROLLBACK TO SAVEPOINT usage_quota")
            .await?;
        let mut place = 0;
        known.retain(|_| {
            place += 1;
            !over[place - 1]
        });
        let mut place = 0;
        events.retain(|_| {
            place += 1;
            !over[place - 1]
        });
    }
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
