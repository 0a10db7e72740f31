//! API keys (created, rotated, revoked: never their secret), the tenant's
//! settings, its suspension by a platform admin and its deletion (scheduled,
//! cancelled); a change that fails at its commit writes no event.

use diesel_async::SimpleAsyncConnection;
use serde_json::json;

use super::{events, holds_no_secret, kinds, ok, since, total};
use crate::erasure::{CANCEL, delete_tenant};
use crate::keys::{REVOKE, ROTATE, UPDATE, create_key};
use crate::support::TestApp;

const RENAME: &str = "mutation($i: UpdateTenantInput!) { updateTenant(input: $i) { name slug } }";
const SUSPEND: &str =
    "mutation($id: ID!) { suspendTenant(id: $id, reason: \"unpaid invoices\") { status } }";
const REACTIVATE: &str = "mutation($id: ID!) { reactivateTenant(id: $id) { status } }";

#[tokio::test]
async fn key_changes_emit_their_events_without_secrets() {
    let app = TestApp::spawn().await;
    let (owner, owner_id, tenant) = app.sign_up("keys@hooks.test", "Keys Co").await;
    let (other, _, other_tenant) = app.sign_up("other@hooks.test", "Other Co").await;

    let (id, secret) = create_key(
        &app,
        &owner,
        json!({ "name": "ci", "scopes": ["USAGE_WRITE"], "environment": "TEST" }),
    )
    .await;
    let e = events(&app, &tenant).await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, "api_key.created");
    let d = &e[0].data;
    assert_eq!(d["keyId"], id.as_str());
    assert_eq!(d["name"], "ci");
    assert_eq!(d["environment"], "test");
    assert_eq!(d["scopes"], json!(["usage:write"]));
    assert_eq!(d["createdBy"], owner_id.as_str());
    let prefix = d["prefix"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with(&prefix),
        "{prefix} / a display prefix of the secret"
    );

    let a = app
        .gql(ROTATE, json!({ "id": id, "g": 3600 }), Some(&owner))
        .await;
    let rotated = ok(&a, "rotate")["rotateApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    // A change of name only is no event of the list.
    ok(
        &app.gql(
            UPDATE,
            json!({ "i": { "id": id, "name": "ci-2" } }),
            Some(&owner),
        )
        .await,
        "rename",
    );
    ok(
        &app.gql(REVOKE, json!({ "id": id }), Some(&owner)).await,
        "revoke",
    );
    // Revoking a revoked key changes nothing and emits nothing; another
    // tenant's owner finds no such key.
    ok(
        &app.gql(REVOKE, json!({ "id": id }), Some(&owner)).await,
        "again",
    );
    let a = app.gql(REVOKE, json!({ "id": id }), Some(&other)).await;
    assert_eq!(a.code(), "NOT_FOUND", "{:?}", a.body);
    let a = app
        .gql(ROTATE, json!({ "id": id, "g": 0 }), Some(&owner))
        .await;
    assert_eq!(a.code(), "CONFLICT", "rotating a revoked key: {:?}", a.body);

    let e = events(&app, &tenant).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["api_key.created", "api_key.rotated", "api_key.revoked"]
    );
    assert!(rotated.starts_with(e[1].data["prefix"].as_str().unwrap()));
    assert_ne!(
        e[1].data["prefix"],
        prefix.as_str(),
        "the new secret's prefix"
    );
    assert!(e[1].data["previousValidUntil"].is_string());
    assert_eq!(e[2].data["name"], "ci-2");
    assert_eq!(e[2].data["reason"], "revoked");
    assert!(e[2].data["revokedAt"].is_string());
    holds_no_secret(&e, &secret);
    holds_no_secret(&e, &rotated);
    assert_eq!(kinds(&app, &other_tenant).await, Vec::<String>::new());

    // A key with `keys:write` makes and revokes a key: the same events, in
    // the key's tenant, the child made on behalf of the maker's creator.
    let (_, maker) = create_key(
        &app,
        &owner,
        json!({ "name": "maker", "scopes": ["KEYS_WRITE", "TENANT_READ"] }),
    )
    .await;
    let seen = events(&app, &tenant).await.len();
    let (child, child_secret) = create_key(&app, &maker, json!({ "name": "child" })).await;
    ok(
        &app.gql(REVOKE, json!({ "id": child }), Some(&maker)).await,
        "a key revokes",
    );
    let e = since(&app, &tenant, seen).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["api_key.created", "api_key.revoked"]
    );
    assert_eq!(e[0].data["keyId"], child.as_str());
    assert_eq!(e[0].data["createdBy"], owner_id.as_str());
    assert_eq!(e[1].data["reason"], "revoked");
    holds_no_secret(&e, &child_secret);
    holds_no_secret(&e, &maker);
    assert_eq!(kinds(&app, &other_tenant).await, Vec::<String>::new());
}

