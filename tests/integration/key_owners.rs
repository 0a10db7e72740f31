//! Keys outlive no one's right to make them: removing a member, leaving, or a
//! demotion below admin revokes the keys that person made (and the keys their
//! keys made), at once on every instance, one audit entry per key, in the
//! same transaction as the change; key mutations re-read the caller's role
//! inside their transaction, so a demotion that lands first wins.

use std::time::{Duration, Instant};

use diesel_async::SimpleAsyncConnection;
use serde_json::{Value, json};
use tenantgate::usage::limits::Limiter;

use crate::keys::{
    CREATE, REVOKE, ROTATE, UPDATE, assert_code, assert_ok, create_key, v1, wait_live,
};
use crate::matrix::{call, join};
use crate::support::{Answer, TestApp};

const UPDATE_ROLE: &str =
    "mutation($u: ID!, $r: Role!) { updateMemberRole(userId: $u, role: $r) { role } }";
const REMOVE: &str = "mutation($u: ID!) { removeMember(userId: $u) }";
const LEAVE: &str = "mutation { leaveTenant }";
const ALL_WRITE: [&str; 3] = ["KEYS_WRITE", "TENANT_READ", "USAGE_WRITE"];

/// Waits until `secret` is refused (401) by `app`; fails after two seconds.
async fn refused_soon(app: &TestApp, secret: &str, what: &str) {
    let start = Instant::now();
    loop {
        let a = v1(app, secret, json!({})).await;
        if a.status == 401 {
            return;
        }
        assert_eq!(a.status, 200, "{what}: {:?}", a.body);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{what}: the key still works"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The `api_key.revoke` entries of `tenant` for key `id`: their `after.reason`.
async fn revocations(app: &TestApp, tenant: &str, id: &str) -> Vec<String> {
    let mut conn = app.db.owner().await;
    let n = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}'
             AND action = 'api_key.revoke' AND target_id = '{id}'"
        ))
        .await;
    if n == 0 {
        return Vec::new();
    }
    let reasons = crate::matrix::text(
        &mut conn,
        &format!(
            "SELECT string_agg(coalesce(after->>'reason', '-'), ',' ORDER BY created_at) AS s
             FROM audit_log WHERE tenant_id = '{tenant}'
             AND action = 'api_key.revoke' AND target_id = '{id}'"
        ),
    )
    .await;
    reasons.split(',').map(str::to_owned).collect()
}

fn works(a: &Answer) -> bool {
    a.status == 200
}

