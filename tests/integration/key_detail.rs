//! `tenant { apiKey(id) }`: one key by id for whoever may list the keys (the
//! portal's key page), never another tenant's, never for the billing role.

use serde_json::json;

use crate::identity::invite_and_join;
use crate::keys::{assert_code, assert_ok, create_key};
use crate::support::TestApp;

const ONE: &str = "query($id: ID!) { tenant { apiKey(id: $id) { id name displayPrefix state scopes environment usage(metric: \"api_calls\", from: \"2026-01-01T00:00:00Z\", to: \"2026-01-02T00:00:00Z\", granularity: HOUR) { total } } } }";

#[tokio::test]
async fn one_key_by_id_in_its_own_tenant_only() {
    let app = TestApp::spawn().await;
    let (a_owner, _, _) = app.sign_up("one-a@example.com", "One A").await;
    let (b_owner, _, _) = app.sign_up("one-b@example.com", "One B").await;
    let (a_id, a_key) = create_key(
        &app,
        &a_owner,
        json!({ "name": "ci", "scopes": ["TENANT_READ", "KEYS_READ", "USAGE_READ"] }),
    )
    .await;
    let (b_id, _) = create_key(&app, &b_owner, json!({ "name": "theirs" })).await;

    // The owner and the key itself (keys:read) read it, with its usage.
    for token in [a_owner.as_str(), a_key.as_str()] {
        let a = app.gql(ONE, json!({ "id": a_id }), Some(token)).await;
        assert_ok(&a, "own key");
        let key = &a.body["data"]["tenant"]["apiKey"];
        assert_eq!(key["id"], a_id.as_str());
        assert_eq!(key["name"], "ci");
        assert_eq!(key["state"], "ACTIVE");
        assert_eq!(key["usage"]["total"], 0);
    }

    // Another tenant's key is simply not there, for its owner and its keys.
    for token in [a_owner.as_str(), a_key.as_str()] {
        let a = app.gql(ONE, json!({ "id": b_id }), Some(token)).await;
        assert_ok(&a, "another tenant's key");
        assert!(a.body["data"]["tenant"]["apiKey"].is_null(), "{:?}", a.body);
        assert!(!a.body.to_string().contains("theirs"));
    }

    // Not an id: BAD_USER_INPUT naming it.
    let a = app.gql(ONE, json!({ "id": "nope" }), Some(&a_owner)).await;
    assert_code(&a, "BAD_USER_INPUT", "malformed id");
    assert_eq!(a.body["errors"][0]["extensions"]["field"], "id");

    // A viewer reads it; the billing role cannot see keys at all.
    let viewer = invite_and_join(&app, &a_owner, "one-viewer@example.com", "VIEWER").await;
    let a = app.gql(ONE, json!({ "id": a_id }), Some(&viewer)).await;
    assert_ok(&a, "viewer");
    assert_eq!(a.body["data"]["tenant"]["apiKey"]["id"], a_id.as_str());
    let billing = invite_and_join(&app, &a_owner, "one-billing@example.com", "BILLING").await;
    let a = app.gql(ONE, json!({ "id": a_id }), Some(&billing)).await;
    assert_code(&a, "FORBIDDEN", "billing role");
    assert!(!a.body.to_string().contains("\"ci\""));
}
