//! GraphQL-over-HTTP behaviour: methods, media types, status codes, CSRF, body
//! limit, batching, request ids, masked errors, health, playground.

use serde_json::json;
use tenantgate::config::Environment;
use tenantgate::db::{Db, PoolOptions};

use crate::support::{TestApp, TestDb};

fn url_encode(s: &str) -> String {
    tenantgate::db::embedded::percent_encode(s)
}

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations_with_405() {
    let app = TestApp::spawn().await;
    let q = app
        .send(app.client.get(format!(
            "{}/graphql?query={}",
            app.url,
            url_encode("{ __typename }")
        )))
        .await;
    assert_eq!(q.status, 200);
    assert_eq!(q.body["data"]["__typename"], "Query");

    let m = "mutation { signUp(input: {email: \"x@example.com\", password: \"correct-horse-battery-9\", tenantName: \"X\"}) { accessToken } }";
    let a = app
        .send(
            app.client
                .get(format!("{}/graphql?query={}", app.url, url_encode(m)))
                .header("accept", "application/graphql-response+json"),
        )
        .await;
    assert_eq!(a.status, 405);
    assert_eq!(a.headers["allow"], "POST");
    assert_eq!(a.code(), "BAD_USER_INPUT");
    assert_eq!(app.db.count("SELECT count(*) AS n FROM users").await, 0);

    // A document whose chosen operation is a mutation, among queries.
    let doc = format!("query Q {{ __typename }} {m}").replace("mutation {", "mutation M {");
    let a = app
        .send(app.client.get(format!(
            "{}/graphql?query={}&operationName=M",
            app.url,
            url_encode(&doc)
        )))
        .await;
    assert_eq!(a.status, 405);
    assert_eq!(app.db.count("SELECT count(*) AS n FROM users").await, 0);

    // GET variables must be JSON.
    let a = app
        .send(app.client.get(format!(
            "{}/graphql?query=%7B__typename%7D&variables=nope",
            app.url
        )))
        .await;
    assert_eq!(a.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn content_negotiation_and_status_codes_follow_the_spec() {
    let app = TestApp::spawn().await;
    let post = |accept: Option<&str>, body: &str| {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        req
    };
    let ok = r#"{"query":"{ __typename }"}"#;
    let invalid = r#"{"query":"{ noSuchField }"}"#;
    let unparsable = r#"{"query":"{ "}"#;

    // No Accept, or application/json, or */*: application/json, always 200.
    for accept in [None, Some("application/json"), Some("*/*")] {
        let a = app.send(post(accept, ok)).await;
        assert_eq!(a.status, 200);
        assert!(
            a.content_type().starts_with("application/json"),
            "{accept:?}"
        );
        let a = app.send(post(accept, invalid)).await;
        assert_eq!(a.status, 200, "{accept:?}");
        assert_eq!(a.code(), "BAD_USER_INPUT");
        assert!(a.body.get("data").is_none());
    }
    // application/graphql-response+json: request errors are 4xx.
    let gr = Some("application/graphql-response+json");
    let a = app.send(post(gr, ok)).await;
    assert_eq!(a.status, 200);
    assert!(
        a.content_type()
            .starts_with("application/graphql-response+json")
    );
    for body in [invalid, unparsable] {
        let a = app.send(post(gr, body)).await;
        assert_eq!(a.status, 400, "{body}");
        assert!(
            a.content_type()
                .starts_with("application/graphql-response+json")
        );
        assert_eq!(a.code(), "BAD_USER_INPUT");
        assert!(a.body.get("data").is_none(), "request errors have no data");
    }
    // Both, the new one first: the new one.
    let a = app
        .send(post(
            Some("application/graphql-response+json, application/json;q=0.9"),
            ok,
        ))
        .await;
    assert!(
        a.content_type()
            .starts_with("application/graphql-response+json")
    );
    // Nothing acceptable: 406, nothing run.
    let a = app.send(post(Some("text/html"), ok)).await;
    assert_eq!(a.status, 406);
    // Malformed JSON body and missing query: 400 with either media type.
    for body in [
        "{not json",
        r#"{"variables":{}}"#,
        r#"{"query":"{ __typename }","variables":[1]}"#,
    ] {
        let a = app.send(post(gr, body)).await;
        assert_eq!(a.status, 400, "{body}");
        assert_eq!(a.code(), "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn csrf_non_json_posts_run_nothing() {
    let app = TestApp::spawn().await;
    let m = r#"{"query":"mutation { signUp(input: {email: \"csrf@example.com\", password: \"correct-horse-battery-9\", tenantName: \"CSRF\"}) { accessToken } }"}"#;
    for ct in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
    ] {
        let a = app
            .send(
                app.client
                    .post(format!("{}/graphql", app.url))
                    .header("content-type", ct)
                    .body(m.to_owned()),
            )
            .await;
        assert_eq!(a.status, 415, "{ct}");
        assert_eq!(a.code(), "BAD_USER_INPUT");
    }
    // No content type at all.
    let a = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .body(m.to_owned()),
        )
        .await;
    assert_eq!(a.status, 415);
    assert_eq!(app.db.count("SELECT count(*) AS n FROM users").await, 0);
    // The same body as JSON does run (the test above is not vacuous).
    let a = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .body(m.to_owned()),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(app.db.count("SELECT count(*) AS n FROM users").await, 1);
}

#[tokio::test]
async fn oversized_bodies_get_413_and_batches_400() {
    let app = TestApp::spawn().await;
    let padding = " ".repeat(2 * 1024 * 1024);
    let big = format!(r#"{{"query":"{{ __typename }}"{padding}}}"#);
    let a = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    assert_eq!(a.status, 413);
    assert_eq!(a.code(), "BAD_USER_INPUT");

    let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]).to_string();
    let a = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .body(batch),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batch")
    );
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let a = app
        .send(
            app.client
                .get(format!("{}/healthz", app.url))
                .header("x-request-id", "trace-abc_123"),
        )
        .await;
    assert_eq!(a.headers["x-request-id"], "trace-abc_123");
    // Unsafe ids are replaced, not echoed.
    let a = app
        .send(
            app.client
                .get(format!("{}/healthz", app.url))
                .header("x-request-id", "bad id <script>"),
        )
        .await;
    let id = a.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    // Errors carry the request id too.
    let a = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .header("x-request-id", "req-42")
                .body(r#"{"query":"{ nope }"}"#),
        )
        .await;
    assert_eq!(a.body["errors"][0]["extensions"]["requestId"], "req-42");
}

