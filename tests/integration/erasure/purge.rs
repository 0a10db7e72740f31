//! The purge: zero rows left in every table the catalogue lists, the Stripe
//! customer deleted, a run cut off halfway finished by the next, one run per
//! tenant across instances, only when due, and a platform admin's purge.

use std::time::Duration;

use serde_json::{Value, json};
use tenantgate::erasure::Purger;
use tenantgate::stripe_sim::{SimConfig, SimHandle, StripeSim};
use tenantgate::usage::limits::Limiter;

use super::*;
use crate::keys::{assert_code, assert_ok, create_key};
use crate::matrix::{join, text};
use crate::support::TestApp;

const WHSEC: &str = "whsec_erasure_tests_secret";

/// A server with billing on the simulator and no grace period.
async fn billed_without_grace() -> (TestApp, SimHandle) {
    let sim = StripeSim::start(SimConfig {
        retry_delays: vec![Duration::from_millis(50); 3],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cfg = crate::billing::config(&sim);
    let app = TestApp::spawn_tuned(|s| {
        s.billing = Some(cfg.clone());
        s.deletion_grace = Duration::ZERO;
    })
    .await;
    sim.add_endpoint(format!("{}/webhooks/stripe", app.url), WHSEC);
    let mut owner_db = app.db.owner().await;
    tenantgate::billing::sync_prices(
        &tenantgate::billing::StripeApi::new(&cfg).unwrap(),
        &mut owner_db,
    )
    .await
    .unwrap();
    (app, sim)
}

fn purger(app: &TestApp) -> Purger {
    Purger::new(
        app.state.db.clone(),
        app.state.billing.clone(),
        app.state.exports.clone(),
    )
}

#[tokio::test]
async fn the_purge_leaves_no_row_of_the_tenant_and_deletes_its_stripe_customer() {
    let (app, sim) = billed_without_grace().await;
    let (owner, owner_id, tenant) = app.sign_up("boss@gone.test", "Gone Co").await;
    let (other_owner, _, other) = app.sign_up("keep@stay.test", "Stay Co").await;
    let mut db = owner_db(&app).await;
    // A member who belongs nowhere else (erased), one who also belongs to
    // another tenant (kept), keys, usage, an invitation, a paid subscription.
    let (_, lone_id) = join(&app, &mut db, &owner, "lone@gone.test", "ADMIN").await;
    let (_, both_id) = join(&app, &mut db, &owner, "both@gone.test", "MEMBER").await;
    let a = app
        .gql(
            crate::matrix::INVITE,
            json!({ "i": { "email": "both@gone.test", "role": "MEMBER" } }),
            Some(&other_owner),
        )
        .await;
    assert_ok(&a, "invite to the other tenant");
    let token = crate::matrix::invitation_token(&mut db, "both@gone.test").await;
    let both = log_in(&app, "both@gone.test").await;
    let a = app
        .gql(
            crate::matrix::ACCEPT,
            json!({ "i": { "token": token } }),
            Some(&both),
        )
        .await;
    assert_ok(&a, "both joins the other tenant");
    let (_, secret) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    let now = chrono::Utc::now();
    let events: Vec<Value> = (0..12)
        .map(|i| crate::usage::event("api_calls", 1, now, &format!("e{i}")))
        .collect();
    let a = crate::usage::post_usage(&app, &secret, &json!({ "events": events }).to_string()).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    app.state.usage.flush(&app.state.db).await.ok();
    let a = app
        .gql(
            crate::matrix::INVITE,
            json!({ "i": { "email": "later@gone.test", "role": "MEMBER" } }),
            Some(&owner),
        )
        .await;
    assert_ok(&a, "a pending invitation");
    // A webhook endpoint with a pending delivery.
    let (hook, _) = crate::webhooks::create(
        &app,
        &owner,
        json!({ "url": "https://gone.example.com/hooks" }),
    )
    .await;
    let a = app
        .gql(crate::webhooks::TEST, json!({ "id": hook }), Some(&owner))
        .await;
    assert_ok(&a, "a test webhook");
    let a = app
        .gql(
            crate::billing::CHECKOUT,
            json!({ "p": "basic", "i": "MONTH" }),
            Some(&owner),
        )
        .await;
    assert_ok(&a, "checkout");
    crate::billing::pay(
        a.body["data"]["createCheckoutSession"]["url"]
            .as_str()
            .unwrap(),
        "pay",
    )
    .await;
    assert!(sim.settled(Duration::from_secs(10)).await);
    app.state.billing.work_events().await.unwrap();
    let customer = text(
        &mut db,
        &format!(
            "SELECT stripe_customer_id AS s FROM billing_customers WHERE tenant_id = '{tenant}'"
        ),
    )
    .await;
    let before: i64 = rows_of_tenant(&app, &tenant)
        .await
        .iter()
        .map(|r| r.1)
        .sum();
    assert!(before > 20, "the tenant has data: {before}");
    let other_before = rows_of_tenant(&app, &other).await;

    let owner = log_in(&app, "boss@gone.test").await;
    delete_tenant(&app, &owner).await;
    let runs = purger(&app).run_due().await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].finished);
    assert_eq!(runs[0].people_erased, 2, "the owner and the lone admin");

    assert_eq!(
        rows_of_tenant(&app, &tenant).await,
        vec![],
        "rows of the purged tenant"
    );
    assert_eq!(
        rows_of_tenant(&app, &other).await,
        other_before,
        "the other tenant is untouched"
    );
    for (id, email) in [(&owner_id, "boss@gone.test"), (&lone_id, "lone@gone.test")] {
        assert_eq!(
            traces_of_person(&app, id, email).await,
            Vec::<String>::new(),
            "{email}"
        );
    }
    assert_eq!(
        n(
            &app,
            &format!("SELECT count(*) AS n FROM users WHERE id = '{both_id}'")
        )
        .await,
        1,
        "a member of another tenant stays"
    );
    assert_eq!(
        n(
            &app,
            &format!(
                "SELECT count(*) AS n FROM tenant_tombstones WHERE id = '{tenant}' \
                 AND requested_by = '{owner_id}' AND reason = 'owner'"
            )
        )
        .await,
        1
    );
    // The simulator: the customer is deleted, its subscription cancelled.
    let got: Value = reqwest::Client::new()
        .get(format!("{}/v1/customers/{customer}", sim.base_url()))
        .bearer_auth(sim.secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["deleted"], true, "{got}");
    assert_eq!(sim.counts().get("customers.deleted"), Some(&1));
    assert_eq!(sim.counts().get("subscriptions.canceled"), Some(&1));
    // Its webhooks (customer.subscription.deleted, customer.deleted) arrive
    // for a tenant that is gone: stored, worked, ignored.
    assert!(sim.settled(Duration::from_secs(10)).await);
    app.state.billing.work_events().await.unwrap();
    assert_eq!(
        n(&app, "SELECT count(*) AS n FROM stripe_events WHERE processed_at IS NULL OR last_error IS NOT NULL").await,
        0
    );
    assert_eq!(
        rows_of_tenant(&app, &tenant).await,
        vec![],
        "nothing came back"
    );
    // A second run finds nothing to do.
    assert!(purger(&app).run_due().await.unwrap().is_empty());
    let a = app.gql(TENANT, json!({}), Some(&owner)).await;
    assert_code(&a, "UNAUTHENTICATED", "the erased owner's token");
}