#[tokio::test]
async fn tenant_changes_emit_their_events_and_a_failed_commit_none() {
    let app = TestApp::spawn().await;
    let (owner, owner_id, tenant) = app.sign_up("own@tenant.test", "Tenant Co").await;
    let (staff, _, staff_tenant) = app.sign_up("staff@tenant.test", "Staff Co").await;

    let a = app
        .gql(
            RENAME,
            json!({ "i": { "name": "Renamed Co" } }),
            Some(&owner),
        )
        .await;
    ok(&a, "rename");
    let e = events(&app, &tenant).await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, "tenant.updated");
    assert_eq!(e[0].data["tenantId"], tenant.as_str());
    assert_eq!(e[0].data["name"], "Renamed Co");
    assert_eq!(e[0].data["changed"], json!(["name"]));
    assert_eq!(e[0].data["previous"], json!({ "name": "Tenant Co" }));
    // Nothing changed: no event.
    let a = app
        .gql(
            RENAME,
            json!({ "i": { "name": "Renamed Co" } }),
            Some(&owner),
        )
        .await;
    ok(&a, "same name");
    let a = app
        .gql(
            RENAME,
            json!({ "i": { "slug": "renamed-co" } }),
            Some(&owner),
        )
        .await;
    ok(&a, "new slug");
    let e = since(&app, &tenant, 1).await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].data["changed"], json!(["slug"]));
    assert_eq!(e[0].data["slug"], "renamed-co");

    // A change that fails as it commits (a deferred trigger refuses it,
    // after its audit entry and event were written) leaves neither.
    let mut db = app.db.owner().await;
    db.batch_execute(
        "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
         CREATE CONSTRAINT TRIGGER test_refuse AFTER UPDATE ON tenants
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
           WHEN (NEW.name = 'Doomed') EXECUTE FUNCTION test_refuse();",
    )
    .await
    .unwrap();
    let audit = format!(
        "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' AND action = 'tenant.update'"
    );
    let audited = app.db.count(&audit).await;
    let before = total(&app).await;
    let a = app
        .gql(RENAME, json!({ "i": { "name": "Doomed" } }), Some(&owner))
        .await;
    assert!(a.body.get("errors").is_some(), "{:?}", a.body);
    assert_eq!(
        total(&app).await,
        before,
        "a rolled-back change emits nothing"
    );
    assert_eq!(app.db.count(&audit).await, audited);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM tenants WHERE id = '{tenant}' AND name = 'Renamed Co'"
            ))
            .await,
        1
    );

    // Suspended and reactivated by a platform admin: the tenant's events,
    // none in the admin's own tenant.
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@tenant.test", true)
        .await
        .unwrap();
    ok(
        &app.gql(SUSPEND, json!({ "id": tenant }), Some(&staff))
            .await,
        "suspend",
    );
    ok(
        &app.gql(REACTIVATE, json!({ "id": tenant }), Some(&staff))
            .await,
        "reactivate",
    );
    // Refused (already active): nothing.
    let a = app
        .gql(REACTIVATE, json!({ "id": tenant }), Some(&staff))
        .await;
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);
    let e = since(&app, &tenant, 2).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["tenant.suspended", "tenant.reactivated"]
    );
    assert_eq!(e[0].data["status"], "suspended");
    assert_eq!(e[0].data["previousStatus"], "active");
    assert_eq!(e[0].data["reason"], "unpaid invoices");
    assert_eq!(e[1].data["status"], "active");
    assert_eq!(e[1].data["previousStatus"], "suspended");
    assert_eq!(kinds(&app, &staff_tenant).await, Vec::<String>::new());

    // Deletion scheduled and cancelled by the owner.
    let d = delete_tenant(&app, &owner).await;
    ok(&app.gql(CANCEL, json!({}), Some(&owner)).await, "cancel");
    let e = since(&app, &tenant, 4).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["tenant.deletion_scheduled", "tenant.deletion_canceled"]
    );
    assert_eq!(e[0].data["status"], "pending_deletion");
    assert_eq!(e[0].data["requestedBy"], owner_id.as_str());
    let due =
        |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(
        due(&e[0].data["purgeAfter"]),
        due(&d["deletion"]["purgeAfter"])
    );
    assert_eq!(e[1].data["status"], "active");
    assert_eq!(e[1].data["canceledBy"], owner_id.as_str());
    assert_eq!(kinds(&app, &staff_tenant).await, Vec::<String>::new());
}

