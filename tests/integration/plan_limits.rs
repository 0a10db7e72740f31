//! Plan limits, end to end: PAYMENT_REQUIRED with its details (members,
//! pending invitations included; custom branding through the feature guard),
//! a downgrade that deletes nothing (what is over the new limit keeps
//! working, new additions are refused), and the last seat taken once when
//! two additions race for it.

use serde_json::{Value, json};

use crate::matrix::{ACCEPT, INVITE, invitation_token, no_errors};
use crate::plans::{BRANDING, CREATE, SET_PLAN, ext, platform_admin};
use crate::support::{Answer, PASSWORD, TestApp};

/// `inviter` invites `email` as MEMBER.
async fn invite(app: &TestApp, inviter: &str, email: &str) -> Answer {
    app.gql(
        INVITE,
        json!({ "i": { "email": email, "role": "MEMBER" } }),
        Some(inviter),
    )
    .await
}

/// The invitee of the newest invitation to `email` accepts with a new account.
async fn accept(app: &TestApp, email: &str) -> Answer {
    let mut conn = app.db.owner().await;
    let token = invitation_token(&mut conn, email).await;
    app.gql(
        ACCEPT,
        json!({ "i": { "token": token, "password": PASSWORD } }),
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_member_limit_counts_invitations_and_a_downgrade_deletes_nothing() {
    let app = TestApp::spawn().await;
    let admin = platform_admin(&app, "staff@seats.test").await;
    let (owner, _, tenant) = app.sign_up("owner@seats.test", "Seats Co").await;
    // Free: 5 members. The owner and two members, two pending invitations.
    for email in ["m1@seats.test", "m2@seats.test"] {
        assert!(no_errors(&invite(&app, &owner, email).await));
        assert!(no_errors(&accept(&app, email).await));
    }
    for email in ["p1@seats.test", "p2@seats.test"] {
        assert!(no_errors(&invite(&app, &owner, email).await));
    }
    let invitations = format!("SELECT count(*) AS n FROM invitations WHERE tenant_id = '{tenant}'");
    let outbox = "SELECT count(*) AS n FROM email_outbox";
    let (n_invitations, n_mail) = (app.db.count(&invitations).await, app.db.count(outbox).await);
    let a = invite(&app, &owner, "one-too-many@seats.test").await;
    assert_eq!(a.code(), "PAYMENT_REQUIRED", "{:?}", a.body);
    assert_eq!(a.status, 200);
    let e = ext(&a);
    assert_eq!(
        (
            &e["resource"],
            &e["limit"],
            &e["current"],
            &e["plan"],
            &e["upgradeTo"]
        ),
        (
            &json!("members"),
            &json!(5),
            &json!(5),
            &json!("free"),
            &json!("basic")
        ),
        "{:?}",
        a.body
    );
    assert!(a.body["data"]["inviteMember"].is_null());
    assert_eq!(app.db.count(&invitations).await, n_invitations);
    assert_eq!(app.db.count(outbox).await, n_mail);

    // Upgraded, there is room again.
    let a = app
        .gql(SET_PLAN, json!({ "t": tenant, "p": "basic" }), Some(&admin))
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    assert!(no_errors(&invite(&app, &owner, "p3@seats.test").await));
    assert!(no_errors(&accept(&app, "p1@seats.test").await));

    // Back to free: over the limit (4 members, 2 pending), and nothing is
    // deleted: members keep working, pending invitations stay; new
    // invitations and acceptances are refused.
    let a = app
        .gql(SET_PLAN, json!({ "t": tenant, "p": "free" }), Some(&admin))
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    let members = format!("SELECT count(*) AS n FROM memberships WHERE tenant_id = '{tenant}'");
    assert_eq!(app.db.count(&members).await, 4);
    let a = invite(&app, &owner, "later@seats.test").await;
    assert_eq!(a.code(), "PAYMENT_REQUIRED", "{:?}", a.body);
    assert_eq!(
        (&ext(&a)["current"], &ext(&a)["limit"]),
        (&json!(6), &json!(5))
    );
    // One acceptance fits (4 members of 5), the next does not.
    assert!(no_errors(&accept(&app, "p2@seats.test").await));
    let a = accept(&app, "p3@seats.test").await;
    assert_eq!(a.code(), "PAYMENT_REQUIRED", "{:?}", a.body);
    assert_eq!(
        (&ext(&a)["resource"], &ext(&a)["current"], &ext(&a)["limit"]),
        (&json!("members"), &json!(5), &json!(5))
    );
    assert_eq!(app.db.count(&members).await, 5);
    // The refused invitation is still pending (it can be accepted after an
    // upgrade), and no account was made for it.
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM invitations WHERE tenant_id = '{tenant}' \
                 AND email = 'p3@seats.test' AND accepted_at IS NULL AND revoked_at IS NULL"
            ))
            .await,
        1
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM users WHERE email = 'p3@seats.test'")
            .await,
        0
    );
    // Members keep working.
    let a = app
        .gql("{ tenant { memberCount } }", json!({}), Some(&owner))
        .await;
    assert_eq!(a.body["data"]["tenant"]["memberCount"], 5, "{:?}", a.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn features_are_guarded_and_a_downgrade_keeps_what_was_set() {
    let app = TestApp::spawn().await;
    let admin = platform_admin(&app, "staff@brand.test").await;
    let (owner, _, tenant) = app.sign_up("owner@brand.test", "Brand Co").await;
    let brand = json!({ "i": { "name": "Brand Two", "branding": { "primaryColor": "#112233" } } });
    let a = app.gql(BRANDING, brand.clone(), Some(&owner)).await;
    assert_eq!(a.code(), "PAYMENT_REQUIRED", "{:?}", a.body);
    let e = ext(&a);
    assert_eq!(
        (
            &e["feature"],
            &e["plan"],
            &e["upgradeTo"],
            &e["limit"],
            &e["current"]
        ),
        (
            &json!("customBranding"),
            &json!("free"),
            &json!("pro"),
            &json!(false),
            &Value::Null
        ),
        "{:?}",
        a.body
    );
    assert!(e.get("resource").is_none());
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM tenants WHERE id = '{tenant}' AND name = 'Brand Co' \
                 AND branding = '{{}}'::jsonb"
            ))
            .await,
        1
    );
    // Only the name: no feature needed.
    let a = app
        .gql(
            BRANDING,
            json!({ "i": { "name": "Brand Two" } }),
            Some(&owner),
        )
        .await;
    assert!(no_errors(&a), "{:?}", a.body);

    app.gql(SET_PLAN, json!({ "t": tenant, "p": "pro" }), Some(&admin))
        .await;
    let a = app.gql(BRANDING, brand.clone(), Some(&owner)).await;
    assert_eq!(
        a.body["data"]["updateTenant"]["branding"]["primaryColor"], "#112233",
        "{:?}",
        a.body
    );
    // Downgraded: the branding stays and shows; changing it is refused,
    // clearing it and renaming are not.
    app.gql(SET_PLAN, json!({ "t": tenant, "p": "basic" }), Some(&admin))
        .await;
    let a = app
        .gql(
            "{ tenant { branding { primaryColor } } }",
            json!({}),
            Some(&owner),
        )
        .await;
    assert_eq!(
        a.body["data"]["tenant"]["branding"]["primaryColor"],
        "#112233"
    );
    let a = app
        .gql(
            BRANDING,
            json!({ "i": { "branding": { "primaryColor": "#445566" } } }),
            Some(&owner),
        )
        .await;
    assert_eq!(a.code(), "PAYMENT_REQUIRED", "{:?}", a.body);
    assert_eq!(ext(&a)["plan"], "basic");
    let a = app
        .gql(
            BRANDING,
            json!({ "i": { "name": "Brand Three" } }),
            Some(&owner),
        )
        .await;
    assert_eq!(
        a.body["data"]["updateTenant"]["branding"]["primaryColor"],
        "#112233"
    );
    let a = app
        .gql(BRANDING, json!({ "i": { "branding": {} } }), Some(&owner))
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    assert!(a.body["data"]["updateTenant"]["branding"]["primaryColor"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_seat_goes_to_one_of_two_concurrent_additions() {
    let app = TestApp::spawn().await;
    let admin = platform_admin(&app, "staff@race.test").await;
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "key": "trio", "name": "Trio", "monthlyPrice": 500,
                           "limits": { "members": 3, "apiCallsPerHour": 100 } } }),
            Some(&admin),
        )
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    for round in 0..2 {
        // Two members and two pending invitations (made on a larger plan),
        // then down to three seats: both invitees accept at once.
        let (owner, _, tenant) = app
            .sign_up(&format!("owner{round}@race.test"), &format!("Race {round}"))
            .await;
        assert!(no_errors(
            &invite(&app, &owner, &format!("m{round}@race.test")).await
        ));
        assert!(no_errors(
            &accept(&app, &format!("m{round}@race.test")).await
        ));
        let (x, y) = (format!("x{round}@race.test"), format!("y{round}@race.test"));
        assert!(no_errors(&invite(&app, &owner, &x).await));
        assert!(no_errors(&invite(&app, &owner, &y).await));
        let a = app
            .gql(SET_PLAN, json!({ "t": tenant, "p": "trio" }), Some(&admin))
            .await;
        assert!(no_errors(&a), "{:?}", a.body);
        let (a, b) = tokio::join!(accept(&app, &x), accept(&app, &y));
        let codes = [a.code(), b.code()];
        assert!(
            codes.contains(&"<none>") && codes.contains(&"PAYMENT_REQUIRED"),
            "round {round}: {:?} / {:?}",
            a.body,
            b.body
        );
        assert_eq!(
            app.db
                .count(&format!(
                    "SELECT count(*) AS n FROM memberships WHERE tenant_id = '{tenant}'"
                ))
                .await,
            3
        );
    }
    // Invitations race for the last seat too.
    let (owner, _, tenant) = app.sign_up("owner@race-invite.test", "Race Invite").await;
    app.gql(SET_PLAN, json!({ "t": tenant, "p": "trio" }), Some(&admin))
        .await;
    assert!(no_errors(
        &invite(&app, &owner, "first@race-invite.test").await
    ));
    let (a, b) = tokio::join!(
        invite(&app, &owner, "a@race-invite.test"),
        invite(&app, &owner, "b@race-invite.test")
    );
    let codes = [a.code(), b.code()];
    assert!(
        codes.contains(&"<none>") && codes.contains(&"PAYMENT_REQUIRED"),
        "{:?} / {:?}",
        a.body,
        b.body
    );
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM invitations WHERE tenant_id = '{tenant}'"
            ))
            .await,
        2
    );
}
