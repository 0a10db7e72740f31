//! Writing one tenant's usage in its transaction: idempotency keys claimed,
//! raw events appended, hourly and daily rollups (and the distinct values
//! of `unique_count` metrics) updated, aggregated per batch so that a batch
//! of 1,000 events costs a handful of statements.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
// A seeded hash (random per process) that is several times cheaper than
// SipHash for the short keys of a batch (at most a few thousand a call).
use foldhash::fast::RandomState;
use uuid::Uuid;

use super::distinct::{self, KnownDistinct};
use crate::db::metrics::MetricRow;
use crate::db::usage::{self as rows, NewUsageEvent, RollupKey};

/// How a metric's events add up in its rollups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aggregation {
    /// The sum of the quantities.
    Sum,
    /// The number of events.
    Count,
    /// The largest quantity.
    Max,
    /// The number of distinct values of this property.
    UniqueCount(String),
}

impl Aggregation {
    /// The aggregation of a catalogue row (`None` for one this build does
    /// not know).
    pub fn of(row: &MetricRow) -> Option<Self> {
        Some(match row.aggregation.as_str() {
            "sum" => Self::Sum,
            "count" => Self::Count,
            "max" => Self::Max,
            "unique_count" => Self::UniqueCount(row.unique_property.clone()?),
            _ => return None,
        })
    }
}

/// The aggregations of the catalogue's metrics among `keys`.
pub async fn rules<'a>(
    conn: &mut AsyncPgConnection,
    keys: impl Iterator<Item = &'a str>,
) -> QueryResult<HashMap<String, Aggregation>> {
    let keys: Vec<&str> = keys.collect::<BTreeSet<_>>().into_iter().collect();
    let found = crate::db::metrics::among(conn, &keys).await?;
    Ok(found
        .iter()
        .filter_map(|row| Some((row.key.clone(), Aggregation::of(row)?)))
        .collect())
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Recorded,
    /// Its idempotency key was recorded before (or earlier in the batch)
    /// with the same content.
    Duplicate,
    /// Its idempotency key was recorded before (or earlier in the batch)
    /// with other content: nothing recorded.
    KeyReused,
}

/// A short hash of what an event records (its metric, quantity, time and
/// properties, the properties' keys sorted): a retry of the same event has
/// the same fingerprint, another event reusing its key most likely not.
/// `authorize` events pass no time (each call stamps its own) and no
/// properties.
pub fn fingerprint(
    metric: &str,
    quantity: i64,
    occurred_at: Option<DateTime<Utc>>,
    properties: Option<&serde_json::Value>,
) -> i64 {
    use sha2::{Digest, Sha256};
    fn canonical(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for key in keys {
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push(':');
                    canonical(&map[key], out);
                    out.push(',');
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for item in items {
                    canonical(item, out);
                    out.push(',');
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    // `{}` is what absent properties are stored as: both fingerprint alike
    // (as absent, the form most keys were stored with).
    if let Some(properties) = properties.filter(|p| p.as_object().is_none_or(|o| !o.is_empty())) {
        canonical(properties, &mut text);
    }
    let mut hash = Sha256::new();
    hash.update(metric.as_bytes());
    hash.update([0]);
    hash.update(quantity.to_be_bytes());
    match occurred_at {
        Some(at) => hash.update(at.timestamp_micros().to_be_bytes()),
        None => hash.update(b"authorize"),
    }
    hash.update(text.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Whether a key stored with `stored` (none: before fingerprints were
/// kept) is a duplicate of an event with `fingerprint`, or reused.
pub fn same_content(stored: Option<i64>, fingerprint: i64) -> Stored {
    match stored {
        Some(stored) if stored != fingerprint => Stored::KeyReused,
        _ => Stored::Duplicate,
    }
}

/// Stores `events` (all of `tenant`, inside its transaction); a metric
/// missing from `rules` is summed. Returns what became of each, in order.
pub async fn write(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    events: &[NewUsageEvent],
    rules: &HashMap<String, Aggregation>,
) -> QueryResult<Vec<Stored>> {
    let outcome = claim(conn, tenant, events).await?;
    append(conn, tenant, events, &outcome, rules, None).await?;
    Ok(outcome)
}

/// Claims the idempotency keys of `events` (all of `tenant`, inside its
/// transaction): what becomes of each, in order. A key given twice in the
/// batch is claimed once, by its first event; a key stored before makes
/// its event a duplicate (same content) or a reuse (other content).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    events: &[NewUsageEvent],
) -> QueryResult<Vec<Stored>> {
    let mut outcome = vec![Stored::Recorded; events.len()];
    let mut first: HashMap<_, _, RandomState> = HashMap::default();
    let mut claims = Vec::new();
    // The event each claim is for (its first with that key).
    let mut claimant = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if let Some(idem) = &event.idempotency_key {
            match first.entry((event.environment, idem.as_str())) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(event.fingerprint);
                    claims.push((
                        event.environment,
                        idem.as_str(),
                        event.occurred_at,
                        event.fingerprint,
                    ));
                    claimant.push(i);
                }
                std::collections::hash_map::Entry::Occupied(slot) => {
                    outcome[i] = same_content(Some(*slot.get()), event.fingerprint);
                }
            }
        }
    }
    let taken = rows::claim_keys(conn, tenant, &claims).await?;
    if !taken.is_empty() {
        // Keys stored before: their fingerprints tell a retry from a reuse
        // (one more statement, only when a batch holds such keys).
        let keys: Vec<(&str, &str)> = taken.iter().map(|&n| (claims[n].0, claims[n].1)).collect();
        let stored = rows::key_fingerprints(conn, tenant, &keys).await?;
        for (&n, print) in taken.iter().zip(stored) {
            let i = claimant[n];
            outcome[i] = same_content(print.flatten(), events[i].fingerprint);
        }
    }
    Ok(outcome)
}

/// Appends the events of `events` whose `outcome` is [`Stored::Recorded`]
/// (their keys claimed by [`claim`]) and adds them to the rollups. With
/// `known`, distinct values it holds are not sent; returns the ids of those
/// sent, for the caller to remember once the transaction has committed.
pub async fn append(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    events: &[NewUsageEvent],
    outcome: &[Stored],
    rules: &HashMap<String, Aggregation>,
    known: Option<&KnownDistinct>,
) -> QueryResult<Vec<distinct::Id>> {
    let recorded: Vec<&NewUsageEvent> = events
        .iter()
        .zip(outcome)
        .filter(|(_, o)| **o == Stored::Recorded)
        .map(|(e, _)| e)
        .collect();
    if recorded.is_empty() {
        return Ok(Vec::new());
    }
    rows::insert_events(conn, &recorded).await?;
    update_rollups(conn, tenant, &recorded, rules, known).await
}

/// The rollup buckets an event falls in: hour and day, the tenant's and
/// (when a key sent it) the key's own.
fn buckets(event: &NewUsageEvent) -> impl Iterator<Item = RollupKey<'_>> + '_ {
    let keys = [Some(Uuid::nil()), event.api_key_id];
    [("hour", TimeDelta::hours(1)), ("day", TimeDelta::days(1))]
        .into_iter()
        .flat_map(move |(granularity, width)| {
            let bucket = truncate(event.occurred_at, width);
            keys.into_iter().flatten().map(move |api_key_id| RollupKey {
                environment: event.environment,
                metric: &event.metric,
                granularity,
                api_key_id,
                bucket,
            })
        })
}

fn truncate(at: DateTime<Utc>, width: TimeDelta) -> DateTime<Utc> {
    at.duration_trunc(width).unwrap_or(at)
}

/// Longest value a `unique_count` event may count, in bytes of UTF-8.
pub const MAX_DISTINCT_VALUE_BYTES: usize = 1024;

/// The value a `unique_count` event counts: its property as text (a JSON
/// string's contents, any other JSON value's text), or none when absent.
pub fn distinct_value<'a>(
    event: &'a NewUsageEvent,
    property: &str,
) -> Option<std::borrow::Cow<'a, str>> {
    match event.properties.get(property)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.as_str().into()),
        other => Some(other.to_string().into()),
    }
}

