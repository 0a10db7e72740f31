//! The webhook outbox is written by the changes themselves: each change of
//! issue 14's list writes its event (`webhook_events`, read here as the
//! database owner) in its own transaction, with the documented `data`
//! (docs/webhooks.md), in its own tenant only; a refused or rolled-back
//! change writes none.
//!
//! `team.rs`: members and invitations; `keys_tenant.rs`: API keys, the
//! tenant's settings, suspension and deletion, and rollbacks;
//! `billing_usage.rs`: the subscription (through the Stripe simulator) and
//! usage thresholds; `tenant_changes.rs`: `tenant.updated` for plans,
//! origins and custom domains; `thresholds.rs`: usage thresholds written in the
//! transaction of the usage that crosses them.

mod billing_usage;
mod keys_tenant;
mod team;
mod tenant_changes;
mod thresholds;

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::matrix::no_errors;
use crate::support::{Answer, TestApp};

/// One stored event: its type and its `data`.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub kind: String,
    pub data: Value,
}

/// The events of `tenant`, oldest first (as the database owner). Every
/// one, of every family, names `tenant` as its `tenantId`.
pub(crate) async fn events(app: &TestApp, tenant: &str) -> Vec<Event> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        event_type: String,
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        payload: Value,
    }
    let mut owner = app.db.owner().await;
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT event_type, payload FROM webhook_events
         WHERE tenant_id = $1::uuid ORDER BY created_at, id",
    )
    .bind::<diesel::sql_types::Text, _>(tenant)
    .load(&mut owner)
    .await
    .unwrap();
    for r in &rows {
        assert_eq!(
            r.payload["tenantId"], tenant,
            "{} names its tenant",
            r.event_type
        );
    }
    rows.into_iter()
        .map(|r| Event {
            kind: r.event_type,
            data: r.payload,
        })
        .collect()
}

/// The types of `tenant`'s events, oldest first.
pub(crate) async fn kinds(app: &TestApp, tenant: &str) -> Vec<String> {
    events(app, tenant)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// The events of `tenant` after the first `seen`.
pub(crate) async fn since(app: &TestApp, tenant: &str, seen: usize) -> Vec<Event> {
    events(app, tenant).await.into_iter().skip(seen).collect()
}

/// Every event of the whole database.
pub(crate) async fn total(app: &TestApp) -> i64 {
    app.db
        .count("SELECT count(*) AS n FROM webhook_events")
        .await
}

/// Asserts `a` has no errors and returns its data.
pub(crate) fn ok(a: &Answer, what: &str) -> Value {
    assert!(no_errors(a), "{what}: {:?}", a.body);
    a.body["data"].clone()
}

/// The signed-in user's id.
pub(crate) async fn my_id(app: &TestApp, token: &str) -> String {
    let a = app
        .gql("{ viewer { user { id } } }", json!({}), Some(token))
        .await;
    ok(&a, "viewer")["viewer"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every key of `v`, at any depth.
fn all_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.to_lowercase());
                all_keys(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

/// Asserts no event's `data` holds `secret` (nor any token or hash field, at
/// any depth).
pub(crate) fn holds_no_secret(events: &[Event], secret: &str) {
    for e in events {
        let text = e.data.to_string();
        assert!(!text.contains(secret), "{} leaks a secret: {text}", e.kind);
        let mut keys = Vec::new();
        all_keys(&e.data, &mut keys);
        for forbidden in ["secret", "hash", "token"] {
            assert!(
                !keys.iter().any(|k| k.contains(forbidden)),
                "{} has a {forbidden} field: {text}",
                e.kind
            );
        }
    }
}

#[test]
fn holds_no_secret_looks_at_every_depth() {
    let nested = Event {
        kind: "api_key.created".into(),
        data: serde_json::json!({ "key": { "tokenHash": "x" } }),
    };
    let r = std::panic::catch_unwind(|| holds_no_secret(&[nested], "not-there"));
    assert!(r.is_err(), "a nested token field is caught");
}
