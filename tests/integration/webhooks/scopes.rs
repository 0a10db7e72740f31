//! A key with `webhooks:write` reaches only the events its scopes read: it
//! may not narrow, widen or re-point an endpoint that hears a type it may not
//! read, nor re-point one while deliveries of such a type are pending, nor
//! replay a delivery of such a type (the review's four-step exfiltration).

use serde_json::json;
use tenantgate::webhooks::EventType;

use super::delivery::emit;
use super::receiver::Receiver;
use super::{REPLAY, UPDATE, create, deliveries};
use crate::keys::create_key;
use crate::support::TestApp;

#[tokio::test]
async fn a_key_cannot_exfiltrate_events_its_scopes_cannot_read() {
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let rx = Receiver::start().await;
    let (owner, _, tenant) = app.sign_up("owner@exfil.test", "Exfil").await;
    let (_, key) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["WEBHOOKS_WRITE", "WEBHOOKS_READ", "MEMBERS_READ", "TENANT_READ"] }),
    )
    .await;
    // The owner's endpoint F hears every event; one billing event delivered.
    let (f, _) = create(&app, &owner, json!({ "url": format!("{}/f", rx.url) })).await;
    emit(
        &app,
        &tenant,
        EventType::SubscriptionUpdated,
        json!({ "plan": "pro" }),
    )
    .await;
    emit(&app, &tenant, EventType::MemberJoined, json!({})).await;
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 2);
    let update = |input: serde_json::Value| {
        let (app, key, f) = (&app, &key, &f);
        async move {
            let mut input = input;
            input["id"] = json!(f);
            app.gql(UPDATE, json!({ "i": input }), Some(key)).await
        }
    };
    // (1) Narrowing F to a type the key reads: refused, F hears billing.
    let a = update(json!({ "eventTypes": ["member.joined"] })).await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    // (2) Re-pointing F: refused.
    let a = update(json!({ "url": "https://attacker.example.com/" })).await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    // (3) The log lists the billing delivery (payload redacted)...
    let log = deliveries(&app, &key, &f).await;
    let billing = log
        .iter()
        .find(|d| d["eventType"] == json!("subscription.updated"))
        .expect("listed");
    let member = log
        .iter()
        .find(|d| d["eventType"] == json!("member.joined"))
        .expect("listed");
    // (4) ...but the key may not replay it; a type it reads, it may.
    let a = app
        .gql(REPLAY, json!({ "id": billing["id"] }), Some(&key))
        .await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    let a = app
        .gql(REPLAY, json!({ "id": member["id"] }), Some(&key))
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 1);

    // The owner narrows F to member.joined while a billing delivery is
    // pending: the key may not re-point F until it is no longer pending.
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "id": f, "eventTypes": ["member.joined"] } }),
            Some(&owner),
        )
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let a = app
        .gql(REPLAY, json!({ "id": billing["id"] }), Some(&owner))
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let a = update(json!({ "url": "https://attacker.example.com/" })).await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    let message = a.body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("pending"), "{message}");
    // Delivered where the owner meant: now the key may re-point F.
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 1);
    let a = update(json!({ "url": format!("{}/g", rx.url) })).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    // Nothing but member.joined ever went to /g; billing only to /f.
    let sent = rx.log().await;
    let billing_to: Vec<_> = sent
        .iter()
        .filter(|l| l["body"]["type"] == json!("subscription.updated"))
        .map(|l| l["path"].clone())
        .collect();
    assert_eq!(billing_to, vec![json!("/f"), json!("/f")], "{sent:?}");
}
