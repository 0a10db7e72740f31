//! The first slice: signUp creates user, tenant and owner membership; viewer answers.

use serde_json::json;

use crate::support::{PASSWORD, TestApp};

const SIGN_UP: &str = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken expiresAt user { id email } tenant { id name slug status planKey } } }";
const VIEWER: &str = "{ viewer { user { id email } tenant { id name slug } role } }";

async fn rows(app: &TestApp) -> (i64, i64, i64) {
    (
        app.db.count("SELECT count(*) AS n FROM users").await,
        app.db.count("SELECT count(*) AS n FROM tenants").await,
        app.db.count("SELECT count(*) AS n FROM memberships").await,
    )
}

#[tokio::test]
async fn sign_up_then_viewer() {
    let app = TestApp::spawn().await;
    let a = app
        .gql(
            SIGN_UP,
            json!({ "i": { "email": "  Ada@Example.COM ", "password": PASSWORD, "tenantName": "Acme  Inc." } }),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let p = &a.body["data"]["signUp"];
    // Fields come back in the order the query selects them.
    let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["accessToken", "expiresAt", "user", "tenant"]);
    assert_eq!(p["user"]["email"], "ada@example.com");
    assert_eq!(p["tenant"]["name"], "Acme Inc.");
    assert_eq!(p["tenant"]["slug"], "acme-inc");
    assert_eq!(p["tenant"]["status"], "ACTIVE");
    assert_eq!(p["tenant"]["planKey"], "free");
    let token = p["accessToken"].as_str().unwrap();

    let v = app.gql(VIEWER, json!({}), Some(token)).await;
    assert_eq!(v.status, 200);
    let viewer = &v.body["data"]["viewer"];
    assert_eq!(viewer["user"]["id"], p["user"]["id"]);
    assert_eq!(viewer["user"]["email"], "ada@example.com");
    assert_eq!(viewer["tenant"]["id"], p["tenant"]["id"]);
    assert_eq!(viewer["tenant"]["slug"], "acme-inc");
    assert_eq!(viewer["role"], "OWNER");

    // The password is stored as an argon2id hash, never as given.
    let argon = app
        .db
        .count("SELECT count(*) AS n FROM users WHERE password_hash LIKE '$argon2id$%'")
        .await;
    assert_eq!(argon, 1);
    assert_eq!(rows(&app).await, (1, 1, 1));
}

#[tokio::test]
async fn viewer_is_null_for_anonymous_callers() {
    let app = TestApp::spawn().await;
    let v = app.gql(VIEWER, json!({}), None).await;
    assert_eq!(v.status, 200);
    assert!(v.body["data"]["viewer"].is_null());
    assert!(v.body.get("errors").is_none());
}

#[tokio::test]
async fn same_tenant_name_gets_a_distinct_slug() {
    let app = TestApp::spawn().await;
    app.sign_up("one@example.com", "Same Name").await;
    app.sign_up("two@example.com", "Same Name").await;
    let slugs = app
        .db
        .count("SELECT count(DISTINCT slug) AS n FROM tenants WHERE slug LIKE 'same-name%'")
        .await;
    assert_eq!(slugs, 2);
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.sign_up("taken@example.com", "First").await;
    let before = rows(&app).await;
    let cases = [
        ("not-an-email", PASSWORD, "T", "BAD_USER_INPUT", "email"),
        (
            "new@example.com",
            "short",
            "T",
            "BAD_USER_INPUT",
            "password",
        ),
        (
            "new@example.com",
            "password1234",
            "T",
            "BAD_USER_INPUT",
            "password",
        ),
        (
            "new@example.com",
            PASSWORD,
            "   ",
            "BAD_USER_INPUT",
            "tenantName",
        ),
        ("TAKEN@example.com", PASSWORD, "Second", "CONFLICT", ""),
    ];
    for (email, password, tenant, code, field) in cases {
        let a = app
            .gql(
                SIGN_UP,
                json!({ "i": { "email": email, "password": password, "tenantName": tenant } }),
                None,
            )
            .await;
        assert_eq!(a.code(), code, "{email} {password}: {:?}", a.body);
        if !field.is_empty() {
            assert_eq!(a.body["errors"][0]["extensions"]["field"], field);
        }
        assert!(a.body["data"].is_null(), "{:?}", a.body);
        assert_eq!(rows(&app).await, before, "{email} wrote something");
    }
}

