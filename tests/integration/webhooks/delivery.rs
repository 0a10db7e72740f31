//! Delivery, checked by the Standard Webhooks reference library in the Node
//! receiver: signatures, the body, the schedule on an advanced clock,
//! `Retry-After`, 410, five days of failures, replay, rotation, outbox
//! atomicity, tenants apart, two instances.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};
use tenantgate::error::AppError;
use tenantgate::tenancy::Scope;
use tenantgate::webhooks::EventType;
use tenantgate::webhooks::deliver::SCHEDULE;
use uuid::Uuid;

use super::receiver::Receiver;
use super::{REPLAY, ROTATE, TEST, create, deliveries};
use crate::support::TestApp;

async fn app() -> TestApp {
    TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await
}

/// Writes an event of `tenant` as the change sites do (runtime role, tenant scope).
pub(crate) async fn emit(app: &TestApp, tenant: &str, ty: EventType, data: Value) -> Uuid {
    let t = Uuid::parse_str(tenant).unwrap();
    app.state
        .db
        .scoped(Scope::tenant(t), |conn| {
            async move { Ok(tenantgate::webhooks::emit(conn, t, ty, data).await?) }.scope_boxed()
        })
        .await
        .unwrap()
}

async fn run(app: &TestApp) -> usize {
    app.state.webhooks.run_once().await.unwrap()
}

fn advance(app: &TestApp, by: Duration) {
    app.state.webhooks.clock().advance(by);
}

