//! The rules one usage event obeys on its own (before the catalogue and
//! the database are asked): its fields parsed from what was sent, then
//! checked, each refusal naming its field.

use chrono::{DateTime, TimeDelta, Utc};

use super::MAX_QUANTITY;
use super::ingest::{EventInput, EventRefusal, refused};
use super::partitions::MAX_AGE;

/// Largest properties object, as compact JSON.
pub const MAX_PROPERTIES_BYTES: usize = 4096;
/// Deepest nesting of properties (the object itself is level 1).
pub const MAX_PROPERTIES_DEPTH: usize = 4;
/// Most keys of one properties object (at any level).
pub const MAX_PROPERTIES_KEYS: usize = 32;
/// How far in the future an event's time may be (clock skew).
pub const MAX_AHEAD: TimeDelta = TimeDelta::minutes(5);

/// An event's `quantity` as sent (any JSON value): a whole number, else a
/// refusal of that event naming `quantity`.
pub fn parse_quantity(value: &serde_json::Value) -> Result<i64, EventRefusal> {
    value.as_i64().ok_or_else(|| {
        refused(
            "quantity",
            format!("must be a whole number between 1 and {MAX_QUANTITY}"),
        )
    })
}

/// An event's `occurredAt` as sent (any JSON value): an RFC 3339 date-time
/// with an offset, else a refusal of that event naming `occurredAt`.
pub fn parse_occurred_at(value: &serde_json::Value) -> Result<DateTime<Utc>, EventRefusal> {
    parse_occurred_at_str(value.as_str().unwrap_or_default())
}

/// [`parse_occurred_at`] of a JSON string's contents.
pub fn parse_occurred_at_str(text: &str) -> Result<DateTime<Utc>, EventRefusal> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            refused(
                "occurredAt",
                "must be an RFC 3339 date-time with an offset, e.g. 2026-12-06T10:00:00Z",
            )
        })
}

/// Checks one event on its own (the catalogue is checked in the database).
pub(super) fn check(event: &EventInput, now: DateTime<Utc>) -> Result<(), EventRefusal> {
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
