//! Long-lived connections and side doors: the request timeout (an `Upgrade`
//! header buys no time), WebSocket caps and timeouts, `/metrics` behind a token
//! or on its own listener, the LISTEN heartbeat and the start-up check of
//! LISTEN/NOTIFY.

use std::time::{Duration, Instant};

use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tenantgate::usage::limits::Limiter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Answer, TestApp};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a graphql-transport-ws socket to `/graphql`.
async fn open(app: &TestApp) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = (app.url.replace("http://", "ws://") + "/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

/// Opens a socket and completes `connection_init` with `token`.
async fn initialised(app: &TestApp, token: &str) -> Socket {
    let mut socket = open(app).await.expect("socket");
    send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
    let ack = next(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
}

/// The next text message (pings skipped); panics on close or after 10 s.
async fn next(socket: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("no message within 10 s")
        {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] != "ping" {
                    return value;
                }
            }
            Some(Ok(Message::Close(frame))) => panic!("closed: {frame:?}"),
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
}

/// Reads until the server closes; returns the close code (None: the connection
/// ended without a close frame, or with an error).
async fn closed(socket: &mut Socket, within: Duration) -> Option<u16> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.next())
            .await
            .expect("the socket was not closed in time")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test]
async fn every_request_is_timed_even_with_an_upgrade_header() {
    let app =
        TestApp::spawn_tuned(|s| s.connections.request_timeout = Duration::from_secs(2)).await;
    let addr = app.url.trim_start_matches("http://").to_owned();
    for upgrade in ["", "Upgrade: foo\r\nConnection: upgrade\r\n"] {
        // A body that never finishes arriving: the request must still end.
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {addr}\r\n{upgrade}Content-Type: application/json\r\n\
             Accept: application/json\r\nContent-Length: 100\r\n\r\n{{\"query\":"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(read.is_ok(), "no answer within 5 s with {upgrade:?}");
        assert!(text.starts_with("HTTP/1.1 503"), "{upgrade:?}: {text}");
        assert!(text.contains("\"UNAVAILABLE\""), "{text}");
        assert!(started.elapsed() >= Duration::from_millis(1900));
    }
    // A WebSocket that is accepted is not cut by the request timeout.
    let (token, _, _) = app.sign_up("timed@example.com", "Timed").await;
    let mut socket = initialised(&app, &token).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { auditEvents { action } }" } })).await;
    app.gql(
        "mutation { updateTenant(input: {name: \"Timed 2\"}) { name } }",
        json!({}),
        Some(&token),
    )
    .await;
    let event = next(&mut socket).await;
    assert_eq!(
        event["payload"]["data"]["auditEvents"]["action"], "tenant.update",
        "{event}"
    );
}

#[tokio::test]
async fn oversize_socket_messages_close_the_socket() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("big@example.com", "Big").await;
    let mut socket = open(&app).await.unwrap();
    let padding = "x".repeat(70 * 1024);
    let _ = socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}"), "pad": padding } })
                .to_string(),
        ))
        .await;
    let code = closed(&mut socket, Duration::from_secs(5)).await;
    assert!(matches!(code, None | Some(1009)), "{code:?}");
    // Just under the limit is fine.
    let mut socket = open(&app).await.unwrap();
    let padding = "x".repeat(60 * 1024);
    send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}"), "pad": padding } })).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
}