#[tokio::test]
async fn removal_leaving_and_demotion_revoke_the_keys_a_member_made() {
    let app = TestApp::spawn().await;
    let peer = app.peer(Limiter::local()).await;
    let mut db = app.db.owner().await;
    let (owner, _, t) = app.sign_up("owner@exit.test", "Exit Co").await;
    let (demoted, demoted_id) = join(&app, &mut db, &owner, "demoted@exit.test", "ADMIN").await;
    let (removed, removed_id) = join(&app, &mut db, &owner, "removed@exit.test", "ADMIN").await;
    let (leaver, _) = join(&app, &mut db, &owner, "leaver@exit.test", "ADMIN").await;
    let as_in = |token: &str| (token.to_owned(), t.clone());
    let make = |who: (String, String)| {
        let app = &app;
        async move {
            let a = call(
                app,
                Some(&who.0),
                Some(&who.1),
                CREATE,
                json!({ "i": { "name": "made", "scopes": ALL_WRITE } }),
            )
            .await;
            assert_ok(&a, "create");
            let p = &a.body["data"]["createApiKey"];
            (
                p["apiKey"]["id"].as_str().unwrap().to_owned(),
                p["secret"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (d_id, d_key) = make(as_in(&demoted)).await;
    // A key made by that key carries the same maker, and goes with it.
    let (d2_id, d2_key) = create_key(&app, &d_key, json!({ "scopes": ["TENANT_READ"] })).await;
    let (r_id, r_key) = make(as_in(&removed)).await;
    let (l_id, l_key) = make(as_in(&leaver)).await;
    let (o_id, o_key) = make(as_in(&owner)).await;
    wait_live(&app).await;
    wait_live(&peer).await;
    for key in [&d_key, &d2_key, &r_key, &l_key, &o_key] {
        for instance in [&app, &peer] {
            assert!(works(&v1(instance, key, json!({})).await), "warming up");
        }
    }

    // A refused demotion (the last owner stepping down) revokes nothing.
    let a = call(&app, Some(&owner), Some(&t), LEAVE, json!({})).await;
    assert_code(&a, "CONFLICT", "the last owner leaving");
    assert!(works(&v1(&app, &o_key, json!({})).await));
    assert!(revocations(&app, &t, &o_id).await.is_empty());

    // Demotion below admin: refused at once here, and soon on the peer.
    let a = call(
        &app,
        Some(&owner),
        Some(&t),
        UPDATE_ROLE,
        json!({ "u": demoted_id, "r": "MEMBER" }),
    )
    .await;
    assert_ok(&a, "demote");
    for key in [&d_key, &d2_key] {
        assert_eq!(v1(&app, key, json!({})).await.status, 401, "this instance");
        refused_soon(&peer, key, "demoted admin's key on the peer").await;
    }
    for id in [&d_id, &d2_id] {
        assert_eq!(revocations(&app, &t, id).await, ["member.role_change"]);
    }

    // Removal.
    let a = call(
        &app,
        Some(&owner),
        Some(&t),
        REMOVE,
        json!({ "u": removed_id }),
    )
    .await;
    assert_ok(&a, "remove");
    assert_eq!(v1(&app, &r_key, json!({})).await.status, 401);
    refused_soon(&peer, &r_key, "removed admin's key on the peer").await;
    assert_eq!(revocations(&app, &t, &r_id).await, ["member.remove"]);

    // Leaving.
    let a = call(&app, Some(&leaver), Some(&t), LEAVE, json!({})).await;
    assert_ok(&a, "leave");
    assert_eq!(v1(&app, &l_key, json!({})).await.status, 401);
    refused_soon(&peer, &l_key, "a leaver's key on the peer").await;
    assert_eq!(revocations(&app, &t, &l_id).await, ["member.leave"]);

    // The owner's key was never touched; one entry per revoked key.
    for instance in [&app, &peer] {
        assert!(works(&v1(instance, &o_key, json!({})).await));
    }
    assert!(revocations(&app, &t, &o_id).await.is_empty());
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{t}' AND action = 'api_key.revoke'"
            ))
            .await,
        4
    );
    drop(peer);
}

#[tokio::test]
async fn an_owner_stepping_down_to_admin_keeps_their_keys() {
    let app = TestApp::spawn().await;
    let mut db = app.db.owner().await;
    let (owner, owner_id, t) = app.sign_up("first@keep-keys.test", "Keep Keys").await;
    let (second, second_id) = join(&app, &mut db, &owner, "second@keep-keys.test", "ADMIN").await;
    let a = call(
        &app,
        Some(&owner),
        Some(&t),
        UPDATE_ROLE,
        json!({ "u": second_id, "r": "OWNER" }),
    )
    .await;
    assert_ok(&a, "promote");
    let (_, key) = create_key(&app, &owner, json!({ "scopes": ALL_WRITE })).await;
    let a = call(
        &app,
        Some(&second),
        Some(&t),
        UPDATE_ROLE,
        json!({ "u": owner_id, "r": "ADMIN" }),
    )
    .await;
    assert_ok(&a, "owner to admin");
    assert_eq!(v1(&app, &key, json!({})).await.status, 200);
}

#[tokio::test]
async fn a_demoted_admins_valid_token_cannot_manage_keys() {
    let app = TestApp::spawn().await;
    let mut db = app.db.owner().await;
    let (owner, _, t) = app.sign_up("owner@demoted.test", "Demoted Co").await;
    let (admin, admin_id) = join(&app, &mut db, &owner, "admin@demoted.test", "ADMIN").await;
    let (o_id, o_key) = create_key(&app, &owner, json!({ "scopes": ["TENANT_READ"] })).await;
    let a = call(
        &app,
        Some(&owner),
        Some(&t),
        UPDATE_ROLE,
        json!({ "u": admin_id, "r": "MEMBER" }),
    )
    .await;
    assert_ok(&a, "demote");
    // The admin's access token is still valid (15 minutes), their role is not.
    let tries: [(&str, Value); 4] = [
        (CREATE, json!({ "i": { "name": "late" } })),
        (REVOKE, json!({ "id": o_id })),
        (ROTATE, json!({ "id": o_id, "g": 0 })),
        (UPDATE, json!({ "i": { "id": o_id, "name": "late" } })),
    ];
    for (query, vars) in tries {
        let a = call(&app, Some(&admin), Some(&t), query, vars.clone()).await;
        assert_code(&a, "FORBIDDEN", &format!("{query} {vars}"));
    }
    assert_eq!(v1(&app, &o_key, json!({})).await.status, 200);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM api_keys WHERE tenant_id = '{t}'"
            ))
            .await,
        1
    );
}

/// The request is verified while the caller is still an admin; the demotion
/// commits while its transaction waits: the role read inside the transaction
/// decides, not the one read when the request began.
#[tokio::test]
async fn a_demotion_that_lands_first_wins_inside_the_transaction() {
    let app = TestApp::spawn().await;
    let mut db = app.db.owner().await;
    let (owner, _, t) = app.sign_up("owner@race.test", "Race Co").await;
    let (admin, admin_id) = join(&app, &mut db, &owner, "admin@race.test", "ADMIN").await;
    let (o_id, o_key) = create_key(&app, &owner, json!({ "scopes": ["TENANT_READ"] })).await;
    let tries: [(&str, Value); 2] = [
        (CREATE, json!({ "i": { "name": "raced" } })),
        (REVOKE, json!({ "id": o_id })),
    ];
    for (query, vars) in tries {
        let mut demoter = app.db.owner().await;
        demoter
            .batch_execute(&format!(
                "BEGIN; UPDATE memberships SET role = 'member'
                 WHERE tenant_id = '{t}' AND user_id = '{admin_id}'"
            ))
            .await
            .unwrap();
        let (answer, ()) = tokio::join!(
            call(&app, Some(&admin), Some(&t), query, vars.clone()),
            async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                demoter.batch_execute("COMMIT").await.unwrap();
            }
        );
        assert_code(&answer, "FORBIDDEN", &format!("{query} {vars}"));
        // Back to admin for the next try.
        db.batch_execute(&format!(
            "UPDATE memberships SET role = 'admin' WHERE tenant_id = '{t}' AND user_id = '{admin_id}'"
        ))
        .await
        .unwrap();
    }
    assert_eq!(v1(&app, &o_key, json!({})).await.status, 200);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM api_keys WHERE tenant_id = '{t}'"
            ))
            .await,
        1
    );
}
