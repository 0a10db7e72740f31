//! Trusted documents: ids (Apollo's `extensions.persistedQuery`, the
//! GraphQL-over-HTTP draft's `documentId`) over POST, GET and WebSocket, text
//! and ids together, malformed ids, and `--trusted-documents on` (users and
//! anonymous callers send known documents only; API keys and platform admins
//! send text).

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tenantgate::config::TrustedMode;
use tenantgate::graphql::trusted::{TrustedDocuments, sha256_hex};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Answer, TestApp};

const VIEWER: &str = "query Viewer { viewer { user { email } } }";
/// The text `TestApp::sign_up` sends: in the manifest, so signing up works in
/// `on` mode too (known text is a trusted document).
const SIGN_UP: &str =
    "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } tenant { id } } }";
const CREATE_KEY: &str =
    "mutation CreateKey($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }";
const RENAME: &str =
    "mutation Rename($name: String!) { updateTenant(input: {name: $name}) { name } }";
const AUDIT_FEED: &str = "subscription Feed { auditEvents { action } }";
/// Free text no manifest holds.
const FREE: &str = "{ viewer { user { email } } }";

fn manifest() -> TrustedDocuments {
    let entries: serde_json::Map<String, Value> = [VIEWER, SIGN_UP, CREATE_KEY, RENAME, AUDIT_FEED]
        .iter()
        .map(|text| (sha256_hex(text), Value::from(*text)))
        .collect();
    TrustedDocuments::from_manifest(Value::Object(entries).to_string().as_bytes()).unwrap()
}

async fn spawn(mode: TrustedMode) -> TestApp {
    TestApp::spawn_trusted(manifest(), mode).await
}

fn persisted(text: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(text) } })
}

/// POSTs `body` (graphql-response+json), with a bearer token if given.
async fn post(app: &TestApp, body: Value, bearer: Option<&str>) -> Answer {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(body.to_string());
    if let Some(bearer) = bearer {
        req = req.header("authorization", format!("Bearer {bearer}"));
    }
    app.send(req).await
}

async fn get(app: &TestApp, params: &[(&str, String)], bearer: Option<&str>) -> Answer {
    let mut req = app
        .client
        .get(format!("{}/graphql", app.url))
        .query(params)
        .header("accept", "application/graphql-response+json");
    if let Some(bearer) = bearer {
        req = req.header("authorization", format!("Bearer {bearer}"));
    }
    app.send(req).await
}

fn email(a: &Answer) -> &str {
    a.body["data"]["viewer"]["user"]["email"]
        .as_str()
        .unwrap_or_else(|| panic!("no email: {:?}", a.body))
}

fn refused(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{:?}", a.body);
    assert_eq!(a.code(), code, "{:?}", a.body);
    assert!(a.body.get("data").is_none(), "nothing ran: {:?}", a.body);
    let message = a.body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.is_empty());
    assert!(a.body["errors"][0]["extensions"]["requestId"].is_string());
}

#[tokio::test]
async fn known_ids_run_over_post_and_get_and_unknown_ids_are_refused() {
    let app = spawn(TrustedMode::Off).await;
    let (token, _, _) = app.sign_up("ids@example.com", "Ids").await;
    let t = Some(token.as_str());

    // Apollo's extension, with no query or an empty one.
    let a = post(&app, json!({ "extensions": persisted(VIEWER) }), t).await;
    assert_eq!(email(&a), "ids@example.com");
    let a = post(
        &app,
        json!({ "query": "", "operationName": "Viewer", "extensions": persisted(VIEWER) }),
        t,
    )
    .await;
    assert_eq!(email(&a), "ids@example.com");
    // The GraphQL-over-HTTP draft's documentId.
    let id = format!("sha256:{}", sha256_hex(VIEWER));
    let a = post(&app, json!({ "documentId": id }), t).await;
    assert_eq!(email(&a), "ids@example.com");
    // GET, both forms.
    let a = get(&app, &[("documentId", id.clone())], t).await;
    assert_eq!(email(&a), "ids@example.com");
    let a = get(&app, &[("extensions", persisted(VIEWER).to_string())], t).await;
    assert_eq!(email(&a), "ids@example.com");
    // A mutation by id over GET is still 405.
    let a = get(&app, &[("extensions", persisted(RENAME).to_string())], t).await;
    assert_eq!(a.status, 405, "{:?}", a.body);

    // Unknown: refused, nothing runs; 400, or 200 for application/json.
    let unknown = persisted("{ viewer { role } }");
    let a = post(&app, json!({ "extensions": unknown }), t).await;
    refused(&a, 400, "PERSISTED_QUERY_NOT_FOUND");
    let a = get(
        &app,
        &[("documentId", format!("sha256:{}", sha256_hex("{ a }")))],
        t,
    )
    .await;
    refused(&a, 400, "PERSISTED_QUERY_NOT_FOUND");
    let req = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({ "extensions": unknown }).to_string());
    let a = app.send(req).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.code(), "PERSISTED_QUERY_NOT_FOUND");
    // An unknown rename changes nothing.
    let a = post(
        &app,
        json!({ "variables": { "name": "Renamed" },
                "extensions": persisted("mutation($name: String!) { updateTenant(input: {name: $name}) { id } }") }),
        t,
    )
    .await;
    refused(&a, 400, "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM tenants WHERE name = 'Renamed'")
            .await,
        0
    );
}