#[tokio::test]
async fn internal_errors_are_masked() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("mask@example.com", "Mask").await;
    // Break the database under the server: the runtime role loses a privilege.
    let mut owner = app.db.owner().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut owner,
        "REVOKE SELECT (id, email, email_verified_at, created_at, updated_at) ON users FROM tenantgate_app",
    )
    .await
    .unwrap();
    let a = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .header("x-request-id", "req-masked")
                .body(r#"{"query":"{ viewer { user { email } } }"}"#),
        )
        .await;
    assert_eq!(a.code(), "INTERNAL", "{:?}", a.body);
    let text = a.body.to_string();
    assert!(text.contains("req-masked"));
    for leak in ["permission", "users", "denied", "diesel", "SQL", "relation"] {
        assert!(!text.contains(leak), "leaked {leak:?}: {text}");
    }
}

#[tokio::test]
async fn database_down_is_unavailable_and_readyz_says_so() {
    let db = TestDb::create().await;
    // A pool that points at a port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pool = Db::connect(
        &format!("postgres://nobody:x@127.0.0.1:{port}/none"),
        &PoolOptions {
            wait_timeout: std::time::Duration::from_millis(500),
            create_timeout: std::time::Duration::from_millis(500),
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let app = TestApp::serve(db, pool, Environment::Development).await;
    let started = std::time::Instant::now();
    let r = app
        .send(app.client.get(format!("{}/readyz", app.url)))
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body["status"], "unavailable");
    let h = app
        .send(app.client.get(format!("{}/healthz", app.url)))
        .await;
    assert_eq!(h.status, 200);
    let a = app
        .gql(
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            json!({ "i": { "email": "down@example.com", "password": crate::support::PASSWORD, "tenantName": "Down" } }),
            None,
        )
        .await;
    assert_eq!(a.code(), "UNAVAILABLE", "{:?}", a.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn readyz_reports_ready_on_a_migrated_database() {
    let app = TestApp::spawn().await;
    let r = app
        .send(app.client.get(format!("{}/readyz", app.url)))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["migrations"], "current");
}

#[tokio::test]
async fn playground_and_app_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/playground", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"));
    let html = res.text().await.unwrap();
    // Every script and stylesheet is ours: no CDN, no other origin.
    let refs: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/assets/") || s.starts_with("http") || s.starts_with("//"))
        .collect();
    assert!(!refs.is_empty(), "{html}");
    for r in &refs {
        assert!(r.starts_with("/assets/"), "external reference {r}");
        let asset = app
            .client
            .get(format!("{}{r}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{r}");
        assert!(
            asset.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
    let js: String = {
        let mut all = String::new();
        for r in refs.iter().filter(|r| r.ends_with(".js")) {
            all.push_str(
                &app.client
                    .get(format!("{}{r}", app.url))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
            );
        }
        all
    };
    assert!(
        js.contains("graphiql"),
        "the playground bundle has GraphiQL"
    );

    // The app shell, and client-side routes fall back to it.
    for path in ["/", "/some/client/route"] {
        let res = app
            .client
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(res.headers().get("content-security-policy").is_some());
    }
    let missing = app
        .client
        .get(format!("{}/assets/nope.js", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn web_dir_serves_the_app_from_disk_and_nothing_outside_it() {
    let dir = std::env::temp_dir().join(format!("tg-web-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>from disk</title>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app-1.js"), "console.log(1)").unwrap();
    std::fs::write(dir.join(".secret"), "no").unwrap();
    // Links that lead out of the folder are not followed; one inside it is.
    let outside = std::env::temp_dir().join(format!("tg-outside-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("passwd"), "root:x:0:0").unwrap();
    std::os::unix::fs::symlink(outside.join("passwd"), dir.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("outdir")).unwrap();
    std::os::unix::fs::symlink(dir.join("assets/app-1.js"), dir.join("assets/alias.js")).unwrap();
    let web_dir = dir.canonicalize().unwrap();
    let app = TestApp::spawn_tuned(move |s| s.web_dir = Some(web_dir)).await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.url)).send();
    let res = get("/assets/app-1.js").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/javascript");
    for path in [
        "/",
        "/team",
        "/.secret",
        "/%2e%2e/Cargo.toml",
        "/assets/../index.html",
    ] {
        let res = get(path).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(res.text().await.unwrap().contains("from disk"), "{path}");
    }
    assert_eq!(get("/assets/nope.js").await.unwrap().status(), 404);
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(outside).unwrap();
}

#[tokio::test]
async fn production_hides_introspection_and_suggestions_from_anonymous_callers() {
    let app = TestApp::spawn_with(Environment::Production, PoolOptions::default()).await;
    let a = app
        .gql("{ __schema { types { name } } }", json!({}), None)
        .await;
    assert!(a.body["data"]["__schema"].is_null(), "{:?}", a.body);
    assert!(!a.body.to_string().contains("Viewer"));
    let a = app.gql("{ viewe }", json!({}), None).await;
    let msg = a.body["errors"][0]["message"].as_str().unwrap();
    assert!(!msg.contains("viewer"), "suggested a field: {msg}");
    // A signed-in caller may introspect.
    let (token, _, _) = app.sign_up("intro@example.com", "Intro").await;
    let a = app
        .gql(
            "{ __schema { queryType { name } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        a.body["data"]["__schema"]["queryType"]["name"], "Query",
        "{:?}",
        a.body
    );

    // Development keeps both on.
    let dev = TestApp::spawn().await;
    let a = dev
        .gql("{ __schema { queryType { name } } }", json!({}), None)
        .await;
    assert_eq!(a.body["data"]["__schema"]["queryType"]["name"], "Query");
}
