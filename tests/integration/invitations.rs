//! `resendInvitation`: a new link replaces the old one, under the rules and
//! budgets of `inviteMember`, only in the caller's own tenant.

use serde_json::{Value, json};

use crate::identity::mailed_token;
use crate::support::{PASSWORD, TestApp};

const INVITE: &str =
    "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id email role status } }";
const RESEND: &str =
    "mutation($id: ID!) { resendInvitation(id: $id) { id email role status expiresAt } }";
const ACCEPT: &str =
    "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }";
const PENDING: &str = "{ tenant { invitations { nodes { id email status } } } }";

async fn invite(app: &TestApp, token: &str, email: &str, role: &str) -> String {
    let a = app
        .gql(
            INVITE,
            json!({ "i": { "email": email, "role": role } }),
            Some(token),
        )
        .await;
    a.body["data"]["inviteMember"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("invite failed: {:?}", a.body))
        .to_owned()
}

async fn join(app: &TestApp, owner: &str, email: &str, role: &str) -> String {
    invite(app, owner, email, role).await;
    let token = mailed_token(app, email, "tgi").await;
    let a = app
        .gql(
            ACCEPT,
            json!({ "i": { "token": token, "password": PASSWORD } }),
            None,
        )
        .await;
    a.body["data"]["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("accept failed: {:?}", a.body))
        .to_owned()
}

async fn pending_ids(app: &TestApp, token: &str) -> Vec<String> {
    let a = app.gql(PENDING, json!({}), Some(token)).await;
    a.body["data"]["tenant"]["invitations"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no invitations: {:?}", a.body))
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

fn resent(answer: &crate::support::Answer) -> &Value {
    &answer.body["data"]["resendInvitation"]
}

#[tokio::test]
async fn resending_replaces_the_link_under_the_invite_rules() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("resender@example.com", "Resend").await;
    app.set_plan(&tenant, "pro").await;
    let id = invite(&app, &owner, "late@example.com", "MEMBER").await;
    let old_link = mailed_token(&app, "late@example.com", "tgi").await;

    let again = app.gql(RESEND, json!({ "id": id }), Some(&owner)).await;
    let new_id = resent(&again)["id"]
        .as_str()
        .unwrap_or_else(|| panic!("resend failed: {:?}", again.body))
        .to_owned();
    assert_ne!(new_id, id);
    assert_eq!(resent(&again)["email"], "late@example.com");
    assert_eq!(resent(&again)["role"], "MEMBER");
    assert_eq!(resent(&again)["status"], "PENDING");
    let new_link = mailed_token(&app, "late@example.com", "tgi").await;
    assert_ne!(new_link, old_link, "a new link is mailed");
    assert_eq!(pending_ids(&app, &owner).await, [new_id.clone()]);
    // The old one is gone for good: not resent again, not accepted.
    assert_eq!(
        app.gql(RESEND, json!({ "id": id }), Some(&owner))
            .await
            .code(),
        "NOT_FOUND"
    );
    let old = app
        .gql(
            ACCEPT,
            json!({ "i": { "token": old_link, "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(old.code(), "NOT_FOUND");
    let log = app
        .gql(
            "{ tenant { auditLog(first: 5, filter: {action: \"invitation.resend\"}) { nodes { targetId before after } } } }",
            json!({}),
            Some(&owner),
        )
        .await;
    let entry = &log.body["data"]["tenant"]["auditLog"]["nodes"][0];
    assert_eq!(entry["targetId"], new_id.as_str(), "{:?}", log.body);
    assert_eq!(entry["before"]["id"], id.as_str());

    // An expired invitation (not listed as pending) can be sent again too.
    let expired = invite(&app, &owner, "expired@example.com", "VIEWER").await;
    app.db
        .count(&format!(
            "WITH v AS (UPDATE invitations SET expires_at = now() - interval '1 day' WHERE id = '{expired}' RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    assert!(!pending_ids(&app, &owner).await.contains(&expired));
    let revived = app
        .gql(RESEND, json!({ "id": expired }), Some(&owner))
        .await;
    assert_eq!(resent(&revived)["status"], "PENDING", "{:?}", revived.body);

    // An admin resends what an admin may grant, not an owner's invitation.
    let admin = join(&app, &owner, "deputy@example.com", "ADMIN").await;
    let for_owner = invite(&app, &owner, "co-owner@example.com", "OWNER").await;
    let refused = app
        .gql(RESEND, json!({ "id": for_owner }), Some(&admin))
        .await;
    assert_eq!(refused.code(), "FORBIDDEN", "{:?}", refused.body);
    assert!(pending_ids(&app, &owner).await.contains(&for_owner));
    let by_admin = app.gql(RESEND, json!({ "id": new_id }), Some(&admin)).await;
    let by_admin_id = resent(&by_admin)["id"]
        .as_str()
        .unwrap_or_else(|| panic!("admin resend failed: {:?}", by_admin.body))
        .to_owned();
    // Members and viewers may not.
    for (email, role) in [
        ("plain@example.com", "MEMBER"),
        ("looker@example.com", "VIEWER"),
    ] {
        let token = join(&app, &owner, email, role).await;
        let no = app
            .gql(RESEND, json!({ "id": by_admin_id }), Some(&token))
            .await;
        assert_eq!(no.code(), "FORBIDDEN", "{role}: {:?}", no.body);
    }
    // The new link works.
    let link = mailed_token(&app, "late@example.com", "tgi").await;
    let joined = app
        .gql(
            ACCEPT,
            json!({ "i": { "token": link, "password": PASSWORD } }),
            None,
        )
        .await;
    assert!(
        joined.body["data"]["acceptInvitation"]["accessToken"].is_string(),
        "{:?}",
        joined.body
    );
}

#[tokio::test]
async fn another_tenant_cannot_resend_and_resends_spend_the_invite_budget() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("keeper@example.com", "Keeper").await;
    let (outsider, _, _) = app.sign_up("outsider@example.com", "Outside").await;
    let id = invite(&app, &owner, "guest@example.com", "MEMBER").await;
    // Another tenant's owner: no such invitation in their tenant.
    let foreign = app.gql(RESEND, json!({ "id": id }), Some(&outsider)).await;
    assert_eq!(foreign.code(), "NOT_FOUND", "{:?}", foreign.body);
    assert_eq!(pending_ids(&app, &owner).await, [id.clone()]);
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM invitations WHERE email = 'guest@example.com'")
            .await,
        1,
        "nothing was sent for the outsider"
    );
    // The invitation took one of the inviter's 20 an hour; each resend takes one.
    let mut current = id;
    for _ in 0..19 {
        let a = app
            .gql(RESEND, json!({ "id": current }), Some(&owner))
            .await;
        current = resent(&a)["id"]
            .as_str()
            .unwrap_or_else(|| panic!("resend failed: {:?}", a.body))
            .to_owned();
    }
    let over = app
        .gql(RESEND, json!({ "id": current }), Some(&owner))
        .await;
    assert_eq!(over.code(), "RATE_LIMITED", "{:?}", over.body);
    // Refused: the invitation stands as it was.
    assert_eq!(pending_ids(&app, &owner).await, [current]);
}
