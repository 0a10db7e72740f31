//! Erasure end to end: `deleteTenant` (owners, a fresh sign-in, the slug
//! typed), the grace period (keys refused on every instance at once,
//! members reading, every other change refused, cancelling restoring
//! everything), the purge (zero rows of the tenant in every table the
//! catalogue lists, the people who belong nowhere else erased, the Stripe
//! customer deleted at the simulator, webhooks for it ignored, a run cut
//! off halfway finished by the next), a platform admin's immediate purge
//! with its tombstone, and `deleteMyAccount` (last-owner refusal, an opaque
//! actor left in other tenants' trails).

use std::time::{Duration, Instant};

use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use tenantgate::erasure::Purger;
use tenantgate::stripe_sim::{SimConfig, SimHandle, StripeSim};
use tenantgate::usage::limits::Limiter;

use crate::keys::{assert_code, assert_ok, create_key, v1, wait_live};
use crate::matrix::{call, join, text};
use crate::support::{PASSWORD, TestApp};

const DELETE: &str = "mutation($s: String!) { deleteTenant(confirmSlug: $s) { status deletion { scheduledAt purgeAfter requestedBy } } }";
const CANCEL: &str = "mutation { cancelTenantDeletion { status deletion { purgeAfter } } }";
const DELETE_ME: &str = "mutation { deleteMyAccount }";
const PURGE: &str = "mutation($id: ID!) { purgeTenant(id: $id) { peopleErased rowsDeleted tombstone { id reason requestedBy purgedAt } } }";
const TOMBSTONES: &str = "{ admin { tenantTombstones { id reason } } }";
const TENANT: &str = "{ tenant { slug status deletion { purgeAfter requestedBy } } }";
const LOG_IN: &str = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }";
const RENAME: &str = "mutation { updateTenant(input: { name: \"Renamed\" }) { name } }";
const KEY: &str = "mutation { createApiKey(input: { name: \"late\" }) { secret } }";

async fn owner_db(app: &TestApp) -> AsyncPgConnection {
    app.db.owner().await
}

async fn n(app: &TestApp, sql: &str) -> i64 {
    app.db.count(sql).await
}

async fn slug(app: &TestApp, token: &str) -> String {
    let a = app.gql(TENANT, json!({}), Some(token)).await;
    assert_ok(&a, "read the tenant");
    a.body["data"]["tenant"]["slug"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn log_in(app: &TestApp, email: &str) -> String {
    let a = app
        .gql(
            LOG_IN,
            json!({ "i": { "email": email, "password": PASSWORD } }),
            None,
        )
        .await;
    assert_ok(&a, "log in");
    a.body["data"]["logIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Makes every session of `user` look signed in 10 minutes ago.
async fn age_sessions(app: &TestApp, user: &str) {
    n(
        app,
        &format!(
            "WITH v AS (UPDATE sessions SET created_at = now() - interval '10 minutes' \
             WHERE user_id = '{user}' RETURNING 1) SELECT count(*) AS n FROM v"
        ),
    )
    .await;
}

async fn delete_tenant(app: &TestApp, token: &str) -> Value {
    let s = slug(app, token).await;
    let a = app.gql(DELETE, json!({ "s": s }), Some(token)).await;
    assert_ok(&a, "deleteTenant");
    a.body["data"]["deleteTenant"].clone()
}

/// Every table of the schema with a `tenant_id` column (partitions and
/// detached months included), read from the catalogue.
async fn tenant_tables(app: &TestApp) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    use diesel_async::RunQueryDsl;
    let mut db = owner_db(app).await;
    diesel::sql_query(
        "SELECT c.relname::text AS t FROM pg_class c
         JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = 'public'
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .load::<T>(&mut db)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.t)
    .collect()
}

/// Rows of `tenant` in every table (as the owner: row-level security hides nothing).
async fn rows_of_tenant(app: &TestApp, tenant: &str) -> Vec<(String, i64)> {
    let mut found = Vec::new();
    for t in tenant_tables(app).await {
        let c = n(
            app,
            &format!("SELECT count(*) AS n FROM \"{t}\" WHERE tenant_id = '{tenant}'"),
        )
        .await;
        if c > 0 {
            found.push((t, c));
        }
    }
    let c = n(
        app,
        &format!("SELECT count(*) AS n FROM tenants WHERE id = '{tenant}'"),
    )
    .await;
    if c > 0 {
        found.push(("tenants".into(), c));
    }
    found
}

/// What is left of `user` (id) and `email` anywhere a person is recorded.
async fn traces_of_person(app: &TestApp, user: &str, email: &str) -> Vec<String> {
    let mut left = Vec::new();
    let checks = [
        format!("SELECT count(*) AS n FROM users WHERE id = '{user}' OR email = '{email}'"),
        format!("SELECT count(*) AS n FROM api_keys WHERE created_by = '{user}'"),
        format!(
            "SELECT count(*) AS n FROM invitations WHERE invited_by = '{user}' OR email = '{email}'"
        ),
        format!(
            "SELECT count(*) AS n FROM email_outbox WHERE recipient = '{email}' OR subject LIKE '%{email}%'"
        ),
        format!("SELECT count(*) AS n FROM login_failures WHERE key LIKE '%{email}'"),
        format!(
            "SELECT count(*) AS n FROM audit_log WHERE actor_id = '{user}' \
             AND (actor_label IS NOT NULL OR ip IS NOT NULL OR user_agent IS NOT NULL)"
        ),
        format!(
            "SELECT count(*) AS n FROM audit_log WHERE actor_label = '{email}' \
             OR before::text LIKE '%{email}%' OR after::text LIKE '%{email}%'"
        ),
    ];
    for sql in checks {
        if n(app, &sql).await > 0 {
            left.push(sql);
        }
    }
    // Every column named user_id, in every table.
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    use diesel_async::RunQueryDsl;
    let mut db = owner_db(app).await;
    let tables: Vec<T> = diesel::sql_query(
        "SELECT c.relname::text AS t FROM pg_class c
         JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = 'public'
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p')",
    )
    .load(&mut db)
    .await
    .unwrap();
    for T { t } in tables {
        let sql = format!("SELECT count(*) AS n FROM \"{t}\" WHERE user_id = '{user}'");
        if n(app, &sql).await > 0 {
            left.push(sql);
        }
    }
    left
}

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
    Purger::new(app.state.db.clone(), app.state.billing.clone())
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
