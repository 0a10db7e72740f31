//! Keys never exceed the key that made them: a key-made key gets at most its
//! maker's scopes, rate limit and expiry (and inherits them by default); a key
//! rotates or changes only keys within its own reach; recording usage through
//! `authorize` needs `usage:write`.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::keys::{
    CREATE, REVOKE, ROTATE, UPDATE, assert_code, assert_ok, create_key, header, v1, wait_live,
};
use crate::support::TestApp;

const CREATE_FULL: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id expiresAt rateLimit { limit periodSeconds } } } }";

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// The number of keys of `tenant`, as the database owner sees them.
async fn keys_of(app: &TestApp, tenant: &str) -> i64 {
    app.db
        .count(&format!(
            "SELECT count(*) AS n FROM api_keys WHERE tenant_id = '{tenant}'"
        ))
        .await
}

/// What a change to key `id` would alter, as the database owner sees it.
async fn state_of(app: &TestApp, id: &str) -> String {
    let mut conn = app.db.owner().await;
    crate::matrix::text(
        &mut conn,
        &format!(
            "SELECT concat_ws('|', name, encode(secret_hash, 'hex'), scopes::text, revoked_at::text,
                    rate_limit::text, expires_at::text) AS s
             FROM api_keys WHERE id = '{id}'"
        ),
    )
    .await
}

/// Creates a key as `token`, returning the payload (`secret`, `apiKey`).
async fn create_full(app: &TestApp, token: &str, input: Value) -> Value {
    let a = app
        .gql(CREATE_FULL, json!({ "i": input }), Some(token))
        .await;
    assert_ok(&a, &format!("create {input}"));
    a.body["data"]["createApiKey"].clone()
}

#[tokio::test]
async fn a_key_made_key_gets_at_most_its_makers_limit_and_expiry() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("maker@reach.test", "Reach").await;
    let expires = Utc::now() + Duration::hours(1);
    let maker = create_full(
        &app,
        &owner,
        json!({ "name": "maker", "scopes": ["KEYS_WRITE", "TENANT_READ"],
                "rateLimit": { "limit": 10, "periodSeconds": 60 }, "expiresAt": expires.to_rfc3339() }),
    )
    .await;
    let maker_secret = maker["secret"].as_str().unwrap().to_owned();
    let maker_expiry = at(&maker["apiKey"]["expiresAt"]);

    // Nothing asked: the maker's limit and expiry.
    let child = create_full(&app, &maker_secret, json!({ "name": "child" })).await;
    assert_eq!(
        child["apiKey"]["rateLimit"],
        json!({ "limit": 10, "periodSeconds": 60 })
    );
    assert_eq!(at(&child["apiKey"]["expiresAt"]), maker_expiry);
    // Within: as asked.
    let sooner = (Utc::now() + Duration::minutes(30)).to_rfc3339();
    let child = create_full(
        &app,
        &maker_secret,
        json!({ "name": "small", "rateLimit": { "limit": 5, "periodSeconds": 60 }, "expiresAt": sooner }),
    )
    .await;
    assert_eq!(child["apiKey"]["rateLimit"]["limit"], 5);
    assert!(at(&child["apiKey"]["expiresAt"]) < maker_expiry);

    // Beyond: refused, naming the field, and nothing is created.
    let before = keys_of(&app, &tenant).await;
    let later = (Utc::now() + Duration::hours(2)).to_rfc3339();
    for (input, field) in [
        (
            json!({ "name": "x", "rateLimit": { "limit": 11, "periodSeconds": 60 } }),
            "rateLimit",
        ),
        // Fewer at once, but faster: 10 a second is more than 10 a minute.
        (
            json!({ "name": "x", "rateLimit": { "limit": 10, "periodSeconds": 1 } }),
            "rateLimit",
        ),
        (json!({ "name": "x", "expiresAt": later }), "expiresAt"),
    ] {
        let a = app
            .gql(CREATE, json!({ "i": input }), Some(&maker_secret))
            .await;
        assert_code(&a, "FORBIDDEN", &input.to_string());
        let message = a.body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.starts_with(field), "{input}: {message}");
    }
    assert_eq!(keys_of(&app, &tenant).await, before);

    // A maker without a limit or an expiry: its children follow the plan's
    // API calls per hour too, and never beyond it.
    let open = create_key(
        &app,
        &owner,
        json!({ "name": "open", "scopes": ["KEYS_WRITE", "TENANT_READ"] }),
    )
    .await
    .1;
    let child = create_full(&app, &open, json!({ "name": "plain" })).await;
    assert!(child["apiKey"]["rateLimit"].is_null(), "{child}");
    assert!(child["apiKey"]["expiresAt"].is_null(), "{child}");
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "name": "x", "rateLimit": { "limit": 1001, "periodSeconds": 3600 } } }),
            Some(&open),
        )
        .await;
    assert_code(&a, "FORBIDDEN", "above the free plan's 1,000 an hour");
    create_full(
        &app,
        &open,
        json!({ "name": "plan", "rateLimit": { "limit": 1000, "periodSeconds": 3600 } }),
    )
    .await;

    // A secret being rotated out stops working at the end of its grace
    // period; what it makes stops then too.
    let (rotating_id, rotating) = create_key(
        &app,
        &owner,
        json!({ "name": "rotating", "scopes": ["KEYS_WRITE", "TENANT_READ"] }),
    )
    .await;
    let r = app
        .gql(ROTATE, json!({ "id": rotating_id, "g": 600 }), Some(&owner))
        .await;
    assert_ok(&r, "rotate with grace");
    let grace_end = at(&r.body["data"]["rotateApiKey"]["apiKey"]["rotationEndsAt"]);
    let child = create_full(&app, &rotating, json!({ "name": "from old" })).await;
    assert_eq!(at(&child["apiKey"]["expiresAt"]), grace_end);
    // And it cannot rotate its own key into a fresh, lasting secret.
    let r = app
        .gql(
            ROTATE,
            json!({ "id": rotating_id, "g": 0 }),
            Some(&rotating),
        )
        .await;
    assert_code(&r, "FORBIDDEN", "an old secret rotating its key");
}

