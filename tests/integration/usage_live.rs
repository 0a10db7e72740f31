//! `usageUpdated` over graphql-transport-ws: a subscriber on one instance
//! sees usage recorded on another (recordUsage, `POST /v1/usage`, the
//! `authorize` buffer), a burst gives a few pushes ending with the final
//! count, at most one NOTIFY per tenant per 250 ms, another tenant's usage
//! never reaches it, only members of the active tenant subscribe, and the
//! feed ends when the session does.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tenantgate::usage::limits::Limiter;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::keys::{create_key, v1};
use crate::matrix::join;
use crate::support::TestApp;
use crate::usage::RECORD;

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const SUBSCRIBE: &str = "subscription { usageUpdated { metric used limit percent resetsAt } }";

/// Gives the free plan (every new tenant's) a monthly quota of `limit`
/// `api_calls` on every instance in `apps` (the first owns the database).
async fn free_quota(apps: &[&TestApp], limit: i64) {
    apps[0]
        .db
        .count(&format!(
            "WITH v AS (UPDATE plans SET monthly_quotas = '{{\"api_calls\": {limit}}}' \
             WHERE key = 'free' RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    for app in apps {
        app.state.plans.invalidate();
    }
}

/// A new tenant: its owner's token, its id and a live `usage:write` key.
async fn tenant(app: &TestApp, email: &str) -> (String, String, String) {
    let (owner, _, tenant) = app.sign_up(email, "Live usage").await;
    let (_, key) = create_key(
        app,
        &owner,
        json!({ "scopes": ["USAGE_WRITE"], "environment": "LIVE" }),
    )
    .await;
    (owner, tenant, key)
}

/// Records `n` events of `quantity` `api_calls` in one `recordUsage` call.
async fn record(app: &TestApp, key: &str, n: usize, quantity: i64) {
    let events: Vec<Value> = (0..n)
        .map(|_| {
            json!({
                "metric": "api_calls",
                "quantity": quantity,
                "occurredAt": Utc::now().to_rfc3339(),
                "idempotencyKey": uuid::Uuid::new_v4().to_string(),
            })
        })
        .collect();
    let a = app.gql(RECORD, json!({ "e": events }), Some(key)).await;
    assert_eq!(a.body["data"]["recordUsage"]["recorded"], n, "{:?}", a.body);
}

/// Opens a socket, completes `connection_init` with `payload`.
pub(crate) async fn connect(app: &TestApp, payload: Value) -> Socket {
    let mut request = (app.url.replace("http://", "ws://") + "/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    socket
}

pub(crate) async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

/// A socket of `token` (acting in `tenant`, when given) subscribed to
/// `usageUpdated`.
async fn subscribe(app: &TestApp, token: &str, tenant: Option<&str>) -> Socket {
    let mut payload = json!({ "Authorization": format!("Bearer {token}") });
    if let Some(tenant) = tenant {
        payload["X-Tenant-ID"] = json!(tenant);
    }
    let mut socket = connect(app, payload).await;
    let ack = next(&mut socket, Duration::from_secs(10)).await.unwrap();
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
    )
    .await;
    socket
}

/// The next message within `within` (pings skipped; `None`: nothing came).
pub(crate) async fn next(socket: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return None,
            Ok(Some(Ok(Message::Text(text)))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] != "ping" {
                    return Some(value);
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Some(json!({ "closed": frame.map(|f| u16::from(f.code)) }));
            }
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("socket ended: {other:?}"),
        }
    }
}

/// `used` of `api_calls` in a `next` message.
fn used(message: &Value) -> i64 {
    assert_eq!(message["type"], "next", "{message}");
    let quotas = message["payload"]["data"]["usageUpdated"]
        .as_array()
        .unwrap_or_else(|| panic!("{message}"));
    let quota = quotas
        .iter()
        .find(|q| q["metric"] == "api_calls")
        .unwrap_or_else(|| panic!("{message}"));
    quota["used"].as_i64().unwrap()
}

/// The next push, which must come within 5 s.
async fn push(socket: &mut Socket) -> Value {
    next(socket, Duration::from_secs(5))
        .await
        .expect("no push within 5 s")
}

