//! Events: every state change makes one (`evt_…`), with a snapshot of the
//! object as it is at that moment, `previous_attributes` for `*.updated` (the
//! top-level fields that changed, with their old values, as Stripe sends
//! them), and the request that caused it. A new event is queued for every
//! webhook endpoint, or held for a test to deliver.

use serde_json::{Map, Value, json};

use super::state::{Event, State, new_id};

/// The API version events are rendered in (async-stripe 1.0.0-rc.10's).
pub const API_VERSION: &str = "2026-09-30.endive";

/// Records an event of `event_type` about `object` and queues it.
pub fn emit(state: &mut State, event_type: &str, object: Value, previous: Option<Value>) -> String {
    let id = new_id("evt_", 24);
    let event = Event {
        id: id.clone(),
        event_type: event_type.to_owned(),
        created: state.now(),
        object,
        previous_attributes: previous,
        request_id: state.origin.request_id.clone(),
        idempotency_key: state.origin.idempotency_key.clone(),
        pending_webhooks: state.endpoints.len(),
        attempts: 0,
    };
    state.events.push(event);
    state.count("events.created");
    if state.holding {
        state.held.push(id.clone());
    } else {
        for endpoint in 0..state.endpoints.len() {
            state.queue.push_back((endpoint, id.clone()));
        }
    }
    id
}

/// Records a `*.updated` event when `after` differs from `before` (nothing
/// when they are the same); `previous_attributes` holds the old values of
/// the top-level fields that changed.
pub fn updated(state: &mut State, event_type: &str, before: &Value, after: Value) {
    let previous = previous_attributes(before, &after);
    if previous.is_empty() {
        return;
    }
    emit(state, event_type, after, Some(Value::Object(previous)));
}

/// The top-level fields of `before` that `after` changed, with their old values.
pub fn previous_attributes(before: &Value, after: &Value) -> Map<String, Value> {
    let (Value::Object(before), Value::Object(after)) = (before, after) else {
        return Map::new();
    };
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| (k.clone(), before.get(k).cloned().unwrap_or(Value::Null)))
        .collect()
}

/// An event as Stripe sends it.
pub fn render(event: &Event) -> Value {
    let mut data = json!({ "object": event.object });
    if let Some(previous) = &event.previous_attributes {
        data["previous_attributes"] = previous.clone();
    }
    json!({
        "id": event.id,
        "object": "event",
        "api_version": API_VERSION,
        "created": event.created,
        "data": data,
        "livemode": false,
        "pending_webhooks": event.pending_webhooks,
        "request": {
            "id": event.request_id,
            "idempotency_key": event.idempotency_key,
        },
        "type": event.event_type,
    })
}

/// A held event, as a test sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventSummary {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created: i64,
    /// The id of the object the event is about.
    pub object_id: Option<String>,
    /// Delivery attempts so far.
    pub attempts: u32,
}

impl EventSummary {
    pub fn of(event: &Event) -> Self {
        Self {
            id: event.id.clone(),
            event_type: event.event_type.clone(),
            created: event.created,
            object_id: event.object["id"].as_str().map(str::to_owned),
            attempts: event.attempts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_attributes_hold_old_values_of_changed_fields() {
        let before = json!({"status": "trialing", "items": {"data": [1]}, "id": "sub_1"});
        let after = json!({"status": "active", "items": {"data": [2]}, "id": "sub_1"});
        let previous = previous_attributes(&before, &after);
        assert_eq!(
            Value::Object(previous),
            json!({"status": "trialing", "items": {"data": [1]}})
        );
        assert!(previous_attributes(&after, &after).is_empty());
    }
}