#[tokio::test]
async fn sockets_are_capped_per_address_and_per_session() {
    let app = TestApp::spawn_tuned(|s| {
        s.connections.ws_per_address = 3;
        s.connections.ws_per_session = 2;
    })
    .await;
    let (token, _, _) = app.sign_up("caps@example.com", "Caps").await;
    // Per session: the third socket of one session is closed at connection_init.
    let first = initialised(&app, &token).await;
    let _second = initialised(&app, &token).await;
    let mut third = open(&app).await.unwrap();
    send(&mut third, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
    match tokio::time::timeout(Duration::from_secs(5), third.next()).await {
        Ok(Some(Ok(Message::Close(Some(frame))))) => {
            assert!(frame.reason.contains("RATE_LIMITED"), "{frame:?}");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    // Per address: the third socket is open (unauthenticated) until closed;
    // a fourth from the same address is refused before the upgrade.
    let _held = open(&app).await.unwrap();
    match open(&app).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 429);
            assert!(res.headers().contains_key("retry-after"));
        }
        other => panic!("expected 429, got {other:?}"),
    }
    // Closing one gives its place back.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if open(&app).await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a closed socket's place never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn subscriptions_are_capped_per_socket() {
    let app = TestApp::spawn_tuned(|s| s.connections.ws_subscriptions_per_socket = 2).await;
    let (token, _, _) = app.sign_up("subs@example.com", "Subs").await;
    let mut socket = initialised(&app, &token).await;
    let subscribe = |id: &str| json!({ "id": id, "type": "subscribe", "payload": { "query": "subscription { auditEvents { action } }" } });
    send(&mut socket, subscribe("1")).await;
    send(&mut socket, subscribe("2")).await;
    send(&mut socket, subscribe("3")).await;
    let refused = next(&mut socket).await;
    assert_eq!(refused["id"], "3", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    assert_eq!(next(&mut socket).await["type"], "complete");
    // Completing one makes room for another.
    send(&mut socket, json!({ "id": "1", "type": "complete" })).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(&mut socket, subscribe("4")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.gql(
        "mutation { updateTenant(input: {name: \"Subs 2\"}) { name } }",
        json!({}),
        Some(&token),
    )
    .await;
    let mut ids = Vec::new();
    while ids.len() < 2 {
        let event = next(&mut socket).await;
        if event == json!({ "type": "complete", "id": "1" }) {
            continue;
        }
        assert_eq!(event["type"], "next", "{event}");
        assert!(event["payload"]["errors"].is_null(), "{event}");
        ids.push(event["id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["2", "4"]);
}

#[tokio::test]
async fn silent_sockets_are_closed() {
    let app = TestApp::spawn_tuned(|s| {
        s.connections.ws_init_timeout = Duration::from_millis(300);
        s.connections.ws_ping_interval = Duration::from_millis(100);
        s.connections.ws_idle_timeout = Duration::from_millis(500);
    })
    .await;
    let (token, _, _) = app.sign_up("idle@example.com", "Idle").await;
    // No connection_init: closed with 4408.
    let mut silent = open(&app).await.unwrap();
    assert_eq!(
        closed(&mut silent, Duration::from_secs(5)).await,
        Some(4408)
    );
    // A client that answers pings (tungstenite does while reading) stays open
    // past the idle timeout; one that reads nothing (no pongs) is closed.
    let mut lively = initialised(&app, &token).await;
    let mut deaf = initialised(&app, &token).await;
    let until = Instant::now() + Duration::from_millis(1200);
    while let Ok(frame) = tokio::time::timeout_at(until.into(), lively.next()).await {
        assert!(
            matches!(frame, Some(Ok(Message::Ping(_) | Message::Pong(_)))),
            "{frame:?}"
        );
    }
    send(&mut lively, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut lively).await["type"], "pong");
    // Closed with 3008 (or reset while tungstenite answers the queued pings).
    let code = closed(&mut deaf, Duration::from_secs(5)).await;
    assert!(matches!(code, Some(3008) | None), "{code:?}");
}

async fn get_metrics(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(format!("{url}/metrics"));
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn metrics_need_a_token_or_a_listener_of_their_own() {
    const TOKEN: &str = "metrics-token-0123456789";
    // Neither: not served.
    let closed = TestApp::spawn().await;
    assert_eq!(get_metrics(&closed.url, None).await.0, 404);
    drop(closed);

    // A token: required on the main listener.
    let app = TestApp::spawn_tuned(|s| s.metrics.token = Some(TOKEN.into())).await;
    assert_eq!(get_metrics(&app.url, None).await.0, 401);
    assert_eq!(
        get_metrics(&app.url, Some("metrics-token-0123456780"))
            .await
            .0,
        401
    );
    assert_eq!(get_metrics(&app.url, Some("short")).await.0, 401);
    let (status, body) = get_metrics(&app.url, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(body.contains("tenantgate_sql_statements_total"), "{body}");
    assert!(body.contains("tenantgate_api_key_cache_live 1"), "{body}");
    drop(app);

    // Its own listener: not on the main one, served there (token still required).
    let app = TestApp::spawn_tuned(|s| {
        s.metrics.own_listener = true;
        s.metrics.token = Some(TOKEN.into());
    })
    .await;
    assert_eq!(get_metrics(&app.url, Some(TOKEN)).await.0, 404);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}", listener.local_addr().unwrap());
    let router = tenantgate::http::metrics_router(app.state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    assert_eq!(get_metrics(&metrics_url, None).await.0, 401);
    let (status, body) = get_metrics(&metrics_url, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(body.contains("tenantgate_sql_statements_total"), "{body}");
    server.abort();
}

#[tokio::test]
async fn listen_notify_is_checked_at_start_up() {
    let app = TestApp::spawn().await;
    tenantgate::audit::feed::check_listen_notify(&app.db.url, Duration::from_secs(5))
        .await
        .expect("LISTEN/NOTIFY works on a direct connection");
}

/// The pids of this database's LISTEN backends.
pub(crate) async fn listen_backends(app: &TestApp) -> Vec<i32> {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }
    let mut conn = app.db.owner().await;
    let rows: Vec<Pid> = diesel::sql_query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
    )
    .bind::<diesel::sql_types::Text, _>(tenantgate::audit::feed::APPLICATION_NAME)
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.pid).collect()
}

/// Resumes stopped backends, also when the test fails.
pub(crate) struct Resume(pub(crate) Vec<i32>);

impl Drop for Resume {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid),
                nix::sys::signal::Signal::SIGCONT,
            );
        }
    }
}