#[tokio::test]
async fn a_subscriber_sees_usage_recorded_on_another_instance() {
    let app = TestApp::spawn().await;
    let peer = app.peer(Limiter::local()).await;
    free_quota(&[&app, &peer], 1000).await;
    let (owner, _, key) = tenant(&app, "live@usage.test").await;
    let (_, _, other_key) = tenant(&app, "other@usage.test").await;

    let mut socket = subscribe(&app, &owner, None).await;
    let first = push(&mut socket).await;
    assert_eq!(used(&first), 0);
    let quota = &first["payload"]["data"]["usageUpdated"][0];
    assert_eq!(quota["limit"], 1000, "{first}");
    assert_eq!(quota["percent"], 0.0, "{first}");
    let resets_at = tenantgate::usage::quotas::period(Utc::now()).1;
    let pushed_reset: chrono::DateTime<Utc> = quota["resetsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(pushed_reset, resets_at);

    // recordUsage on the other instance.
    record(&peer, &key, 3, 5).await;
    assert_eq!(used(&push(&mut socket).await), 15);

    // POST /v1/usage on the other instance.
    let a = peer
        .send(
            peer.client
                .post(format!("{}/v1/usage", peer.url))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {key}"))
                .body(
                    json!({ "events": [{ "metric": "api_calls", "quantity": 10,
                        "occurredAt": Utc::now().to_rfc3339(), "idempotencyKey": "v1-usage-1" }] })
                    .to_string(),
                ),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let message = push(&mut socket).await;
    assert_eq!(used(&message), 25);
    assert_eq!(
        message["payload"]["data"]["usageUpdated"][0]["percent"], 2.5,
        "{message}"
    );

    // The authorize buffer of the other instance, once it is written.
    for _ in 0..2 {
        let a = v1(&peer, &key, json!({ "metric": "api_calls" })).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    peer.state.usage.flush(&peer.state.db).await.unwrap();
    assert_eq!(used(&push(&mut socket).await), 27);

    // Another tenant's usage never reaches this subscriber (a burst of it,
    // on both instances), and a test key's usage changes no quota.
    record(&peer, &other_key, 20, 3).await;
    record(&app, &other_key, 20, 3).await;
    let (_, test_key) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["USAGE_WRITE"], "environment": "TEST" }),
    )
    .await;
    record(&peer, &test_key, 5, 100).await;
    let quiet = next(&mut socket, Duration::from_millis(1500)).await;
    assert!(
        quiet.is_none(),
        "pushed without a change of its own: {quiet:?}"
    );
    record(&peer, &key, 1, 1).await;
    assert_eq!(used(&push(&mut socket).await), 28);
    drop(peer);
}

#[tokio::test]
async fn a_burst_gives_a_few_pushes_ending_with_the_final_count() {
    let app = TestApp::spawn().await;
    let peer = app.peer(Limiter::local()).await;
    free_quota(&[&app, &peer], 1_000_000).await;
    let (owner, tenant_id, key) = tenant(&app, "burst@usage.test").await;

    // Every announcement of this tenant, as PostgreSQL delivers them.
    let mut listener = tenantgate::db::notify::connect(&app.db.url, "usage_live_test")
        .await
        .unwrap();
    tenantgate::db::notify::listen(&mut listener, tenantgate::usage::live::CHANNEL)
        .await
        .unwrap();

    let mut socket = subscribe(&app, &owner, None).await;
    assert_eq!(used(&push(&mut socket).await), 0);

    // 50 batches of 2 events, 10 at a time, on the other instance.
    let started = Instant::now();
    for _ in 0..5 {
        join_all((0..10).map(|_| record(&peer, &key, 2, 1))).await;
    }
    let burst = started.elapsed();

    let mut pushes = Vec::new();
    loop {
        let message = push(&mut socket).await;
        let n = used(&message);
        pushes.push(n);
        if n == 100 {
            break;
        }
    }
    // Nothing follows the final count.
    let after = next(&mut socket, Duration::from_millis(1500)).await;
    assert!(after.is_none(), "a push after the final count: {after:?}");
    // At most one read per 250 ms: the pushes fit in the burst's windows.
    let windows = (burst.as_millis() / 250) as usize + 3;
    assert!(
        pushes.len() <= windows,
        "{} pushes for a burst of {burst:?}: {pushes:?}",
        pushes.len()
    );
    assert!(
        pushes.windows(2).all(|w| w[0] < w[1]),
        "counts only rise: {pushes:?}"
    );

    // One NOTIFY per tenant per 250 ms at most, for all 100 events.
    let mut notices = Vec::new();
    {
        let mut stream = std::pin::pin!(listener.notifications_stream());
        while let Ok(Some(item)) =
            tokio::time::timeout(Duration::from_millis(600), stream.next()).await
        {
            let notice = item.unwrap();
            assert_eq!(notice.payload, tenant_id);
            notices.push(notice);
        }
    }
    assert!(!notices.is_empty());
    assert!(
        notices.len() <= windows,
        "{} announcements for a burst of {burst:?}",
        notices.len()
    );
    drop(peer);
}