#[tokio::test]
async fn a_purge_cut_off_halfway_is_finished_by_the_next_run() {
    let app = TestApp::spawn_tuned(|s| s.deletion_grace = Duration::ZERO).await;
    let (owner, _, tenant) = app.sign_up("half@gone.test", "Half Co").await;
    let (_, secret) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    let now = chrono::Utc::now();
    let events: Vec<Value> = (0..40)
        .map(|i| {
            crate::usage::event(
                "api_calls",
                1,
                now - chrono::TimeDelta::minutes(i * 90),
                &format!("h{i}"),
            )
        })
        .collect();
    let a = crate::usage::post_usage(&app, &secret, &json!({ "events": events }).to_string()).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    for i in 0..5 {
        create_key(&app, &owner, json!({ "name": format!("k{i}") })).await;
    }
    delete_tenant(&app, &owner).await;
    let p = purger(&app);
    // Cut off after two batches of five rows.
    let run = p
        .purge_some(tenant.parse().unwrap(), Some(2), 5)
        .await
        .unwrap()
        .unwrap();
    assert!(!run.finished);
    assert!((2..=10).contains(&run.rows_deleted), "{run:?}");
    let left: i64 = rows_of_tenant(&app, &tenant)
        .await
        .iter()
        .map(|r| r.1)
        .sum();
    assert!(left > 10, "half done: {left}");
    // Its lease keeps another run off until it expires...
    assert!(p.purge(tenant.parse().unwrap()).await.unwrap().is_none());
    // ... and a task aborted mid-run leaves a lease too.
    n(&app, &format!("WITH v AS (UPDATE tenants SET purge_leased_until = now() - interval '1 second' WHERE id = '{tenant}' RETURNING 1) SELECT count(*) AS n FROM v")).await;
    let slow = purger(&app);
    let t: uuid::Uuid = tenant.parse().unwrap();
    let task = tokio::spawn(async move { slow.purge_some(t, None, 1).await });
    tokio::time::sleep(Duration::from_millis(30)).await;
    task.abort();
    let _ = task.await;
    // Once the lease has run out (10 minutes), the next run finishes it.
    n(&app, &format!("WITH v AS (UPDATE tenants SET purge_leased_until = now() - interval '1 second' WHERE id = '{tenant}' RETURNING 1) SELECT count(*) AS n FROM v")).await;
    let runs = p.run_due().await.unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].finished);
    assert_eq!(rows_of_tenant(&app, &tenant).await, vec![]);
    assert_eq!(
        n(
            &app,
            &format!("SELECT count(*) AS n FROM tenant_tombstones WHERE id = '{tenant}'")
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_tenant_is_purged_only_when_due() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("wait@erase.test", "Waiting Co").await;
    delete_tenant(&app, &owner).await;
    assert!(
        purger(&app).run_due().await.unwrap().is_empty(),
        "14 days to go"
    );
    assert!(
        purger(&app)
            .purge(tenant.parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    // The database refuses a step for a tenant that is not due, whoever asks.
    use diesel_async::RunQueryDsl;
    let mut db = owner_db(&app).await;
    let r = diesel::sql_query("SET ROLE tenantgate_app")
        .execute(&mut db)
        .await;
    assert!(r.is_ok());
    let r = diesel::sql_query(format!("SELECT tg_tenant_purge_batch('{tenant}', 10)"))
        .execute(&mut db)
        .await;
    assert!(r.unwrap_err().to_string().contains("not due"));
    let r = diesel::sql_query(format!(
        "DELETE FROM audit_log WHERE tenant_id = '{tenant}'"
    ))
    .execute(&mut db)
    .await;
    assert!(r.is_err(), "the runtime role has no DELETE");
    assert!(!rows_of_tenant(&app, &tenant).await.is_empty());
}

#[tokio::test]
async fn a_platform_admin_purges_at_once_and_reads_the_tombstones() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("live@now.test", "Now Co").await;
    let (staff, staff_id, _) = app.sign_up("staff@erase.test", "Staff Co").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@erase.test", true)
        .await
        .unwrap();
    let a = app.gql(PURGE, json!({ "id": tenant }), Some(&owner)).await;
    assert_code(&a, "FORBIDDEN", "an owner purges");
    let a = app.gql(TOMBSTONES, json!({}), Some(&owner)).await;
    assert_code(&a, "FORBIDDEN", "an owner reads tombstones");
    let a = app
        .gql(PURGE, json!({ "id": uuid::Uuid::now_v7() }), Some(&staff))
        .await;
    assert_code(&a, "NOT_FOUND", "no such tenant");
    let a = app.gql(PURGE, json!({ "id": tenant }), Some(&staff)).await;
    assert_ok(&a, "purge");
    let p = &a.body["data"]["purgeTenant"];
    assert_eq!(p["peopleErased"], 1);
    assert_eq!(p["tombstone"]["reason"], "PLATFORM_ADMIN");
    assert_eq!(p["tombstone"]["requestedBy"], staff_id.as_str());
    assert_eq!(rows_of_tenant(&app, &tenant).await, vec![]);
    let a = app.gql(TOMBSTONES, json!({}), Some(&staff)).await;
    assert_ok(&a, "tombstones");
    assert_eq!(
        a.body["data"]["admin"]["tenantTombstones"][0]["id"],
        tenant.as_str()
    );
    assert_eq!(
        n(&app, &format!("SELECT count(*) AS n FROM audit_log WHERE tenant_id IS NULL AND action = 'tenant.purge' AND target_id = '{tenant}' AND actor_id = '{staff_id}'")).await,
        1,
        "audited in the platform's trail"
    );
}

#[tokio::test]
async fn two_instances_purging_at_once_purge_a_tenant_once() {
    let app = TestApp::spawn_tuned(|s| s.deletion_grace = Duration::ZERO).await;
    let peer = app.peer(Limiter::local()).await;
    let (owner, _, tenant) = app.sign_up("twice@gone.test", "Twice Co").await;
    for i in 0..3 {
        create_key(&app, &owner, json!({ "name": format!("k{i}") })).await;
    }
    delete_tenant(&app, &owner).await;
    let (a, b) = (purger(&app), purger(&peer));
    let (ra, rb) = tokio::join!(a.run_due(), b.run_due());
    let runs: Vec<_> = ra.unwrap().into_iter().chain(rb.unwrap()).collect();
    assert_eq!(runs.len(), 1, "one run leases the tenant: {runs:?}");
    assert!(runs[0].finished);
    assert_eq!(rows_of_tenant(&app, &tenant).await, vec![]);
    assert_eq!(
        n(
            &app,
            &format!("SELECT count(*) AS n FROM tenant_tombstones WHERE id = '{tenant}'")
        )
        .await,
        1
    );
    drop(peer);
}

/// Runs the export worker until nothing is queued.
async fn export_all(app: &TestApp) {
    while app.state.exports.run_once().await.expect("the worker runs") {}
}

/// Files under `dir` (recursively).
fn files_in(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                files_in(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[tokio::test]
async fn the_purge_and_a_deleted_account_take_their_stored_exports_with_them() {
    let app = TestApp::spawn_tuned(|s| s.deletion_grace = Duration::ZERO).await;
    let (owner, owner_id, tenant) = app.sign_up("own@exports.test", "Leaving Co").await;
    let (other_owner, _, other) = app.sign_up("stay@exports.test", "Staying Co").await;
    // Only in the leaving tenant: erased with it. In both: stays.
    let only_here =
        crate::identity::invite_and_join(&app, &owner, "only@exports.test", "MEMBER").await;
    let both = crate::identity::invite_and_join(&app, &owner, "both@exports.test", "MEMBER").await;
    // The same person joins the other tenant too, signed in.
    let a = app
        .gql(
            "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id } }",
            json!({ "i": { "email": "both@exports.test", "role": "MEMBER" } }),
            Some(&other_owner),
        )
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let invitation = crate::identity::mailed_token(&app, "both@exports.test", "tgi").await;
    let a = app
        .gql(
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }",
            json!({ "i": { "token": invitation } }),
            Some(&both),
        )
        .await;
    let both_elsewhere = a.body["data"]["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", a.body))
        .to_owned();
    let id_of = |token: String| {
        let app = &app;
        async move {
            let a = app
                .gql("{ viewer { user { id } } }", json!({}), Some(&token))
                .await;
            a.body["data"]["viewer"]["user"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (only_id, both_id) = (id_of(only_here.clone()).await, id_of(both.clone()).await);
    assert_eq!(both_id, id_of(both_elsewhere).await);
    let ask = |token: String, q: &'static str| {
        let app = &app;
        async move {
            let a = app.gql(q, json!({}), Some(&token)).await;
            assert!(a.body.get("errors").is_none(), "{:?}", a.body);
        }
    };
    ask(owner.clone(), "mutation { requestDataExport { id } }").await;
    ask(other_owner.clone(), "mutation { requestDataExport { id } }").await;
    for token in [&owner, &only_here, &both] {
        ask(token.clone(), "mutation { requestMyDataExport { id } }").await;
    }
    export_all(&app).await;
    let root = app.state.settings.exports.dir.clone();
    let tenant_dir = |t: &str| root.join("tenants").join(t);
    let user_dir = |u: &str| root.join("users").join(u);
    for dir in [
        tenant_dir(&tenant),
        tenant_dir(&other),
        user_dir(&owner_id),
        user_dir(&only_id),
        user_dir(&both_id),
    ] {
        assert_eq!(files_in(&dir), 1, "{} holds its archive", dir.display());
    }

    delete_tenant(&app, &owner).await;
    let run = purger(&app)
        .purge(tenant.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(run.finished);
    assert_eq!(
        run.people_erased, 2,
        "the owner and the member of no other tenant"
    );
    for gone in [tenant_dir(&tenant), user_dir(&owner_id), user_dir(&only_id)] {
        assert_eq!(files_in(&gone), 0, "{} is emptied", gone.display());
    }
    assert_eq!(
        files_in(&tenant_dir(&other)),
        1,
        "another tenant's archive stays"
    );
    assert_eq!(
        files_in(&user_dir(&both_id)),
        1,
        "a person who stays keeps theirs"
    );
    assert_eq!(
        n(&app, "SELECT count(*) AS n FROM data_exports").await,
        2,
        "the rows went with them"
    );

    // A person deleting their account takes their archive with them.
    let a = app
        .gql(
            DELETE_ME,
            json!({}),
            Some(&log_in(&app, "both@exports.test").await),
        )
        .await;
    assert_eq!(a.body["data"]["deleteMyAccount"], true, "{:?}", a.body);
    assert_eq!(files_in(&user_dir(&both_id)), 0);
    assert_eq!(n(&app, "SELECT count(*) AS n FROM data_exports").await, 1);
}

#[tokio::test]
async fn a_tenant_awaiting_deletion_keeps_an_owner_until_its_purge() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("keep@owner.test", "Keeping Co").await;
    delete_tenant(&app, &owner).await;
    let mut db = owner_db(&app).await;
    // Even the database's owner, outside the purge's member step: refused at commit.
    let r = diesel::sql_query(format!(
        "DELETE FROM memberships WHERE tenant_id = '{tenant}'"
    ))
    .execute(&mut db)
    .await;
    assert!(
        r.unwrap_err()
            .to_string()
            .contains("keep at least one owner"),
        "a pending tenant keeps an owner who can cancel"
    );
    assert_eq!(
        n(
            &app,
            &format!("SELECT count(*) AS n FROM memberships WHERE tenant_id = '{tenant}'")
        )
        .await,
        1
    );
}