#[tokio::test]
async fn a_removed_membership_acts_on_the_next_request() {
    let app = TestApp::spawn().await;
    let (token, _, tenant) = app.sign_up("gone@example.com", "Gone").await;
    let mut owner = app.db.owner().await;
    // From outside (as the owner role): another owner takes over, the user goes.
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut owner,
        &format!(
            "INSERT INTO users (id, email) VALUES ('{other}', 'other-owner@example.com');
             INSERT INTO memberships (tenant_id, user_id, role) VALUES ('{tenant}', '{other}', 'owner');
             DELETE FROM memberships WHERE tenant_id = '{tenant}' AND user_id <> '{other}'",
            other = uuid::Uuid::new_v4()
        ),
    )
    .await
    .unwrap();
    let v = app.gql(VIEWER, json!({}), Some(&token)).await;
    assert_eq!(v.status, 200);
    assert!(v.body["data"]["viewer"]["tenant"].is_null());
    assert!(v.body["data"]["viewer"]["role"].is_null());
}

#[tokio::test]
async fn a_suspended_tenant_is_forbidden_with_its_reason() {
    let app = TestApp::spawn().await;
    let (token, _, tenant) = app.sign_up("sus@example.com", "Suspended").await;
    let mut owner = app.db.owner().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE tenants SET status = 'suspended', status_reason = 'unpaid invoices' WHERE id = '{tenant}'"
        )),
        &mut owner,
    )
    .await
    .unwrap();
    let v = app.gql("{ tenant { id } }", json!({}), Some(&token)).await;
    assert_eq!(v.code(), "FORBIDDEN");
    assert!(
        v.body.to_string().contains("unpaid invoices"),
        "{:?}",
        v.body
    );
    // Still signed in: the viewer works, without the suspended tenant.
    let v = app.gql(VIEWER, json!({}), Some(&token)).await;
    assert_eq!(v.body["data"]["viewer"]["user"]["email"], "sus@example.com");
    assert!(v.body["data"]["viewer"]["tenant"].is_null());
}

#[tokio::test]
async fn x_tenant_id_of_another_tenant_shows_nothing_of_it() {
    let app = TestApp::spawn().await;
    let (token_a, _, _) = app.sign_up("a@example.com", "Tenant A").await;
    let (_, _, tenant_b) = app.sign_up("b@example.com", "Tenant B").await;
    let a = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token_a}"))
                .header("x-tenant-id", &tenant_b)
                .body(json!({ "query": VIEWER }).to_string()),
        )
        .await;
    assert_eq!(a.status, 200);
    let viewer = &a.body["data"]["viewer"];
    assert_eq!(viewer["user"]["email"], "a@example.com");
    assert!(viewer["tenant"].is_null(), "{:?}", a.body);
    assert!(viewer["role"].is_null());
    assert!(!a.body.to_string().contains("Tenant B"));
    assert!(!a.body.to_string().contains("b@example.com"));

    let bad = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token_a}"))
                .header("x-tenant-id", "not-a-uuid")
                .body(json!({ "query": VIEWER }).to_string()),
        )
        .await;
    assert_eq!(bad.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn invalid_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let other =
        tenantgate::auth::jwt::JwtKeys::new(b"some-other-deployment-secret-0123456789", None)
            .unwrap();
    let forged = other
        .issue_access(uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), None)
        .unwrap()
        .token;
    for token in ["garbage", forged.as_str()] {
        let a = app.gql(VIEWER, json!({}), Some(token)).await;
        assert_eq!(a.status, 401, "{:?}", a.body);
        assert_eq!(a.code(), "UNAUTHENTICATED");
        assert!(a.headers.get("www-authenticate").is_some());
        assert!(a.body.get("data").is_none());
    }
    // A valid token of a user that does not exist.
    let ghost = app
        .keys()
        .issue_access(uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), None)
        .unwrap()
        .token;
    let a = app.gql(VIEWER, json!({}), Some(&ghost)).await;
    assert_eq!(a.code(), "UNAUTHENTICATED");
}