/// A suspension that reads the tenant active while another change of its
/// status is committing is refused (CONFLICT), not written over it: no
/// second `tenant.suspended`, no wrong `previousStatus`.
#[tokio::test]
async fn a_suspension_racing_another_status_change_is_refused() {
    let app = TestApp::spawn().await;
    let (_, _, tenant) = app.sign_up("raced@tenant.test", "Raced Co").await;
    let (staff, _, _) = app.sign_up("staff@race.test", "Race Staff").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@race.test", true)
        .await
        .unwrap();
    let seen = kinds(&app, &tenant).await.len();
    // Another change holds the row: the suspension reads it active, then waits.
    let mut db = app.db.owner().await;
    db.batch_execute(&format!(
        "BEGIN; UPDATE tenants SET status = 'suspended', status_reason = 'the other admin' \
         WHERE id = '{tenant}';"
    ))
    .await
    .unwrap();
    let (a, ()) = tokio::join!(
        app.gql(SUSPEND, json!({ "id": tenant }), Some(&staff)),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            db.batch_execute("COMMIT").await.unwrap();
        }
    );
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);
    assert_eq!(since(&app, &tenant, seen).await.len(), 0, "no event");
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM tenants WHERE id = '{tenant}' \
                 AND status_reason = 'the other admin'"
            ))
            .await,
        1
    );
}

/// A key with webhooks:write and webhooks:read hears and reads only the
/// event families its other scopes read: it subscribes to those only ("all"
/// stands for them), may not re-point an endpoint hearing more, and reads
/// other families' payloads redacted.
#[tokio::test]
async fn a_webhooks_key_hears_only_what_its_scopes_read() {
    use crate::webhooks::{CREATE, ONE, UPDATE, create};
    const URL: &str = "https://hooks.example.com/scoped";
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("scopes@hooks.test", "Scopes Co").await;
    let (_, key) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["WEBHOOKS_WRITE", "WEBHOOKS_READ", "USAGE_READ", "TENANT_READ"] }),
    )
    .await;
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "url": URL, "eventTypes": ["member.joined"] } }),
            Some(&key),
        )
        .await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    let a = app
        .gql(CREATE, json!({ "i": { "url": URL } }), Some(&key))
        .await;
    ok(&a, "create as the key");
    let types = &a.body["data"]["createWebhookEndpoint"]["endpoint"]["eventTypes"];
    let types: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(types.contains(&"usage.threshold_reached"), "{types:?}");
    assert!(types.contains(&"tenant.updated"), "{types:?}");
    assert!(
        types
            .iter()
            .all(|t| t.starts_with("usage.") || t.starts_with("tenant.")),
        "all = what the key reads: {types:?}"
    );
    let (_, bare) = create_key(&app, &owner, json!({ "scopes": ["WEBHOOKS_WRITE"] })).await;
    let a = app
        .gql(CREATE, json!({ "i": { "url": URL } }), Some(&bare))
        .await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);

    // The owner's endpoint hears everything: the key may not re-point it
    // (nor widen its own), may change its description.
    let (everything, _) = create(&app, &owner, json!({ "url": URL })).await;
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "id": everything, "url": "https://evil.example.com/x" } }),
            Some(&key),
        )
        .await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "id": everything, "description": "seen by the key" } }),
            Some(&key),
        )
        .await;
    ok(&a, "describe");
    assert_eq!(a.body["data"]["updateWebhookEndpoint"]["url"], URL);

    // An invitation names the invitee: the owner reads it, the key does not.
    let a = app
        .gql(
            crate::matrix::INVITE,
            json!({ "i": { "email": "secret-person@hooks.test", "role": "MEMBER" } }),
            Some(&owner),
        )
        .await;
    ok(&a, "invite");
    async fn payloads(app: &TestApp, endpoint: &str, token: &str) -> String {
        let a = app
            .gql(ONE, json!({ "id": endpoint, "first": 10 }), Some(token))
            .await;
        ok(&a, "deliveries");
        a.body["data"]["tenant"]["webhookEndpoint"]["deliveries"]["edges"].to_string()
    }
    let by_owner = payloads(&app, &everything, &owner).await;
    assert!(by_owner.contains("secret-person@hooks.test"), "{by_owner}");
    let by_key = payloads(&app, &everything, &key).await;
    assert!(!by_key.contains("secret-person@hooks.test"), "{by_key}");
    assert!(by_key.contains("redacted"), "{by_key}");
}
