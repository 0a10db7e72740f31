//! Scheduling and cancelling a tenant's deletion: who may, the fresh sign-in,
//! the typed slug, the grace period, and keys on two instances.

use std::time::{Duration, Instant};

use serde_json::json;
use tenantgate::usage::limits::Limiter;

use super::*;
use crate::keys::{assert_code, assert_ok, create_key, v1, wait_live};
use crate::matrix::{call, join, text};
use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn deleting_a_tenant_needs_an_owner_a_fresh_sign_in_and_the_slug() {
    let app = TestApp::spawn().await;
    let (owner, owner_id, tenant) = app.sign_up("own@erase.test", "Erase Co").await;
    let (outsider, _, _) = app.sign_up("out@erase.test", "Other Co").await;
    let mut db = owner_db(&app).await;
    let (member, _) = join(&app, &mut db, &owner, "mem@erase.test", "ADMIN").await;
    let s = slug(&app, &owner).await;

    let a = app.gql(DELETE, json!({ "s": s }), Some(&member)).await;
    assert_code(&a, "FORBIDDEN", "an admin deletes");
    let a = call(
        &app,
        Some(&outsider),
        Some(&tenant),
        DELETE,
        json!({ "s": s }),
    )
    .await;
    assert_code(&a, "FORBIDDEN", "another tenant's owner deletes");
    let a = app
        .gql(DELETE, json!({ "s": "not-it" }), Some(&owner))
        .await;
    assert_code(&a, "BAD_USER_INPUT", "a wrong slug");
    assert_eq!(a.body["errors"][0]["extensions"]["field"], "confirmSlug");
    age_sessions(&app, &owner_id).await;
    let a = app.gql(DELETE, json!({ "s": s }), Some(&owner)).await;
    assert_code(&a, "REAUTHENTICATION_REQUIRED", "a sign-in 10 minutes old");
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
    assert_eq!(
        n(
            &app,
            &format!(
                "SELECT count(*) AS n FROM tenants WHERE id = '{tenant}' AND status = 'active'"
            )
        )
        .await,
        1,
        "refusals change nothing"
    );

    let owner = log_in(&app, "own@erase.test").await;
    let a = app
        .gql(
            crate::matrix::INVITE,
            json!({ "i": { "email": "late@erase.test", "role": "MEMBER" } }),
            Some(&owner),
        )
        .await;
    assert_ok(&a, "an invitation sent before the deletion");
    let late = crate::matrix::invitation_token(&mut db, "late@erase.test").await;
    let d = delete_tenant(&app, &owner).await;
    assert_eq!(d["status"], "PENDING_DELETION");
    assert_eq!(d["deletion"]["requestedBy"], owner_id.as_str());
    let due: chrono::DateTime<chrono::Utc> = d["deletion"]["purgeAfter"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let days = (due - chrono::Utc::now()).num_hours();
    assert!((335..=336).contains(&days), "14 days of grace: {days} h");
    let a = app.gql(DELETE, json!({ "s": s }), Some(&owner)).await;
    assert_code(&a, "TENANT_PENDING_DELETION", "asked twice");

    // The grace period: members read; changes are refused with their own code.
    let a = app.gql(TENANT, json!({}), Some(&member)).await;
    assert_ok(&a, "a member reads");
    assert_eq!(a.body["data"]["tenant"]["status"], "PENDING_DELETION");
    for (who, q) in [(&member, RENAME), (&owner, RENAME), (&owner, KEY)] {
        let a = app.gql(q, json!({}), Some(who)).await;
        assert_code(&a, "TENANT_PENDING_DELETION", q);
    }
    let a = app
        .gql(
            crate::matrix::ACCEPT,
            json!({ "i": { "token": late, "password": PASSWORD } }),
            None,
        )
        .await;
    assert_code(
        &a,
        "TENANT_PENDING_DELETION",
        "joining a tenant that waits for its purge",
    );
    let a = app.gql(CANCEL, json!({}), Some(&member)).await;
    assert_code(&a, "FORBIDDEN", "an admin cancels");
    let a = call(&app, Some(&outsider), Some(&tenant), CANCEL, json!({})).await;
    assert_code(&a, "FORBIDDEN", "another tenant's owner cancels");
    assert!(
        app.mail_bodies("own@erase.test").await[0].contains("will be erased")
            || app.mail_bodies("own@erase.test").await[0].contains("erased for good"),
        "the owner is told"
    );
    // A new sign-in still reaches the tenant (its default while it waits).
    let again = log_in(&app, "own@erase.test").await;
    assert_eq!(slug(&app, &again).await, s);

    let a = app.gql(CANCEL, json!({}), Some(&owner)).await;
    assert_ok(&a, "the owner cancels");
    assert_eq!(a.body["data"]["cancelTenantDeletion"]["status"], "ACTIVE");
    assert!(a.body["data"]["cancelTenantDeletion"]["deletion"].is_null());
    assert_ok(
        &app.gql(RENAME, json!({}), Some(&member)).await,
        "changes again",
    );
    assert!(app.mail_bodies("own@erase.test").await[0].contains("cancelled"));
    let actions = text(
        &mut db,
        &format!(
            "SELECT string_agg(action, ',' ORDER BY created_at) AS s FROM audit_log \
             WHERE tenant_id = '{tenant}' AND action LIKE 'tenant.deletion%'"
        ),
    )
    .await;
    assert_eq!(actions, "tenant.deletion_request,tenant.deletion_cancel");
}

#[tokio::test]
async fn keys_are_refused_on_every_instance_at_once_and_work_again_after_cancelling() {
    let app = TestApp::spawn().await;
    let b = app.peer(Limiter::local()).await;
    let (owner, _, _) = app.sign_up("keys@erase.test", "Keyed Co").await;
    wait_live(&app).await;
    wait_live(&b).await;
    let (_, secret) = create_key(&app, &owner, json!({})).await;
    for inst in [&app, &b] {
        assert_eq!(v1(inst, &secret, json!({})).await.status, 200, "cached");
    }
    delete_tenant(&app, &owner).await;
    for inst in [&app, &b] {
        let start = Instant::now();
        loop {
            let a = v1(inst, &secret, json!({})).await;
            if a.status == 403 {
                assert_eq!(
                    a.body["error"]["code"], "TENANT_PENDING_DELETION",
                    "{:?}",
                    a.body
                );
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(2),
                "never refused: {:?}",
                a.body
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let a = app.gql(CANCEL, json!({}), Some(&owner)).await;
    assert_ok(&a, "cancel");
    for inst in [&app, &b] {
        let start = Instant::now();
        while v1(inst, &secret, json!({})).await.status != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(2),
                "never allowed again"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    drop(b);
}
