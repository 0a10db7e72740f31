//! Hostile documents and strings: each is refused with BAD_USER_INPUT before
//! anything runs, costs a bounded amount of work, and leaves the server
//! answering; introspection (which nests deep) still works.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Answer, TestApp};

fn assert_refused(a: &Answer, what: &str, needle: &str) {
    assert_eq!(a.status, 400, "{what}: {:?}", a.body);
    assert_eq!(a.code(), "BAD_USER_INPUT", "{what}: {:?}", a.body);
    assert!(a.body.get("data").is_none(), "{what}: ran: {:?}", a.body);
    let msg = a.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(msg.contains(needle), "{what}: {msg}");
}

/// About 1 KB: each fragment spreads the next one twice (2^40 copies).
fn doubling(levels: usize, leaf: &str) -> String {
    let mut text = String::from("query { ...F0 }");
    for i in 0..levels {
        text += &format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1);
    }
    text + &format!(" fragment F{levels} on Query {{ {leaf} }}")
}

/// Documents an attacker would send, each with the word its refusal names.
fn hostile_documents() -> Vec<(&'static str, String, &'static str)> {
    let wide: String = (0..60).map(|i| format!("f{i}: __typename ")).collect();
    vec![
        ("doubling fragments", doubling(40, "viewer { role }"), "expands"),
        (
            "doubling fragments under fields",
            doubling(30, "viewer { tenant { name } }"),
            "expands",
        ),
        (
            "a fragment that spreads itself",
            "query { ...A } fragment A on Query { viewer { role } ...A }".into(),
            "spreads itself",
        ),
        (
            "a cycle through a field",
            "query { ...A } fragment A on Query { viewer { tenant { ...B } } } \
             fragment B on Tenant { members { nodes { ...C } } } fragment C on Member { ...B }"
                .into(),
            "spreads itself",
        ),
        (
            "one wide fragment spread many times through inline fragments",
            format!(
                "query {{ {} }} fragment W on Query {{ {} }}",
                "... on Query { ...W ...W ...W ...W } ".repeat(40),
                "__typename ".repeat(20)
            ),
            "expands",
        ),
        (
            "many operations sharing a large fragment",
            format!(
                "{} fragment W on Query {{ {} }}",
                (0..40)
                    .map(|i| format!("query Q{i} {{ ...W ...W }} "))
                    .collect::<String>(),
                "__typename ".repeat(30)
            ),
            "expands",
        ),
        (
            "directives on every spread",
            format!(
                "query {{ {} }} fragment A on Query {{ __typename }}",
                "...A @include(if: true) ".repeat(60)
            ),
            "directives",
        ),
        (
            "aliases inside a fragment",
            format!("query {{ ...A }} fragment A on Query {{ {wide} }}"),
            "aliases",
        ),
        (
            "depth hidden in fragments",
            "query { ...A } fragment A on Query { viewer { ...B } } \
             fragment B on Viewer { tenant { members { ...C } } } \
             fragment C on MemberConnection { edges { node { user { a { b { c { d { e } } } } } } } }"
                .into(),
            "nested too deep",
        ),
        (
            "an unknown fragment",
            "query { ...Nowhere }".into(),
            "unknown fragment",
        ),
        (
            "two sign-ins hidden in a fragment",
            "mutation { ...S } fragment S on Mutation { \
             a: logIn(input: {email: \"a@x.test\", password: \"p\"}) { accessToken } \
             b: logIn(input: {email: \"b@x.test\", password: \"p\"}) { accessToken } }"
                .into(),
            "one sign-in",
        ),
    ]
}