#[tokio::test]
async fn text_and_an_id_together_must_agree() {
    let app = spawn(TrustedMode::Off).await;
    let (token, _, _) = app.sign_up("both@example.com", "Both").await;
    let t = Some(token.as_str());
    let a = post(
        &app,
        json!({ "query": VIEWER, "extensions": persisted(VIEWER) }),
        t,
    )
    .await;
    assert_eq!(email(&a), "both@example.com");
    // Text no manifest holds, sent with its own hash (automatic persisted
    // queries' second try): runs in `off` mode, as its text would.
    let a = post(
        &app,
        json!({ "query": FREE, "extensions": persisted(FREE) }),
        t,
    )
    .await;
    assert_eq!(email(&a), "both@example.com");
    // Text and an id that disagree: refused, nothing runs.
    let a = post(
        &app,
        json!({ "query": FREE, "extensions": persisted(VIEWER) }),
        t,
    )
    .await;
    refused(&a, 400, "BAD_USER_INPUT");
    let a = post(
        &app,
        json!({ "query": FREE, "documentId": format!("sha256:{}", sha256_hex(VIEWER)) }),
        t,
    )
    .await;
    refused(&a, 400, "BAD_USER_INPUT");
    // Both id forms, naming different documents.
    let a = post(
        &app,
        json!({ "extensions": persisted(VIEWER), "documentId": format!("sha256:{}", sha256_hex(RENAME)) }),
        t,
    )
    .await;
    refused(&a, 400, "BAD_USER_INPUT");
}

#[tokio::test]
async fn malformed_ids_are_bad_input_with_bounded_answers() {
    let app = spawn(TrustedMode::Off).await;
    let huge = "a".repeat(1_500_000);
    let cases = [
        (
            json!({ "extensions": { "persistedQuery": "abc" } }),
            "extensions.persistedQuery",
        ),
        (
            json!({ "extensions": { "persistedQuery": [1] } }),
            "extensions.persistedQuery",
        ),
        (
            json!({ "extensions": { "persistedQuery": { "version": "1", "sha256Hash": sha256_hex(VIEWER) } } }),
            "extensions.persistedQuery.version",
        ),
        (
            json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": sha256_hex(VIEWER) } } }),
            "extensions.persistedQuery.version",
        ),
        (
            json!({ "extensions": { "persistedQuery": { "sha256Hash": sha256_hex(VIEWER) } } }),
            "extensions.persistedQuery.version",
        ),
        (
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": { "a": 1 } } } }),
            "extensions.persistedQuery.sha256Hash",
        ),
        (
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "zz".repeat(32) } } }),
            "extensions.persistedQuery.sha256Hash",
        ),
        (
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": huge } } }),
            "extensions.persistedQuery.sha256Hash",
        ),
        (json!({ "documentId": 12 }), "documentId"),
        (json!({ "documentId": sha256_hex(VIEWER) }), "documentId"),
        (
            json!({ "documentId": "sha1:0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33" }),
            "documentId",
        ),
        (
            json!({ "documentId": format!("sha256:{huge}") }),
            "documentId",
        ),
    ];
    for (body, field) in cases {
        let a = post(&app, body, None).await;
        refused(&a, 400, "BAD_USER_INPUT");
        assert_eq!(
            a.body["errors"][0]["extensions"]["field"], field,
            "{:?}",
            a.body
        );
        let message = a.body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.len() < 300,
            "{field}: the input is not echoed: {message}"
        );
    }
    // `extensions` that is not an object at all.
    let a = post(&app, json!({ "query": FREE, "extensions": "x" }), None).await;
    refused(&a, 400, "BAD_USER_INPUT");
    // GET with unparsable extensions.
    let a = get(&app, &[("extensions", "{".to_owned())], None).await;
    refused(&a, 400, "BAD_USER_INPUT");
    // Nothing at all.
    let a = post(&app, json!({}), None).await;
    refused(&a, 400, "BAD_USER_INPUT");
}

