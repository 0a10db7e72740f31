//! Managing endpoints through GraphQL.

use serde_json::json;

use super::{CREATE, DELETE, LIST, ONE, REPLAY, ROTATE, TEST, UPDATE, create};
use crate::keys::create_key;
use crate::matrix::join;
use crate::support::TestApp;

const URL: &str = "https://hooks.example.com/tenantgate";

#[tokio::test]
async fn owners_manage_endpoints_and_the_secret_is_shown_once_and_sealed() {
    let app = TestApp::spawn().await;
    let (token, _, tenant) = app.sign_up("owner@hooks.test", "Hooks").await;
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "url": URL, "description": "CRM sync", "eventTypes": ["member.joined", "member.joined", "api_key.created"] } }),
            Some(&token),
        )
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let made = &a.body["data"]["createWebhookEndpoint"];
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(
        made["endpoint"]["eventTypes"],
        json!(["member.joined", "api_key.created"])
    );
    assert_eq!(made["endpoint"]["enabled"], json!(true));
    let id = made["endpoint"]["id"].as_str().unwrap().to_owned();

    // Listed and read back, without the secret.
    let a = app.gql(LIST, json!({}), Some(&token)).await;
    assert_eq!(
        a.body["data"]["tenant"]["webhookEndpoints"][0]["id"],
        json!(id)
    );
    assert!(!a.body.to_string().contains(&secret[6..]));
    // The secret is stored sealed: no trace of it (or its key) in the row.
    let mut owner = app.db.owner().await;
    let dump = dump_row(&mut owner, &id).await;
    assert!(
        !dump.contains(&secret[6..]),
        "the secret is stored in the clear"
    );

    // Rotation: a new secret; the old one still signs for a day.
    let a = app.gql(ROTATE, json!({ "id": id }), Some(&token)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let rotated = &a.body["data"]["rotateWebhookSecret"];
    assert_ne!(rotated["secret"], json!(secret));
    let until: chrono::DateTime<chrono::Utc> = rotated["endpoint"]["previousSecretExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let hours = (until - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.1).contains(&hours), "{hours}");

    // Update, disable (a test send is then refused), enable, delete.
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "description": "CRM", "eventTypes": [], "enabled": false } }),
            Some(&token),
        )
        .await;
    let u = &a.body["data"]["updateWebhookEndpoint"];
    assert_eq!(u["enabled"], json!(false), "{:?}", a.body);
    assert_eq!(u["eventTypes"], json!([]));
    assert_eq!(u["disabledReason"], json!("disabled by owner@hooks.test"));
    let a = app.gql(TEST, json!({ "id": id }), Some(&token)).await;
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "enabled": true } }),
            Some(&token),
        )
        .await;
    assert_eq!(
        a.body["data"]["updateWebhookEndpoint"]["disabledReason"],
        json!(null)
    );
    let a = app.gql(TEST, json!({ "id": id }), Some(&token)).await;
    assert_eq!(
        a.body["data"]["sendTestWebhook"]["eventType"],
        json!("webhook.test"),
        "{:?}",
        a.body
    );
    assert_eq!(
        a.body["data"]["sendTestWebhook"]["status"],
        json!("PENDING")
    );
    let a = app.gql(DELETE, json!({ "id": id }), Some(&token)).await;
    assert_eq!(
        a.body["data"]["deleteWebhookEndpoint"]["id"],
        json!(id),
        "{:?}",
        a.body
    );
    let a = app.gql(ONE, json!({ "id": id }), Some(&token)).await;
    assert_eq!(a.body["data"]["tenant"]["webhookEndpoint"], json!(null));

    // Every change is in the trail.
    let actions = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' AND action IN \
             ('webhook_endpoint.create', 'webhook_endpoint.rotate_secret', \
              'webhook_endpoint.update', 'webhook_endpoint.test', 'webhook_endpoint.delete')"
        ))
        .await;
    assert_eq!(actions, 6);
}

async fn dump_row(owner: &mut diesel_async::AsyncPgConnection, id: &str) -> String {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT (e.*)::text || encode(e.secret_sealed, 'base64') || encode(e.secret_sealed, 'escape') AS t \
         FROM webhook_endpoints e WHERE id = '{id}'"
    ))
    .load(owner)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.t).collect()
}