fn at(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn deliveries_verify_with_the_reference_library_and_reach_only_their_tenant() {
    let app = app().await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@deliver.test", "Deliver").await;
    let (other_token, _, other) = app.sign_up("owner@deliver-b.test", "Deliver B").await;
    let (all, secret) = create(&app, &token, json!({ "url": format!("{}/ok", rx.url) })).await;
    let (keys_only, _) = create(
        &app,
        &token,
        json!({ "url": format!("{}/keys", rx.url), "eventTypes": ["api_key.created"] }),
    )
    .await;
    let (b_endpoint, b_secret) = create(
        &app,
        &other_token,
        json!({ "url": format!("{}/b", rx.url) }),
    )
    .await;
    rx.secrets(&[&secret]).await;

    let event = emit(
        &app,
        &tenant,
        EventType::MemberJoined,
        json!({ "userId": "u1", "role": "member" }),
    )
    .await;
    assert_eq!(run(&app).await, 1, "one endpoint wants member.joined");
    let log = rx.log().await;
    assert_eq!(log.len(), 1, "{log:?}");
    let got = &log[0];
    assert_eq!(
        got["verified"],
        json!([true]),
        "the reference library accepts it: {got}"
    );
    assert_eq!(got["path"], json!("/ok"));
    assert_eq!(got["id"], json!(event.to_string()));
    assert_eq!(got["contentType"], json!("application/json"));
    assert_eq!(got["body"]["type"], json!("member.joined"));
    assert_eq!(
        got["body"]["data"],
        json!({ "userId": "u1", "role": "member", "tenantId": tenant }),
        "emit adds the tenant's id"
    );
    assert!(got["body"]["timestamp"].as_str().unwrap().ends_with('Z'));
    let d = deliveries(&app, &token, &all).await;
    assert_eq!(d[0]["status"], json!("SUCCEEDED"));
    assert_eq!(d[0]["attempts"][0]["statusCode"], json!(200));
    assert_eq!(d[0]["attempts"][0]["responseExcerpt"], json!("thanks"));
    assert!(deliveries(&app, &token, &keys_only).await.is_empty());

    // A rolled-back change sends nothing.
    let t = Uuid::parse_str(&tenant).unwrap();
    let failed = app
        .state
        .db
        .scoped(Scope::tenant(t), |conn| {
            async move {
                tenantgate::webhooks::emit(conn, t, EventType::MemberRemoved, json!({})).await?;
                Err::<(), _>(AppError::conflict("the change fails after its event"))
            }
            .scope_boxed()
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(run(&app).await, 0);

    // B's event goes to B's endpoint only, signed with B's secret.
    emit(
        &app,
        &other,
        EventType::ApiKeyCreated,
        json!({ "keyId": "k" }),
    )
    .await;
    assert_eq!(run(&app).await, 1);
    let log = rx.log().await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["path"], json!("/b"));
    assert_eq!(
        log[1]["verified"],
        json!([false]),
        "not signed with A's secret"
    );
    rx.secrets(&[&b_secret]).await;
    assert_eq!(deliveries(&app, &other_token, &b_endpoint).await.len(), 1);
    assert_eq!(deliveries(&app, &token, &all).await.len(), 1);

    // Replay (a success too): a new delivery of the same message.
    rx.secrets(&[&secret]).await;
    let a = app
        .gql(REPLAY, json!({ "id": d[0]["id"] }), Some(&token))
        .await;
    assert_eq!(
        a.body["data"]["replayWebhookDelivery"]["eventId"],
        json!(event.to_string()),
        "{:?}",
        a.body
    );
    assert_eq!(run(&app).await, 1);
    let log = rx.log().await;
    assert_eq!(
        (&log[2]["id"], &log[2]["verified"]),
        (&json!(event.to_string()), &json!([true]))
    );
    // A test event, to one endpoint.
    let a = app.gql(TEST, json!({ "id": all }), Some(&token)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    assert_eq!(run(&app).await, 1);
    let log = rx.log().await;
    assert_eq!(log[3]["body"]["type"], json!("webhook.test"));
    // Like every event's, its data names the tenant (review 11).
    assert_eq!(
        log[3]["body"]["data"]["tenantId"],
        json!(tenant),
        "{:?}",
        log[3]
    );
    assert_eq!(log[3]["verified"], json!([true]));
    assert_eq!(log.len(), 4);
}

#[tokio::test]
async fn failures_follow_the_schedule_then_five_days_disable() {
    let app = app().await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@retry.test", "Retry").await;
    let (id, secret) = create(
        &app,
        &token,
        json!({ "url": format!("{}/status/500", rx.url) }),
    )
    .await;
    rx.secrets(&[&secret]).await;
    emit(
        &app,
        &tenant,
        EventType::TenantUpdated,
        json!({ "name": "x" }),
    )
    .await;
    assert_eq!(run(&app).await, 1);
    for (i, delay) in SCHEDULE.iter().enumerate() {
        let d = &deliveries(&app, &token, &id).await[0];
        assert_eq!(d["status"], json!("PENDING"));
        assert_eq!(d["attemptCount"], json!(i + 1));
        let last = at(&d["attempts"][i]["attemptedAt"]);
        let gap = (at(&d["nextAttemptAt"]) - last).num_milliseconds() as f64 / 1000.0;
        let want = delay.as_secs_f64();
        assert!(
            gap >= want * 0.9 && gap <= want * 1.1,
            "retry {i}: {gap} s, want {want} s ± 10 %"
        );
        assert_eq!(d["attempts"][i]["statusCode"], json!(500));
        assert_eq!(
            d["attempts"][i]["error"],
            json!("the receiver answered 500 Internal Server Error")
        );
        // Not due yet; due once the clock passes it.
        assert_eq!(run(&app).await, 0, "retry {i} is not due yet");
        advance(&app, delay.mul_f64(1.11));
        assert_eq!(run(&app).await, 1, "retry {i} is due");
    }
    let d = &deliveries(&app, &token, &id).await[0];
    assert_eq!(
        (&d["status"], &d["attemptCount"]),
        (&json!("FAILED"), &json!(8))
    );
    assert_eq!(d["nextAttemptAt"], json!(null));
    let log = rx.log().await;
    assert_eq!(log.len(), 8);
    assert!(
        log.iter()
            .all(|r| r["verified"] == json!([true]) && r["id"] == log[0]["id"])
    );

    // Still failing 5 days after the first failure: disabled, owners told.
    advance(&app, Duration::from_secs(4 * 86_400));
    emit(
        &app,
        &tenant,
        EventType::TenantUpdated,
        json!({ "name": "y" }),
    )
    .await;
    assert_eq!(run(&app).await, 1);
    let a = app.gql(super::LIST, json!({}), Some(&token)).await;
    let e = &a.body["data"]["tenant"]["webhookEndpoints"][0];
    assert_eq!(e["enabled"], json!(false), "{e}");
    assert_eq!(
        e["disabledReason"],
        json!("every delivery failed for 5 days")
    );
    let mail = app.mail_bodies("owner@retry.test").await;
    assert!(
        mail.iter()
            .any(|m| m.contains("was disabled: every delivery failed for 5 days"))
    );
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    advance(&app, Duration::from_secs(60));
    assert_eq!(run(&app).await, 0, "a disabled endpoint gets nothing");
}

#[tokio::test]
async fn retry_after_is_honoured_and_410_disables_at_once() {
    let app = app().await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@gone.test", "Gone").await;
    let (busy, _) = create(
        &app,
        &token,
        json!({ "url": format!("{}/status/503?retry_after=120", rx.url), "eventTypes": ["member.joined"] }),
    )
    .await;
    let (gone, _) = create(
        &app,
        &token,
        json!({ "url": format!("{}/status/410", rx.url), "eventTypes": ["member.removed"] }),
    )
    .await;
    emit(&app, &tenant, EventType::MemberJoined, json!({})).await;
    emit(&app, &tenant, EventType::MemberRemoved, json!({})).await;
    assert_eq!(run(&app).await, 2);
    emit(&app, &tenant, EventType::MemberRemoved, json!({})).await;
    assert_eq!(run(&app).await, 0, "after a 410 the endpoint gets nothing");
    let d = &deliveries(&app, &token, &busy).await[0];
    let gap = (at(&d["nextAttemptAt"]) - at(&d["attempts"][0]["attemptedAt"])).num_seconds();
    assert_eq!(
        gap, 120,
        "Retry-After: 120 replaces the 5 s of the schedule"
    );
    advance(&app, Duration::from_secs(60));
    assert_eq!(run(&app).await, 0);
    advance(&app, Duration::from_secs(61));
    assert_eq!(run(&app).await, 1);

    let d = deliveries(&app, &token, &gone).await;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (&d[0]["status"], &d[0]["attemptCount"]),
        (&json!("FAILED"), &json!(1))
    );
    let a = app.gql(super::LIST, json!({}), Some(&token)).await;
    let e = a.body["data"]["tenant"]["webhookEndpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == json!(gone))
        .unwrap()
        .clone();
    assert_eq!(
        (&e["enabled"], &e["disabledReason"]),
        (&json!(false), &json!("the receiver answered 410 Gone"))
    );
    let mail = app.mail_bodies("owner@gone.test").await;
    assert!(mail.iter().any(|m| m.contains("410 Gone")), "{mail:?}");
    let audited = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' \
             AND action = 'webhook_endpoint.disable' AND actor_type = 'system'"
        ))
        .await;
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_rotation_sends_both_signatures_for_a_day() {
    let app = app().await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@rotate.test", "Rotate").await;
    let (id, old) = create(&app, &token, json!({ "url": format!("{}/ok", rx.url) })).await;
    let a = app.gql(ROTATE, json!({ "id": id }), Some(&token)).await;
    let new = a.body["data"]["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    rx.secrets(&[&old, &new]).await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(run(&app).await, 1);
    let log = rx.log().await;
    assert_eq!(log[0]["signature"].as_str().unwrap().split(' ').count(), 2);
    assert_eq!(
        log[0]["verified"],
        json!([true, true]),
        "either secret verifies"
    );
    advance(&app, Duration::from_secs(86_400 + 60));
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(run(&app).await, 1);
    let log = rx.log().await;
    assert_eq!(log[1]["signature"].as_str().unwrap().split(' ').count(), 1);
    assert_eq!(
        log[1]["verified"],
        json!([false, true]),
        "only the new secret after 24 h"
    );
}

#[tokio::test]
async fn two_instances_make_each_attempt_once() {
    let app = TestApp::spawn_tuned(|s| {
        s.webhooks.allow_loopback = true;
        s.webhooks.per_endpoint = 8;
    })
    .await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@twice.test", "Twice").await;
    let (_, secret) = create(&app, &token, json!({ "url": format!("{}/ok", rx.url) })).await;
    rx.secrets(&[&secret]).await;
    // A second instance: its own pool, worker and clock, the same database.
    let pool = tenantgate::db::Db::connect(&app.db.app_url, &Default::default()).unwrap();
    let mailer = tenantgate::mail::Mailer {
        log_bodies: false,
        public_url: app.url.clone(),
        sealer: tenantgate::mail::Sealer::new(&app.state.keys),
    };
    let second = tenantgate::webhooks::Webhooks::new(
        pool,
        app.state.settings.webhooks.clone(),
        &app.state.keys,
        mailer,
    );
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(emit(&app, &tenant, EventType::MemberJoined, json!({ "n": i })).await);
    }
    let stop = tenantgate::usage::Stop::default();
    let workers = [
        app.state.webhooks.start_worker(stop.clone()),
        second.start_worker(stop.clone()),
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while rx.count().await < 60 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.stop();
    for w in workers {
        w.await.unwrap();
    }
    let log = rx.log().await;
    let mut got: Vec<String> = log
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    want.sort();
    assert_eq!(
        got, want,
        "each event delivered exactly once across both instances"
    );
    assert!(log.iter().all(|r| r["verified"] == json!([true])));
    let attempts = app
        .db
        .count("SELECT count(*) AS n FROM webhook_attempts")
        .await;
    assert_eq!(attempts, 60);
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_the_others() {
    // 6 slots, at most 4 to one endpoint: a receiver that answers in 10 s
    // holds 4 of them; the other endpoint's deliveries go through the rest,
    // all 8 before the slow one's first answer (so before its fifth request).
    let app = TestApp::spawn_tuned(|s| {
        s.webhooks.allow_loopback = true;
        s.webhooks.concurrency = 6;
        s.webhooks.per_endpoint = 4;
    })
    .await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@slow.test", "Slow").await;
    create(
        &app,
        &token,
        json!({ "url": format!("{}/slow?delay_ms=10000", rx.url), "eventTypes": ["member.joined"] }),
    )
    .await;
    create(
        &app,
        &token,
        json!({ "url": format!("{}/fast", rx.url), "eventTypes": ["member.removed"] }),
    )
    .await;
    for _ in 0..8 {
        emit(&app, &tenant, EventType::MemberJoined, json!({})).await;
    }
    for _ in 0..8 {
        emit(&app, &tenant, EventType::MemberRemoved, json!({})).await;
    }
    let stop = tenantgate::usage::Stop::default();
    let worker = app.state.webhooks.start_worker(stop.clone());
    let started = std::time::Instant::now();
    let fast_done = loop {
        let log = rx.log().await;
        if log.iter().filter(|r| r["path"] == json!("/fast")).count() == 8 {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the fast endpoint waited"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let slow_seen = rx
        .log()
        .await
        .iter()
        .filter(|r| r["path"] == json!("/slow"))
        .count();
    assert!(
        fast_done < Duration::from_secs(10),
        "the fast endpoint's 8 deliveries took {fast_done:?}"
    );
    assert!(
        slow_seen <= 4,
        "at most 4 attempts in flight to the slow one: {slow_seen}"
    );
    stop.stop();
    worker.await.unwrap();
}