#[tokio::test]
async fn on_mode_users_and_anonymous_callers_send_known_documents_only() {
    let app = spawn(TrustedMode::On).await;
    // Anonymous: known text (sign-up) runs; free text is refused.
    let (token, _, _) = app.sign_up("strict@example.com", "Strict").await;
    let t = Some(token.as_str());
    let a = post(&app, json!({ "query": "{ __typename }" }), None).await;
    refused(&a, 403, "TRUSTED_DOCUMENT_REQUIRED");
    // Refused before it is parsed: a document the limits would refuse gets the same answer,
    // from anonymous callers and users alike (nothing about the limits is told).
    let deep = format!("{}{}", "{ a ".repeat(40), "}".repeat(40));
    refused(
        &post(&app, json!({ "query": deep }), None).await,
        403,
        "TRUSTED_DOCUMENT_REQUIRED",
    );
    refused(
        &post(&app, json!({ "query": deep }), t).await,
        403,
        "TRUSTED_DOCUMENT_REQUIRED",
    );
    let sneaky = json!({ "query": "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
        "variables": { "i": { "email": "sneak@example.com", "password": crate::support::PASSWORD, "tenantName": "S" } } });
    refused(
        &post(&app, sneaky, None).await,
        403,
        "TRUSTED_DOCUMENT_REQUIRED",
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM users WHERE email = 'sneak@example.com'")
            .await,
        0,
        "nothing ran"
    );
    // A signed-in user: ids and known text run; free text is refused.
    let a = post(&app, json!({ "extensions": persisted(VIEWER) }), t).await;
    assert_eq!(email(&a), "strict@example.com");
    let a = post(&app, json!({ "query": VIEWER }), t).await;
    assert_eq!(email(&a), "strict@example.com");
    let a = post(&app, json!({ "query": FREE }), t).await;
    refused(&a, 403, "TRUSTED_DOCUMENT_REQUIRED");
    let message = a.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("API key"), "{message}");
    let a = get(&app, &[("query", FREE.to_owned())], t).await;
    refused(&a, 403, "TRUSTED_DOCUMENT_REQUIRED");
    // Free text with its own matching hash is still free text.
    let a = post(
        &app,
        json!({ "query": FREE, "extensions": persisted(FREE) }),
        t,
    )
    .await;
    refused(&a, 403, "TRUSTED_DOCUMENT_REQUIRED");

    // An API key keeps sending text.
    let a = post(
        &app,
        json!({ "extensions": persisted(CREATE_KEY),
                "variables": { "i": { "name": "ci", "scopes": ["TENANT_READ"] } } }),
        t,
    )
    .await;
    let secret = a.body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", a.body))
        .to_owned();
    let a = post(
        &app,
        json!({ "query": "{ tenant { name } }" }),
        Some(&secret),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["data"]["tenant"]["name"], "Strict", "{:?}", a.body);

    // A platform admin keeps sending text (the playground is their tool).
    tenantgate::admin::set_platform_admin(&app.db.url, "strict@example.com", true)
        .await
        .unwrap();
    let a = post(&app, json!({ "query": FREE }), t).await;
    assert_eq!(email(&a), "strict@example.com");
    let a = post(
        &app,
        json!({ "query": "{ admin { stats { tenants } } }" }),
        t,
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(
        a.body["data"]["admin"]["stats"]["tenants"].is_number(),
        "{:?}",
        a.body
    );
    // Demoted: refused again on the next request.
    tenantgate::admin::set_platform_admin(&app.db.url, "strict@example.com", false)
        .await
        .unwrap();
    let a = post(&app, json!({ "query": FREE }), t).await;
    refused(&a, 403, "TRUSTED_DOCUMENT_REQUIRED");
    // A token that does not verify is refused as such, not as text.
    let a = post(&app, json!({ "query": FREE }), Some("nope")).await;
    assert_eq!(a.code(), "UNAUTHENTICATED", "{:?}", a.body);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_socket(app: &TestApp, token: &str) -> Socket {
    let mut request = (app.url.replace("http://", "ws://") + "/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    socket
}

async fn next(socket: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("an answer within 10 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// The code of the error answering subscription `id` (an `error` message, or
/// a `next` with errors and no data).
async fn error_code(socket: &mut Socket, id: &str) -> String {
    let answer = next(socket).await;
    assert_eq!(answer["id"], id, "{answer}");
    let error = match answer["type"].as_str() {
        Some("error") => answer["payload"][0].clone(),
        Some("next") => {
            assert!(answer["payload"]["data"].is_null(), "{answer}");
            // Its `complete` follows.
            assert_eq!(next(socket).await["type"], "complete");
            answer["payload"]["errors"][0].clone()
        }
        _ => panic!("not an error: {answer}"),
    };
    error["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

async fn subscribe(socket: &mut Socket, id: &str, payload: Value) {
    let msg = json!({ "id": id, "type": "subscribe", "payload": payload });
    socket.send(Message::text(msg.to_string())).await.unwrap();
}

#[tokio::test]
async fn websocket_subscriptions_by_id_and_on_mode() {
    let app = spawn(TrustedMode::On).await;
    let (token, _, _) = app.sign_up("feed@example.com", "Feed").await;
    let mut socket = open_socket(&app, &token).await;
    // Free text is refused for a signed-in user in `on` mode.
    subscribe(
        &mut socket,
        "text",
        json!({ "query": "subscription { auditEvents { action } }" }),
    )
    .await;
    assert_eq!(
        error_code(&mut socket, "text").await,
        "TRUSTED_DOCUMENT_REQUIRED"
    );
    // An unknown id, and a malformed one.
    subscribe(
        &mut socket,
        "unknown",
        json!({ "extensions": persisted("subscription { x }") }),
    )
    .await;
    assert_eq!(
        error_code(&mut socket, "unknown").await,
        "PERSISTED_QUERY_NOT_FOUND"
    );
    subscribe(&mut socket, "bad", json!({ "documentId": "sha256:xyz" })).await;
    assert_eq!(error_code(&mut socket, "bad").await, "BAD_USER_INPUT");
    // By id (Apollo's extension), then by documentId: both run.
    subscribe(
        &mut socket,
        "pq",
        json!({ "extensions": persisted(AUDIT_FEED) }),
    )
    .await;
    subscribe(
        &mut socket,
        "doc",
        json!({ "documentId": format!("sha256:{}", sha256_hex(AUDIT_FEED)), "operationName": "Feed" }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let a = post(
        &app,
        json!({ "extensions": persisted(RENAME), "variables": { "name": "Feed 2" } }),
        Some(&token),
    )
    .await;
    assert_eq!(
        a.body["data"]["updateTenant"]["name"], "Feed 2",
        "{:?}",
        a.body
    );
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = next(&mut socket).await;
        assert_eq!(event["type"], "next", "{event}");
        assert_eq!(
            event["payload"]["data"]["auditEvents"]["action"],
            "tenant.update"
        );
        seen.push(event["id"].as_str().unwrap().to_owned());
    }
    seen.sort();
    assert_eq!(seen, ["doc", "pq"]);
}

#[tokio::test]
async fn the_manifest_is_loaded_from_the_web_dir_and_checked() {
    let dir = std::env::temp_dir().join(format!("tg-manifest-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.canonicalize().unwrap();
    // None: an empty set.
    let none = tenantgate::http::web::load_documents(Some(&dir))
        .await
        .unwrap();
    assert!(none.is_empty());
    let path = dir.join(tenantgate::graphql::trusted::MANIFEST);
    std::fs::write(&path, json!({ sha256_hex(VIEWER): VIEWER }).to_string()).unwrap();
    assert_eq!(
        tenantgate::http::web::load_documents(Some(&dir))
            .await
            .unwrap()
            .len(),
        1
    );
    // A wrong entry stops the start-up, naming it.
    let wrong = sha256_hex("{ a }");
    std::fs::write(&path, json!({ wrong.clone(): VIEWER }).to_string()).unwrap();
    let err = tenantgate::http::web::load_documents(Some(&dir))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&wrong) && err.contains("does not match"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
