//! The metric catalogue: anyone reads it; platform admins add and rename
//! metrics (every bad input refused with the field, nothing written; each
//! change audited); every instance sees a change at once; a new metric can be
//! recorded.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tenantgate::usage::limits::Limiter;

use crate::matrix::no_errors;
use crate::plans::{eventually, platform_admin};
use crate::support::TestApp;

const LIST: &str = "{ metrics { key name unit aggregation uniqueProperty } }";
const CREATE: &str = "mutation($i: CreateMetricInput!) { createMetric(input: $i) { key name unit aggregation uniqueProperty } }";
const UPDATE: &str = "mutation($k: String!, $i: UpdateMetricInput!) { updateMetric(key: $k, input: $i) { key name unit } }";

#[tokio::test]
async fn admins_manage_metrics_every_bad_input_changes_nothing() {
    let app = TestApp::spawn().await;
    let a = app.gql(LIST, json!({}), None).await;
    assert_eq!(
        a.body["data"]["metrics"],
        json!([{ "key": "api_calls", "name": "API calls", "unit": "calls", "aggregation": "SUM", "uniqueProperty": null }])
    );
    let admin = platform_admin(&app, "staff@metrics.test").await;
    let good = json!({ "key": "seats", "name": "Active users", "unit": "users", "aggregation": "UNIQUE_COUNT", "uniqueProperty": "user" });
    let with = |field: &str, value: serde_json::Value| {
        let mut i = good.clone();
        i[field] = value;
        i
    };
    for (input, field) in [
        (with("key", json!("Seats")), "key"),
        (with("key", json!("x".repeat(65))), "key"),
        (with("name", json!("  ")), "name"),
        (with("unit", json!("u".repeat(33))), "unit"),
        (with("name", json!("a\u{202e}b")), "name"),
        (with("uniqueProperty", json!(null)), "uniqueProperty"),
        (with("uniqueProperty", json!("9bad")), "uniqueProperty"),
        (with("aggregation", json!("SUM")), "uniqueProperty"),
    ] {
        let a = app.gql(CREATE, json!({ "i": input }), Some(&admin)).await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{input}: {:?}", a.body);
        let named = a.body["errors"][0]["extensions"]["field"]
            .as_str()
            .unwrap_or("");
        // The request's boundary check names it by its path (variables.i.name).
        assert!(
            named == field || named.ends_with(&format!(".{field}")),
            "{input}: {named}"
        );
    }
    assert_eq!(app.db.count("SELECT count(*) AS n FROM metrics").await, 1);
    // A tenant's owner is no platform admin.
    let (owner, _, _) = app.sign_up("owner@metrics.test", "Metered").await;
    let a = app.gql(CREATE, json!({ "i": good }), Some(&owner)).await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);

    let a = app.gql(CREATE, json!({ "i": good }), Some(&admin)).await;
    assert!(no_errors(&a), "{:?}", a.body);
    assert_eq!(
        a.body["data"]["createMetric"]["aggregation"],
        "UNIQUE_COUNT"
    );
    let a = app.gql(CREATE, json!({ "i": good }), Some(&admin)).await;
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);
    let a = app
        .gql(
            UPDATE,
            json!({ "k": "seats", "i": { "unit": "people" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        a.body["data"]["updateMetric"]["unit"], "people",
        "{:?}",
        a.body
    );
    let a = app
        .gql(
            UPDATE,
            json!({ "k": "nope", "i": { "name": "X" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(a.code(), "NOT_FOUND", "{:?}", a.body);
    let a = app
        .gql(UPDATE, json!({ "k": "seats", "i": {} }), Some(&admin))
        .await;
    assert_eq!(a.code(), "BAD_USER_INPUT", "{:?}", a.body);
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM audit_log WHERE tenant_id IS NULL AND target_id = 'seats' AND action IN ('metric.create', 'metric.update')")
            .await,
        2
    );

    // The owner's tenant records the new metric: distinct users per bucket.
    let events: Vec<_> = ["ann", "bob", "ann"]
        .iter()
        .enumerate()
        .map(|(i, u)| {
            json!({ "metric": "seats", "quantity": 1, "occurredAt": Utc::now().to_rfc3339(),
                               "idempotencyKey": format!("s{i}"), "properties": { "user": u } })
        })
        .collect();
    let a = app
        .gql(crate::usage::RECORD, json!({ "e": events }), Some(&owner))
        .await;
    assert_eq!(a.body["data"]["recordUsage"]["recorded"], 3, "{:?}", a.body);
    assert_eq!(
        app.db
            .count("SELECT value AS n FROM usage_rollups WHERE metric = 'seats' AND granularity = 'day' AND api_key_id = '00000000-0000-0000-0000-000000000000'")
            .await,
        2
    );
}

#[tokio::test]
async fn a_new_metric_reaches_another_instance_at_once() {
    let app = TestApp::spawn().await;
    let peer = app.peer(Limiter::local()).await;
    let admin = platform_admin(&app, "staff@peer-metrics.test").await;
    assert!(
        eventually(Duration::from_secs(5), async || {
            app.state.usage.metrics().is_live() && peer.state.usage.metrics().is_live()
        })
        .await
    );
    let count = async |at: &TestApp| -> usize {
        let a = at.gql(LIST, json!({}), None).await;
        a.body["data"]["metrics"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(count(&peer).await, 1);
    let loads = peer.state.usage.metrics().loads();
    assert_eq!(count(&peer).await, 1);
    assert_eq!(peer.state.usage.metrics().loads(), loads, "read again");
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "key": "jobs", "name": "Jobs", "unit": "jobs", "aggregation": "COUNT" } }),
            Some(&admin),
        )
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    assert_eq!(count(&app).await, 2);
    assert!(eventually(Duration::from_secs(2), async || count(&peer).await == 2).await);
    drop(peer);
}
