//! What a publishable key cannot reach (`/graphql` as bearer or `X-API-Key`,
//! listing members, creating keys, `/v1/authorize`, `/v1/usage`, the audit
//! export, the WebSocket) and the leaked secret-key guard (a secret key from
//! another origin's page refused, the rule's edges, the audit note once).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::keys::{assert_code, assert_ok, create_key};
use crate::publishable::{acao, add_origin, create_pk};
use crate::support::TestApp;

#[tokio::test]
async fn a_publishable_key_reaches_nothing_but_the_public_endpoints() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("pk-reach@example.com", "Reach").await;
    let (_, key) = create_pk(&app, &owner, "LIVE").await;
    assert_ok(
        &add_origin(&app, &owner, "https://shop.example.com").await,
        "origin",
    );
    let members = app
        .gql(
            "{ tenant { members { edges { node { role } } } } }",
            json!({}),
            Some(&key),
        )
        .await;
    assert_code(&members, "FORBIDDEN", "members with a publishable key");
    assert!(
        members.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("publishable key")
    );
    assert!(
        members.body.get("data").is_none_or(Value::is_null),
        "{:?}",
        members.body
    );
    let create = app
        .gql(
            "mutation { createApiKey(input: { name: \"x\" }) { secret } }",
            json!({}),
            Some(&key),
        )
        .await;
    assert_code(&create, "FORBIDDEN", "createApiKey with a publishable key");
    let n = app.db.count("SELECT count(*) AS n FROM api_keys").await;
    assert_eq!(n, 0, "a key was made");
    // X-API-Key, from an allowed origin even: still refused.
    for path in [
        "/graphql",
        "/v1/authorize",
        "/v1/usage",
        "/v1/audit-log/export",
    ] {
        let req = app
            .client
            .post(format!("{}{path}", app.url))
            .header("x-api-key", &key)
            .header("origin", "https://shop.example.com")
            .header("content-type", "application/json")
            .body(if path == "/graphql" {
                json!({ "query": "{ tenant { name } }" }).to_string()
            } else {
                String::new()
            });
        let a = app.send(req).await;
        // (GraphQL over HTTP answers application/json requests with 200.)
        let want = match path {
            "/v1/audit-log/export" => 405,
            "/graphql" => 200,
            _ => 403,
        };
        assert_eq!(a.status, want, "{path}: {:?}", a.body);
        if path != "/v1/audit-log/export" {
            let code = a.body["errors"][0]["extensions"]["code"]
                .as_str()
                .or(a.body["error"]["code"].as_str());
            assert_eq!(code, Some("FORBIDDEN"), "{path}: {:?}", a.body);
            assert!(acao(&a).is_empty());
        }
    }
    let req = app
        .client
        .get(format!("{}/v1/audit-log/export?format=jsonl", app.url))
        .header("authorization", format!("Bearer {key}"));
    let a = app.send(req).await;
    assert_eq!(a.status, 403, "{:?}", a.body);
    assert_code(&a, "FORBIDDEN", "export");
}

#[tokio::test]
async fn a_secret_key_from_a_browser_page_is_refused_and_noted_once() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("leak@example.com", "Leak").await;
    let (key_id, secret) = create_key(&app, &owner, json!({ "scopes": ["TENANT_READ"] })).await;
    let host = app.url.trim_start_matches("http://").to_owned();
    let call = |headers: Vec<(&'static str, String)>| {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.url))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {secret}"))
            .body(json!({ "query": "{ tenant { name } }" }).to_string());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        app.send(req)
    };
    // Servers and this server's own pages (the playground) go on.
    for headers in [
        vec![],
        vec![("sec-fetch-site", "same-origin".to_owned())],
        vec![("sec-fetch-site", "none".to_owned())],
        vec![("origin", app.url.clone())],
        vec![
            ("origin", app.url.clone()),
            ("sec-fetch-site", "same-origin".to_owned()),
        ],
    ] {
        let a = call(headers.clone()).await;
        assert_ok(&a, &format!("{headers:?}"));
    }
    // Another origin's page, or Fetch Metadata saying so: refused.
    for headers in [
        vec![("origin", "https://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![("sec-fetch-site", "same-site".to_owned())],
        vec![
            ("origin", app.url.clone()),
            ("sec-fetch-site", "cross-site".to_owned()),
        ],
    ] {
        let a = call(headers.clone()).await;
        assert_code(&a, "FORBIDDEN", &format!("{headers:?}"));
        let message = a.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("publishable key"), "{message}");
        assert!(a.body.get("data").is_none_or(Value::is_null));
    }
    // /v1/authorize too, in its own shape.
    let req = app
        .client
        .post(format!("{}/v1/authorize", app.url))
        .header("authorization", format!("Bearer {secret}"))
        .header("origin", "https://evil.example");
    let a = app.send(req).await;
    assert_eq!(a.status, 403, "{:?}", a.body);
    assert_eq!(a.body["error"]["code"], "FORBIDDEN");
    assert!(host.contains(':'));
    // Noted in the tenant's trail, once (per key per hour on an instance).
    let deadline = Instant::now() + Duration::from_secs(3);
    let sql = format!(
        "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' \
         AND action = 'api_key.browser_use' AND target_id = '{key_id}'"
    );
    while app.db.count(&sql).await == 0 {
        assert!(Instant::now() < deadline, "the leak was not audited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.db.count(&sql).await, 1, "audited more than once");
}

#[tokio::test]
async fn a_publishable_key_opens_no_websocket() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("pk-ws@example.com", "Socket").await;
    let (_, key) = create_pk(&app, &owner, "LIVE").await;
    let mut socket =
        crate::usage_live::connect(&app, json!({ "Authorization": format!("Bearer {key}") })).await;
    let first = crate::usage_live::next(&mut socket, Duration::from_secs(5))
        .await
        .expect("an answer to connection_init");
    assert_ne!(first["type"], "connection_ack", "{first}");
    assert!(first["closed"].is_u64(), "{first}");
}