#[tokio::test]
async fn hostile_documents_are_refused_over_http_and_the_server_keeps_answering() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("hostile@example.com", "Hostile").await;
    for (what, doc, needle) in hostile_documents() {
        assert!(doc.len() < 4096, "{what} is {} bytes", doc.len());
        for token in [None, Some(token.as_str())] {
            let a = app.gql(&doc, json!({}), token).await;
            assert_refused(&a, what, needle);
        }
        // GET too.
        let url = format!("{}/graphql", app.url);
        let get = app
            .client
            .get(&url)
            .query(&[("query", doc.as_str())])
            .header("accept", "application/graphql-response+json");
        assert_refused(&app.send(get).await, what, needle);
    }
    let health = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn hostile_documents_are_refused_over_websocket() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("socket@example.com", "Socket").await;
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
    let cases = [
        (doubling(40, "__typename"), "expands"),
        (
            "subscription { ...A } fragment A on Subscription { auditEvents { action } ...A }"
                .to_owned(),
            "spreads itself",
        ),
    ];
    for (i, (doc, needle)) in cases.iter().enumerate() {
        let id = i.to_string();
        let msg = json!({ "id": id, "type": "subscribe", "payload": { "query": doc } });
        socket.send(Message::text(msg.to_string())).await.unwrap();
        let error = first_error(&mut socket).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
        let text = error["message"].as_str().unwrap();
        assert!(text.contains(needle), "{text}");
    }
    // A NUL in a subscription's variables is refused the same way.
    let msg = json!({ "id": "nul", "type": "subscribe", "payload": {
        "query": "subscription($x: String) { auditEvents { action } }",
        "variables": { "x": "a\u{0}" } } });
    socket.send(Message::text(msg.to_string())).await.unwrap();
    let error = first_error(&mut socket).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert_eq!(error["extensions"]["field"], "variables.x");
}

/// The first error of the next answer to a subscription: an `error` message,
/// or a `next` carrying errors (async-graphql's way for request errors), which
/// must not carry data.
async fn first_error(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    let answer = next(socket).await;
    match answer["type"].as_str() {
        Some("error") => answer["payload"][0].clone(),
        Some("next") => {
            assert!(answer["payload"]["data"].is_null(), "{answer}");
            let error = answer["payload"]["errors"][0].clone();
            // Its `complete` follows.
            assert_eq!(next(socket).await["type"], "complete");
            error
        }
        _ => panic!("not an error: {answer}"),
    }
}

async fn next(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
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

/// graphql-js's `getIntrospectionQuery()` (what GraphiQL and schema tools
/// send): nine levels of `ofType`.
const INTROSPECTION: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}"#;

#[tokio::test]
async fn introspection_is_not_held_to_the_depth_limit() {
    let app = TestApp::spawn().await;
    let a = app.gql(INTROSPECTION, json!({}), None).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    assert!(
        a.body["data"]["__schema"]["types"]
            .as_array()
            .unwrap()
            .len()
            > 20
    );
}

#[tokio::test]
async fn strings_postgresql_cannot_store_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("strings@example.com", "Strings").await;
    let cases = [
        (
            "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }",
            json!({ "i": { "email": "a\u{0}@x.test", "password": "p" } }),
            "variables.i.email",
        ),
        (
            "mutation { logIn(input: {email: \"a\\u0000@x.test\", password: \"p\"}) { accessToken } }",
            json!({}),
            "input.email",
        ),
        (
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }",
            json!({ "i": { "name": "k\u{1}ey" } }),
            "variables.i.name",
        ),
        (
            "mutation($i: UpdateTenantInput!) { updateTenant(input: $i) { name } }",
            json!({ "i": { "name": "line\nbreak" } }),
            "variables.i.name",
        ),
        (
            "{ tenant { auditLog(first: 1, filter: {action: \"a\\u0000\"}) { pageInfo { hasNextPage } } } }",
            json!({}),
            "filter.action",
        ),
    ];
    for (query, variables, field) in cases {
        let a = app.gql(query, variables, Some(&token)).await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{query}: {:?}", a.body);
        assert_eq!(a.body["errors"][0]["extensions"]["field"], field, "{query}");
        assert!(a.body.get("data").is_none(), "{query} ran: {:?}", a.body);
    }
    // Nothing was changed: the tenant keeps its name, no key was made.
    let a = app
        .gql(
            "{ tenant { name apiKeys { nodes { id } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(a.body["data"]["tenant"]["name"], "Strings");
    assert_eq!(a.body["data"]["tenant"]["apiKeys"]["nodes"], json!([]));
}

#[tokio::test]
async fn ints_past_32_bits_are_bad_input_not_internal() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("ints@example.com", "Ints").await;
    for (query, variables) in [
        (
            "{ tenant { members(first: 2147483648) { pageInfo { hasNextPage } } } }",
            json!({}),
        ),
        (
            "query($n: Int) { tenant { members(first: $n) { pageInfo { hasNextPage } } } }",
            json!({ "n": 2147483648u64 }),
        ),
        (
            "{ tenant { auditLog(first: -2147483649) { pageInfo { hasNextPage } } } }",
            json!({}),
        ),
    ] {
        let a = app.gql(query, variables, Some(&token)).await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{query}: {:?}", a.body);
    }
}
