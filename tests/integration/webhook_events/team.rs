//! Members and invitations: joined, role changed, removed and left;
//! invitations created, resent, accepted and revoked (by hand, or because
//! their sender was demoted), each once, in the acting tenant only.

use serde_json::json;

use super::{events, kinds, my_id, ok, since, total};
use crate::identity::{invite_and_join, mailed_token};
use crate::keys::create_key;
use crate::support::{PASSWORD, TestApp};

const INVITE: &str =
    "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id email role status } }";
const RESEND: &str = "mutation($id: ID!) { resendInvitation(id: $id) { id } }";
const REVOKE: &str = "mutation($id: ID!) { revokeInvitation(id: $id) { id } }";
const ACCEPT: &str =
    "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }";
const ROLE: &str =
    "mutation($u: ID!, $r: Role!) { updateMemberRole(userId: $u, role: $r) { role } }";
const REMOVE: &str = "mutation($u: ID!) { removeMember(userId: $u) }";
const LEAVE: &str = "mutation { leaveTenant }";

async fn invite(app: &TestApp, token: &str, email: &str, role: &str) -> String {
    let a = app
        .gql(
            INVITE,
            json!({ "i": { "email": email, "role": role } }),
            Some(token),
        )
        .await;
    ok(&a, "inviteMember")["inviteMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn team_changes_emit_their_events_in_their_own_tenant() {
    let app = TestApp::spawn().await;
    let (owner, owner_id, tenant) = app.sign_up("ada@team.test", "Team A").await;
    app.set_plan(&tenant, "pro").await;
    let (other, _, other_tenant) = app.sign_up("bo@other.test", "Team B").await;
    assert_eq!(total(&app).await, 0, "signing up emits nothing");

    // Invited, resent, accepted.
    let first = invite(&app, &owner, "x@team.test", "MEMBER").await;
    let e = events(&app, &tenant).await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, "invitation.created");
    assert_eq!(e[0].data["invitationId"], first.as_str());
    assert_eq!(e[0].data["email"], "x@team.test");
    assert_eq!(e[0].data["role"], "member");
    assert_eq!(e[0].data["invitedBy"], owner_id.as_str());
    assert!(e[0].data["expiresAt"].is_string());
    let a = app.gql(RESEND, json!({ "id": first }), Some(&owner)).await;
    let second = ok(&a, "resend")["resendInvitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = since(&app, &tenant, 1).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["invitation.revoked", "invitation.created"]
    );
    assert_eq!(e[0].data["invitationId"], first.as_str());
    assert_eq!(e[0].data["reason"], "resent");
    assert_eq!(e[1].data["invitationId"], second.as_str());
    let link = mailed_token(&app, "x@team.test", "tgi").await;
    let a = app
        .gql(
            ACCEPT,
            json!({ "i": { "token": link, "password": PASSWORD } }),
            None,
        )
        .await;
    let x = ok(&a, "accept")["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let x_id = my_id(&app, &x).await;
    let e = since(&app, &tenant, 3).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["invitation.accepted", "member.joined"]
    );
    assert_eq!(e[0].data["invitationId"], second.as_str());
    assert_eq!(e[0].data["userId"], x_id.as_str());
    assert_eq!(e[1].data["userId"], x_id.as_str());
    assert_eq!(e[1].data["email"], "x@team.test");
    assert_eq!(e[1].data["role"], "member");
    assert_eq!(e[1].data["invitationId"], second.as_str());

    // An admin who makes a key and invites, then is demoted: the role
    // change, and the invitation and key they could no longer make, revoked.
    let adm = invite_and_join(&app, &owner, "adm@team.test", "ADMIN").await;
    let adm_id = my_id(&app, &adm).await;
    let (key_id, _) = create_key(&app, &adm, json!({ "scopes": ["USAGE_WRITE"] })).await;
    let pending = invite(&app, &adm, "pending@team.test", "MEMBER").await;
    let seen = events(&app, &tenant).await.len();
    let a = app
        .gql(ROLE, json!({ "u": adm_id, "r": "MEMBER" }), Some(&owner))
        .await;
    ok(&a, "demote");
    let e = since(&app, &tenant, seen).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        [
            "invitation.revoked",
            "api_key.revoked",
            "member.role_changed"
        ]
    );
    assert_eq!(e[0].data["invitationId"], pending.as_str());
    assert_eq!(e[0].data["reason"], "member_role_changed");
    assert_eq!(e[1].data["keyId"], key_id.as_str());
    assert_eq!(e[1].data["reason"], "member_role_changed");
    assert_eq!(e[2].data["userId"], adm_id.as_str());
    assert_eq!(e[2].data["email"], "adm@team.test");
    assert_eq!(e[2].data["previousRole"], "admin");
    assert_eq!(e[2].data["role"], "member");
    // The same role again changes nothing and emits nothing.
    let seen = seen + 3;
    ok(
        &app.gql(ROLE, json!({ "u": adm_id, "r": "MEMBER" }), Some(&owner))
            .await,
        "same role",
    );
    assert_eq!(events(&app, &tenant).await.len(), seen);

    // Revoked by hand.
    let gone = invite(&app, &owner, "gone@team.test", "VIEWER").await;
    ok(
        &app.gql(REVOKE, json!({ "id": gone }), Some(&owner)).await,
        "revoke",
    );
    let e = since(&app, &tenant, seen).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["invitation.created", "invitation.revoked"]
    );
    assert_eq!(e[1].data["invitationId"], gone.as_str());
    assert_eq!(e[1].data["reason"], "revoked");
    assert_eq!(e[1].data["role"], "viewer");

    // Removed, and left.
    let seen = seen + 2;
    ok(
        &app.gql(REMOVE, json!({ "u": x_id }), Some(&owner)).await,
        "remove",
    );
    ok(&app.gql(LEAVE, json!({}), Some(&adm)).await, "leave");
    let e = since(&app, &tenant, seen).await;
    assert_eq!(
        e.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["member.removed", "member.removed"]
    );
    assert_eq!(e[0].data["userId"], x_id.as_str());
    assert_eq!(e[0].data["email"], "x@team.test");
    assert_eq!(e[0].data["reason"], "removed");
    assert_eq!(e[1].data["userId"], adm_id.as_str());
    assert_eq!(e[1].data["email"], "adm@team.test");
    assert_eq!(e[1].data["role"], "member");
    assert_eq!(e[1].data["reason"], "left");

    // Refused changes write nothing: the last owner cannot leave or step
    // down, nobody grants a role above theirs, nothing of another tenant.
    let seen = seen + 2;
    for (query, vars, token) in [
        (REMOVE, json!({ "u": owner_id }), &owner),
        (ROLE, json!({ "u": owner_id, "r": "ADMIN" }), &owner),
        (ROLE, json!({ "u": owner_id, "r": "VIEWER" }), &other),
        (REMOVE, json!({ "u": owner_id }), &other),
    ] {
        let a = app.gql(query, vars.clone(), Some(token)).await;
        assert!(
            a.body.get("errors").is_some(),
            "{query} {vars}: {:?}",
            a.body
        );
    }
    let a = app
        .gql(REVOKE, json!({ "id": pending }), Some(&other))
        .await;
    assert_eq!(a.code(), "NOT_FOUND", "{:?}", a.body);
    assert_eq!(events(&app, &tenant).await.len(), seen);

    // Everything above is tenant A's: B's only event is its own invitation.
    assert_eq!(kinds(&app, &other_tenant).await, Vec::<String>::new());
    invite(&app, &other, "b-guest@other.test", "MEMBER").await;
    assert_eq!(kinds(&app, &other_tenant).await, ["invitation.created"]);
    assert_eq!(events(&app, &tenant).await.len(), seen);
    assert_eq!(
        total(&app).await,
        i64::try_from(seen).unwrap() + 1,
        "no event without a tenant of the two"
    );
}