#[tokio::test]
async fn bad_inputs_are_coded_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (token, _, tenant) = app.sign_up("owner@bad-hooks.test", "Bad hooks").await;
    let long = format!("https://hooks.example.com/{}", "a".repeat(2048));
    let desc = "d".repeat(501);
    for input in [
        json!({ "url": "http://hooks.example.com/" }),
        json!({ "url": "https://user:pw@hooks.example.com/" }),
        json!({ "url": "https://hooks.example.com:22/" }),
        json!({ "url": "https://127.0.0.1/" }),
        json!({ "url": "https://10.0.0.8/" }),
        json!({ "url": "https://169.254.169.254/latest/meta-data/" }),
        json!({ "url": "https://[::1]/" }),
        json!({ "url": "https://[::ffff:127.0.0.1]/" }),
        json!({ "url": "not a url" }),
        json!({ "url": long }),
        json!({ "url": URL, "description": desc }),
        json!({ "url": URL, "eventTypes": ["member.nope"] }),
        json!({ "url": URL, "eventTypes": ["webhook.test"] }),
    ] {
        let a = app.gql(CREATE, json!({ "i": input }), Some(&token)).await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{input}: {:?}", a.body);
        assert!(a.body["errors"][0]["message"].as_str().unwrap().len() > 10);
    }
    let (id, _) = create(&app, &token, json!({ "url": URL })).await;
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "url": "http://x.example.com/" } }),
            Some(&token),
        )
        .await;
    assert_eq!(a.code(), "BAD_USER_INPUT");
    for (op, vars) in [
        (UPDATE, json!({ "i": { "id": "nope", "enabled": false } })),
        (DELETE, json!({ "id": "nope" })),
        (ROTATE, json!({ "id": "nope" })),
        (REPLAY, json!({ "id": "nope" })),
        (TEST, json!({ "id": "nope" })),
        (ONE, json!({ "id": "nope" })),
    ] {
        let a = app.gql(op, vars, Some(&token)).await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{op}: {:?}", a.body);
    }
    let a = app
        .gql(ONE, json!({ "id": id, "first": 101 }), Some(&token))
        .await;
    assert_eq!(a.code(), "BAD_USER_INPUT");
    // At most 20 endpoints.
    for i in 1..20 {
        create(&app, &token, json!({ "url": format!("{URL}/{i}") })).await;
    }
    let a = app
        .gql(CREATE, json!({ "i": { "url": URL } }), Some(&token))
        .await;
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);
    assert_eq!(
        a.body["errors"][0]["extensions"]["limit"],
        json!(20),
        "{:?}",
        a.body
    );
    let stored = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM webhook_endpoints WHERE tenant_id = '{tenant}'"
        ))
        .await;
    assert_eq!(stored, 20);
    let unchanged = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM webhook_endpoints WHERE id = '{id}' AND url = '{URL}' AND enabled"
        ))
        .await;
    assert_eq!(unchanged, 1);
}

#[tokio::test]
async fn roles_keys_and_other_tenants() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("owner@roles-hooks.test", "Roles hooks").await;
    app.set_plan(&tenant, "pro").await;
    let (other, _, _) = app.sign_up("owner@other-hooks.test", "Other hooks").await;
    let mut conn = app.db.owner().await;
    let (member, _) = join(&app, &mut conn, &owner, "member@roles-hooks.test", "MEMBER").await;
    let (admin, _) = join(&app, &mut conn, &owner, "admin@roles-hooks.test", "ADMIN").await;
    let (id, _) = create(&app, &owner, json!({ "url": URL })).await;

    // Members below admin neither read nor write; admins do both.
    assert_eq!(
        app.gql(LIST, json!({}), Some(&member)).await.code(),
        "FORBIDDEN"
    );
    let a = app
        .gql(CREATE, json!({ "i": { "url": URL } }), Some(&member))
        .await;
    assert_eq!(a.code(), "FORBIDDEN");
    let a = app.gql(LIST, json!({}), Some(&admin)).await;
    assert_eq!(
        a.body["data"]["tenant"]["webhookEndpoints"][0]["id"],
        json!(id)
    );
    create(&app, &admin, json!({ "url": format!("{URL}/admin") })).await;

    // Keys: webhooks:read reads, webhooks:write writes, nothing else does.
    let (_, reader) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["TENANT_READ", "WEBHOOKS_READ"] }),
    )
    .await;
    let (_, writer) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["WEBHOOKS_WRITE", "USAGE_READ"] }),
    )
    .await;
    let (_, neither) = create_key(&app, &owner, json!({ "scopes": ["TENANT_READ"] })).await;
    let a = app.gql(LIST, json!({}), Some(&reader)).await;
    assert_eq!(
        a.body["data"]["tenant"]["webhookEndpoints"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{:?}",
        a.body
    );
    assert_eq!(
        app.gql(LIST, json!({}), Some(&neither)).await.code(),
        "FORBIDDEN"
    );
    let a = app
        .gql(CREATE, json!({ "i": { "url": URL } }), Some(&reader))
        .await;
    assert_eq!(a.code(), "FORBIDDEN");
    let (by_key, _) = create(&app, &writer, json!({ "url": format!("{URL}/key") })).await;
    let a = app
        .gql(ROTATE, json!({ "id": by_key }), Some(&writer))
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);

    // Another tenant's owner: none of it is there.
    let a = app.gql(ONE, json!({ "id": id }), Some(&other)).await;
    assert_eq!(
        a.body["data"]["tenant"]["webhookEndpoint"],
        json!(null),
        "{:?}",
        a.body
    );
    let a = app.gql(LIST, json!({}), Some(&other)).await;
    assert_eq!(a.body["data"]["tenant"]["webhookEndpoints"], json!([]));
    for (op, vars) in [
        (UPDATE, json!({ "i": { "id": id, "enabled": false } })),
        (DELETE, json!({ "id": id })),
        (ROTATE, json!({ "id": id })),
        (TEST, json!({ "id": id })),
    ] {
        let a = app.gql(op, vars, Some(&other)).await;
        assert_eq!(a.code(), "NOT_FOUND", "{op}: {:?}", a.body);
    }
    // A delivery of A's, replayed by B: not found either.
    let a = app.gql(TEST, json!({ "id": id }), Some(&owner)).await;
    let delivery = a.body["data"]["sendTestWebhook"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", a.body))
        .to_owned();
    let a = app
        .gql(REPLAY, json!({ "id": delivery }), Some(&other))
        .await;
    assert_eq!(a.code(), "NOT_FOUND");
    let a = app
        .gql(REPLAY, json!({ "id": delivery }), Some(&owner))
        .await;
    assert_eq!(
        a.body["data"]["replayWebhookDelivery"]["replayOf"],
        json!(delivery),
        "{:?}",
        a.body
    );
    // Anonymous: signed out.
    assert_eq!(
        app.gql(CREATE, json!({ "i": { "url": URL } }), None)
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    let a = app.gql("{ webhookEventTypes }", json!({}), None).await;
    assert!(
        a.body["data"]["webhookEventTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("member.joined"))
    );
}