#[tokio::test]
async fn only_members_of_the_active_tenant_subscribe() {
    let app = TestApp::spawn().await;
    free_quota(&[&app], 100).await;
    let (owner, tenant_id, key) = tenant(&app, "guard@usage.test").await;
    let (outsider, _, _) = tenant(&app, "outsider@usage.test").await;

    // The lowest role reads quotas (as `tenant { quotas }`).
    let mut conn = app.db.owner().await;
    let (viewer, _) = join(&app, &mut conn, &owner, "viewer@usage.test", "VIEWER").await;
    let mut socket = subscribe(&app, &viewer, None).await;
    assert_eq!(used(&push(&mut socket).await), 0);

    // Not a member of the tenant it names: refused, nothing pushed.
    let mut socket = subscribe(&app, &outsider, Some(&tenant_id)).await;
    let refused = push(&mut socket).await;
    assert!(refused["payload"]["data"].is_null(), "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    assert_eq!(push(&mut socket).await["type"], "complete");
    record(&app, &key, 1, 1).await;
    let nothing = next(&mut socket, Duration::from_millis(800)).await;
    assert!(nothing.is_none(), "{nothing:?}");

    // Anonymous: UNAUTHENTICATED.
    let mut socket = connect(&app, json!({})).await;
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
    )
    .await;
    let refused = push(&mut socket).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );

    // An API key cannot open a subscription socket.
    let mut socket = connect(&app, json!({ "Authorization": format!("Bearer {key}") })).await;
    let answer = next(&mut socket, Duration::from_secs(5)).await.unwrap();
    assert_ne!(answer["type"], "connection_ack", "{answer}");
}

#[tokio::test]
async fn the_feed_ends_when_the_session_does() {
    let app = TestApp::spawn().await;
    let peer = app.peer(Limiter::local()).await;
    free_quota(&[&app, &peer], 100).await;
    let (owner, _, key) = tenant(&app, "ends@usage.test").await;
    let mut socket = subscribe(&app, &owner, None).await;
    assert_eq!(used(&push(&mut socket).await), 0);
    record(&peer, &key, 1, 2).await;
    assert_eq!(used(&push(&mut socket).await), 2);

    app.gql("mutation { logOut }", json!({}), Some(&owner))
        .await;
    record(&peer, &key, 1, 2).await;
    let end = push(&mut socket).await;
    assert_eq!(end["type"], "complete", "{end}");
    assert_eq!(end["id"], "1", "{end}");
    drop(peer);
}

#[tokio::test]
async fn without_announcements_the_subscriber_polls() {
    let app = TestApp::spawn().await;
    free_quota(&[&app], 100).await;
    let (owner, _, key) = tenant(&app, "polls@usage.test").await;
    let mut socket = subscribe(&app, &owner, None).await;
    assert_eq!(used(&push(&mut socket).await), 0);

    // Stall this instance's LISTEN backend: NOTIFYs are sent but never
    // delivered, and the heartbeat stops arriving.
    let pids = crate::connections::listen_backends(&app).await;
    assert_eq!(pids.len(), 1, "{pids:?}");
    let local = pids.iter().all(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"postgres"))
    });
    let _resume = crate::connections::Resume(pids.clone());
    if local {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pids[0]),
            nix::sys::signal::Signal::SIGSTOP,
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(6);
        while app.state.feed.usage().is_live() {
            assert!(Instant::now() < deadline, "LISTEN still trusted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // The feed goes on, reading every 2 s.
    record(&app, &key, 1, 7).await;
    let message = push(&mut socket).await;
    assert_eq!(used(&message), 7);
    record(&app, &key, 1, 3).await;
    assert_eq!(used(&push(&mut socket).await), 10);
}