async fn wait_for(what: &str, within: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn authorize(app: &TestApp, secret: &str) -> Answer {
    let req = app
        .client
        .post(format!("{}/v1/authorize", app.url))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {secret}"))
        .body("{}");
    app.send(req).await
}

async fn create_key(app: &TestApp, token: &str) -> (String, String) {
    let a = app
        .gql(
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }",
            json!({ "i": { "name": "k" } }),
            Some(token),
        )
        .await;
    let p = &a.body["data"]["createApiKey"];
    (
        p["apiKey"]["id"].as_str().expect("a key").to_owned(),
        p["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_stalled_listen_connection_is_not_trusted() {
    let app = TestApp::spawn().await;
    let peer = app.peer(Limiter::local()).await;
    let (owner, _, _) = app.sign_up("stall@example.com", "Stall").await;
    let live = || app.state.api_keys.is_live() && peer.state.api_keys.is_live();
    wait_for("LISTEN going live", Duration::from_secs(5), live).await;
    let (id, secret) = create_key(&app, &owner).await;
    for _ in 0..2 {
        assert_eq!(authorize(&peer, &secret).await.status, 200);
    }

    // Stall every LISTEN backend of this database: connections stay open, but
    // nothing is delivered (as with a hung server or a half-open connection).
    let pids = listen_backends(&app).await;
    assert_eq!(pids.len(), 2, "{pids:?}");
    let local = pids.iter().all(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"postgres"))
    });
    let _resume = Resume(pids.clone());
    for pid in &pids {
        if local {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid),
                nix::sys::signal::Signal::SIGSTOP,
            )
            .unwrap();
        } else {
            // A remote test server: end the backends instead.
            let mut conn = app.db.owner().await;
            diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    let down = || !peer.state.api_keys.is_live();
    wait_for(
        "the peer distrusting its cache",
        Duration::from_secs(5),
        down,
    )
    .await;
    let r = app
        .gql(
            "mutation($id: ID!) { revokeApiKey(id: $id) { state } }",
            json!({ "id": id }),
            Some(&owner),
        )
        .await;
    assert_eq!(
        r.body["data"]["revokeApiKey"]["state"], "REVOKED",
        "{:?}",
        r.body
    );
    // The announcement cannot reach the peer, yet the revocation holds there.
    assert_eq!(authorize(&peer, &secret).await.status, 401);
    let metrics = tenantgate::http::metrics_router(peer.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, metrics).await });
    let (_, body) = get_metrics(&metrics_url, None).await;
    assert!(body.contains("tenantgate_api_key_cache_live 0"), "{body}");
    let ready = peer
        .client
        .get(format!("{}/readyz", peer.url))
        .send()
        .await
        .unwrap();
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["keyChanges"], "not received", "{ready}");
    server.abort();

    // Recovery: resumed (or replaced) connections bring heartbeats back, and
    // caching with them.
    drop(_resume);
    wait_for("LISTEN recovering", Duration::from_secs(15), live).await;
    let (_, fresh) = create_key(&app, &owner).await;
    // The key's own creation announcement may still be on its way (it
    // empties the cache entry once more): within a few calls, one is a hit.
    let mut hit = false;
    for _ in 0..10 {
        let (hits, _) = peer.state.api_keys.stats();
        assert_eq!(authorize(&peer, &fresh).await.status, 200);
        if peer.state.api_keys.stats().0 > hits {
            hit = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(hit, "after recovery, keys are served from the cache again");
    assert_eq!(authorize(&peer, &secret).await.status, 401);
    drop(peer);
}
