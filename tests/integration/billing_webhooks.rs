//! `/webhooks/stripe` intake, without Stripe: what is refused is refused before
//! anything is stored, and what is stored is stored once. (What an event then
//! does is proven through the simulator in `billing.rs`.)

use std::time::Duration;

use serde_json::{Value, json};
use stripe_webhook::Webhook;
use tenantgate::config::BillingConfig;

use crate::matrix::text;
use crate::support::TestApp;

const SECRET: &str = "whsec_intake_test_secret";
const NEXT_SECRET: &str = "whsec_intake_rotated_secret";

fn config(secrets: &[&str]) -> BillingConfig {
    BillingConfig {
        secret_key: "sk_test_intake".into(),
        webhook_secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
        // Nothing listens there: intake must not need Stripe.
        api_base: Some("http://127.0.0.1:9".into()),
        timeout: Duration::from_millis(200),
        reconcile_every: Duration::from_secs(3600),
    }
}

fn event(id: &str, kind: &str) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": chrono::Utc::now().timestamp(),
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind,
        "data": { "object": {
            "id": "sub_intake", "object": "subscription", "customer": "cus_nobody"
        } }
    })
    .to_string()
}

async fn post(app: &TestApp, body: &str, signature: Option<&str>) -> (u16, Value) {
    let mut req = app
        .client
        .post(format!("{}/webhooks/stripe", app.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        req = req.header("stripe-signature", signature);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn stored(app: &TestApp) -> i64 {
    let mut db = app.db.owner().await;
    text(&mut db, "SELECT count(*)::text AS s FROM stripe_events")
        .await
        .parse()
        .unwrap()
}

#[tokio::test]
async fn bad_signatures_are_refused_and_store_nothing() {
    let app = TestApp::spawn_tuned(|s| s.billing = Some(config(&[SECRET]))).await;
    let body = event("evt_refused", "customer.subscription.updated");
    let now = chrono::Utc::now().timestamp();
    let tampered = body.replace("sub_intake", "sub_intakX");
    let good = Webhook::generate_test_header(&body, SECRET, Some(now));
    let cases: Vec<(&str, String, Option<String>)> = vec![
        ("no signature", body.clone(), None),
        ("tampered body", tampered, Some(good.clone())),
        (
            "wrong secret",
            body.clone(),
            Some(Webhook::generate_test_header(
                &body,
                "whsec_wrong",
                Some(now),
            )),
        ),
        (
            "stale timestamp (301 s)",
            body.clone(),
            Some(Webhook::generate_test_header(
                &body,
                SECRET,
                Some(now - 301),
            )),
        ),
        (
            "timestamp from the future (330 s: a margin for a slow run, since `now` is read once)",
            body.clone(),
            Some(Webhook::generate_test_header(
                &body,
                SECRET,
                Some(now + 330),
            )),
        ),
        ("garbage header", body.clone(), Some("t=abc,v1=zz".into())),
        ("v0 only", body.clone(), Some(good.replace("v1=", "v0="))),
        ("empty header", body.clone(), Some(String::new())),
    ];
    for (what, body, signature) in cases {
        let (status, answer) = post(&app, &body, signature.as_deref()).await;
        assert_eq!(status, 400, "{what}: {answer}");
    }
    assert_eq!(stored(&app).await, 0, "a refused delivery stored an event");

    // Signed correctly but not an event: refused too.
    for body in [
        "not json",
        "{}",
        r#"{"id":"nope","type":"x","created":1,"data":{"object":{}}}"#,
    ] {
        let sig = Webhook::generate_test_header(body, SECRET, None);
        let (status, answer) = post(&app, body, Some(&sig)).await;
        assert_eq!(status, 400, "{body}: {answer}");
    }
    assert_eq!(stored(&app).await, 0);

    // Larger than 256 KiB: refused before verification.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    let sig = Webhook::generate_test_header(&big, SECRET, None);
    let (status, _) = post(&app, &big, Some(&sig)).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn an_event_is_stored_once_and_any_type_is_accepted() {
    let app = TestApp::spawn_tuned(|s| s.billing = Some(config(&[SECRET, NEXT_SECRET]))).await;
    let body = event("evt_once", "customer.subscription.updated");
    let sig = Webhook::generate_test_header(&body, SECRET, None);
    let (status, answer) = post(&app, &body, Some(&sig)).await;
    assert_eq!(
        (status, answer["new"].clone()),
        (200, json!(true)),
        "{answer}"
    );
    // Redelivered (Stripe retries; an attacker replays within 300 s): no second row.
    for _ in 0..3 {
        let (status, answer) = post(&app, &body, Some(&sig)).await;
        assert_eq!(
            (status, answer["new"].clone()),
            (200, json!(false)),
            "{answer}"
        );
    }
    assert_eq!(stored(&app).await, 1);

    // During a secret rotation either secret may sign; a header carrying
    // several v1 values passes when any matches.
    let body = event("evt_rotated", "invoice.paid");
    let sig = Webhook::generate_test_header(&body, NEXT_SECRET, None);
    let (status, answer) = post(&app, &body, Some(&sig)).await;
    assert_eq!(status, 200, "{answer}");
    let body = event("evt_two_sigs", "invoice.paid");
    let good = Webhook::generate_test_header(&body, SECRET, None);
    let (t, v1) = good.split_once(",").unwrap();
    let both = format!("{t},v1={},{v1}", "0".repeat(64));
    let (status, answer) = post(&app, &body, Some(&both)).await;
    assert_eq!(status, 200, "{answer}");

    // A type we do not handle is answered 2xx (Stripe disables endpoints that
    // keep failing) and kept.
    let body = event("evt_unhandled", "radar.early_fraud_warning.created");
    let sig = Webhook::generate_test_header(&body, SECRET, None);
    let (status, _) = post(&app, &body, Some(&sig)).await;
    assert_eq!(status, 200);
    assert_eq!(stored(&app).await, 4);
}

#[tokio::test]
async fn with_billing_off_the_endpoint_is_not_there() {
    let app = TestApp::spawn().await;
    let body = event("evt_off", "invoice.paid");
    let sig = Webhook::generate_test_header(&body, SECRET, None);
    let (status, _) = post(&app, &body, Some(&sig)).await;
    assert_eq!(status, 404);
}
