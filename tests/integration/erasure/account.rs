//! `deleteMyAccount`: the last-owner refusal, the fresh sign-in, an opaque
//! actor left in other tenants' trails.

use serde_json::{Value, json};

use super::*;
use crate::keys::{assert_code, assert_ok, create_key, v1};
use crate::matrix::join;
use crate::support::TestApp;

#[tokio::test]
async fn deleting_my_account_leaves_an_opaque_actor_and_refuses_the_last_owner() {
    let app = TestApp::spawn().await;
    let (a_owner, _, a_tenant) = app.sign_up("alice@one.test", "One Co").await;
    let (leaver, leaver_id, b_tenant) = app.sign_up("leaver@two.test", "Two Co").await;
    let mut db = owner_db(&app).await;
    // The leaver is an admin of One Co, with a key, and the only owner of Two Co.
    let a = app
        .gql(
            crate::matrix::INVITE,
            json!({ "i": { "email": "leaver@two.test", "role": "ADMIN" } }),
            Some(&a_owner),
        )
        .await;
    assert_ok(&a, "invite");
    let token = crate::matrix::invitation_token(&mut db, "leaver@two.test").await;
    let a = app
        .gql(
            crate::matrix::ACCEPT,
            json!({ "i": { "token": token } }),
            Some(&leaver),
        )
        .await;
    assert_ok(&a, "accept");
    let in_one = a.body["data"]["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let (key_id, secret) = create_key(&app, &in_one, json!({})).await;

    // One Co's outbox names them (invitation.created, member.joined); a
    // receiver of One Co echoed their address in its answer.
    let echoes = format!(
        "SELECT count(*) AS n FROM webhook_events WHERE tenant_id = '{a_tenant}' \
         AND payload::text LIKE '%leaver@two.test%'"
    );
    assert!(app.db.count(&echoes).await >= 2, "the outbox names them");
    {
        use diesel_async::RunQueryDsl;
        diesel::sql_query(format!(
            "WITH e AS (INSERT INTO webhook_endpoints (id, tenant_id, url, secret_sealed) \
               VALUES (gen_random_uuid(), '{a_tenant}', 'https://hooks.one.test/x', '\\x00') \
               RETURNING id), \
             d AS (INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, status, completed_at) \
               SELECT gen_random_uuid(), '{a_tenant}', e.id, \
                      (SELECT id FROM webhook_events WHERE tenant_id = '{a_tenant}' LIMIT 1), \
                      'succeeded', now() FROM e RETURNING id) \
             INSERT INTO webhook_attempts (id, tenant_id, delivery_id, attempted_at, status_code, \
               latency_ms, response_excerpt) \
             SELECT gen_random_uuid(), '{a_tenant}', d.id, now(), 200, 5, \
                    'got {{\"email\": \"Leaver@Two.test\"}} thanks' FROM d"
        ))
        .execute(&mut db)
        .await
        .unwrap();
    }

    let a = app.gql(DELETE_ME, json!({}), Some(&leaver)).await;
    assert_code(&a, "CONFLICT", "the last owner of Two Co");
    let listed = &a.body["errors"][0]["extensions"]["tenants"];
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], b_tenant.as_str());
    assert_eq!(listed[0]["name"], "Two Co");

    // Someone else becomes owner of Two Co; a stale sign-in is refused.
    let (_, helper_id) = join(&app, &mut db, &leaver, "helper@two.test", "OWNER").await;
    let _ = helper_id;
    age_sessions(&app, &leaver_id).await;
    let a = app.gql(DELETE_ME, json!({}), Some(&leaver)).await;
    assert_code(&a, "REAUTHENTICATION_REQUIRED", "stale");
    let fresh = log_in(&app, "leaver@two.test").await;
    let a = app.gql(DELETE_ME, json!({}), Some(&fresh)).await;
    assert_ok(&a, "deleteMyAccount");

    assert_eq!(
        traces_of_person(&app, &leaver_id, "leaver@two.test").await,
        Vec::<String>::new()
    );
    assert_eq!(
        v1(&app, &secret, json!({})).await.status,
        401,
        "their key is revoked"
    );
    assert_code(
        &app.gql(TENANT, json!({}), Some(&fresh)).await,
        "UNAUTHENTICATED",
        "signed out",
    );
    // One Co's trail stays readable, their entries under an opaque id.
    let a = app
        .gql(
            "{ tenant { auditLog(first: 50) { nodes { action actorId actorLabel targetId ip userAgent } } } }",
            json!({}),
            Some(&a_owner),
        )
        .await;
    assert_ok(&a, "audit log");
    let nodes = a.body["data"]["tenant"]["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let theirs: Vec<&Value> = nodes
        .iter()
        .filter(|e| e["actorId"] == leaver_id.as_str())
        .collect();
    assert!(
        theirs.iter().any(|e| e["action"] == "member.leave"),
        "{nodes:?}"
    );
    assert!(
        theirs
            .iter()
            .any(|e| e["action"] == "api_key.revoke" && e["targetId"] == key_id.as_str())
    );
    assert!(
        theirs.iter().any(|e| e["action"] == "api_key.create"),
        "made before: {theirs:?}"
    );
    assert!(
        theirs
            .iter()
            .all(|e| e["actorLabel"].is_null() && e["ip"].is_null() && e["userAgent"].is_null()),
        "{theirs:?}"
    );
    assert!(!a.body.to_string().contains("leaver@two.test"));
    let _ = a_tenant;
}