/// What is stored of a distinct value: the first 16 bytes of its SHA-256
/// (as the migration digested the values stored before).
fn digest(value: &str) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut first = [0u8; 16];
    first.copy_from_slice(&Sha256::digest(value.as_bytes())[..16]);
    first
}

async fn update_rollups<'a>(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    events: &[&'a NewUsageEvent],
    rules: &HashMap<String, Aggregation>,
    known: Option<&KnownDistinct>,
) -> QueryResult<Vec<distinct::Id>> {
    // (value, events) per bucket, keys borrowing the events' metrics;
    // BTreeMaps keep the lock order stable.
    let mut additive: BTreeMap<RollupKey<'a>, (i64, i64)> = BTreeMap::new();
    let mut max: BTreeMap<RollupKey<'a>, (i64, i64)> = BTreeMap::new();
    let mut distinct: BTreeSet<(RollupKey<'a>, [u8; 16])> = BTreeSet::new();
    for event in events {
        let rule = rules.get(&event.metric).unwrap_or(&Aggregation::Sum);
        for key in buckets(event) {
            match rule {
                Aggregation::Sum | Aggregation::Count => {
                    let add = if *rule == Aggregation::Sum {
                        event.quantity
                    } else {
                        1
                    };
                    let slot = additive.entry(key).or_default();
                    slot.0 = slot.0.saturating_add(add);
                    slot.1 += 1;
                }
                Aggregation::Max => {
                    let slot = max.entry(key).or_default();
                    slot.0 = slot.0.max(event.quantity);
                    slot.1 += 1;
                }
                Aggregation::UniqueCount(property) => {
                    if let Some(value) = distinct_value(event, property) {
                        distinct.insert((key, digest(&value)));
                    }
                    additive.entry(key).or_default().1 += 1;
                }
            }
        }
    }
    // Values a committed write of this instance stored are not new: only
    // the others are sent (and their ids returned, to remember them).
    let mut sent = Vec::new();
    let mut send = Vec::with_capacity(distinct.len());
    for (key, digest) in distinct {
        if let Some(known) = known {
            let id = distinct::id(tenant, &key, &digest);
            if known.known(id) {
                continue;
            }
            sent.push(id);
        }
        send.push((key, digest));
    }
    if !send.is_empty() {
        for key in rows::insert_distinct(conn, tenant, &send).await? {
            additive.entry(key).or_default().0 += 1;
        }
    }
    let flat = |map: BTreeMap<RollupKey<'a>, (i64, i64)>| -> Vec<(RollupKey<'a>, i64, i64)> {
        map.into_iter().map(|(k, (v, n))| (k, v, n)).collect()
    };
    rows::upsert_rollups(conn, tenant, &flat(additive), false).await?;
    rows::upsert_rollups(conn, tenant, &flat(max), true).await?;
    Ok(sent)
}