#[tokio::test]
async fn a_key_rotates_and_changes_only_keys_within_its_reach() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("sibling@reach.test", "Siblings").await;
    let hour = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let (_, maker) = create_key(
        &app,
        &owner,
        json!({ "name": "maker", "scopes": ["KEYS_WRITE", "KEYS_READ", "TENANT_READ"],
                "rateLimit": { "limit": 100, "periodSeconds": 60 }, "expiresAt": hour }),
    )
    .await;
    let sibling = |name: &str, rate: Value, minutes: Option<i64>| {
        let mut input = json!({ "name": name, "scopes": ["TENANT_READ"], "rateLimit": rate });
        if let Some(m) = minutes {
            input["expiresAt"] = json!((Utc::now() + Duration::minutes(m)).to_rfc3339());
        }
        input
    };
    let small = json!({ "limit": 5, "periodSeconds": 60 });
    let (plan_rate, _) = create_key(&app, &owner, sibling("plan", json!(null), Some(30))).await;
    let (fast, _) = create_key(
        &app,
        &owner,
        sibling(
            "fast",
            json!({ "limit": 101, "periodSeconds": 60 }),
            Some(30),
        ),
    )
    .await;
    let (forever, _) = create_key(&app, &owner, sibling("forever", small.clone(), None)).await;
    let (late, _) = create_key(&app, &owner, sibling("late", small.clone(), Some(120))).await;
    let (fits, _) = create_key(&app, &owner, sibling("fits", small.clone(), Some(30))).await;

    for (id, field) in [
        (&plan_rate, "rateLimit"),
        (&fast, "rateLimit"),
        (&forever, "expiresAt"),
        (&late, "expiresAt"),
    ] {
        let before = state_of(&app, id).await;
        let r = app
            .gql(ROTATE, json!({ "id": id, "g": 0 }), Some(&maker))
            .await;
        assert_code(&r, "FORBIDDEN", &format!("rotating {id}"));
        let message = r.body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.starts_with(field), "{field}: {message}");
        let u = app
            .gql(
                UPDATE,
                json!({ "i": { "id": id, "name": "mine now", "scopes": [] } }),
                Some(&maker),
            )
            .await;
        assert_code(&u, "FORBIDDEN", &format!("updating {id}"));
        // Unchanged: same name, same secret.
        assert_eq!(state_of(&app, id).await, before, "{id} changed");
        // Revoking only takes power away: allowed.
        let r = app.gql(REVOKE, json!({ "id": id }), Some(&maker)).await;
        assert_ok(&r, "revoking a sibling beyond reach");
    }
    let r = app
        .gql(ROTATE, json!({ "id": fits, "g": 0 }), Some(&maker))
        .await;
    assert_ok(&r, "rotating a sibling within reach");
    let u = app
        .gql(
            UPDATE,
            json!({ "i": { "id": fits, "name": "renamed", "scopes": [] } }),
            Some(&maker),
        )
        .await;
    assert_ok(&u, "updating a sibling within reach");
}

#[tokio::test]
async fn recording_usage_needs_usage_write() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("usage@reach.test", "Usage Scope").await;
    let (_, reader) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["TENANT_READ"], "rateLimit": { "limit": 3, "periodSeconds": 3600 } }),
    )
    .await;
    let (_, writer) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    wait_live(&app).await;

    // Refused before the limits: five refusals spend none of its 3 calls.
    for _ in 0..5 {
        let a = v1(
            &app,
            &reader,
            json!({ "metric": "api_calls", "quantity": 2 }),
        )
        .await;
        assert_eq!(a.status, 403, "{:?}", a.body);
        assert_eq!(a.body["allowed"], false);
        assert_eq!(a.body["error"]["code"], "FORBIDDEN");
        let message = a.body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("usage:write"), "{message}");
    }
    let a = v1(&app, &reader, json!({})).await;
    assert_eq!(a.status, 200, "checking without recording: {:?}", a.body);
    assert_eq!(a.body["recorded"], false);
    assert_eq!(header(&a, "ratelimit-remaining"), "2");

    // Over GraphQL: FORBIDDEN with a metric, a plain check still answers.
    let g = app
        .gql(
            "mutation { authorize(input: { metric: \"api_calls\" }) { allowed recorded } }",
            json!({}),
            Some(&reader),
        )
        .await;
    assert_code(
        &g,
        "FORBIDDEN",
        "graphql authorize recording without usage:write",
    );
    assert!(g.body["data"].is_null() || g.body["data"]["authorize"].is_null());
    let g = app
        .gql(
            "mutation { authorize { allowed recorded } }",
            json!({}),
            Some(&reader),
        )
        .await;
    assert_ok(&g, "graphql authorize without recording");
    assert_eq!(g.body["data"]["authorize"]["allowed"], true);

    let a = v1(&app, &writer, json!({ "metric": "api_calls" })).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["recorded"], true);
    app.state.usage.flush(&app.state.db).await.unwrap();
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'"
            ))
            .await,
        1,
        "only the key with usage:write recorded anything"
    );
}
