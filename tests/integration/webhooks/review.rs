//! Findings of the second review, each with its test: the claim is fair
//! across tenants and leases on the database's clock; a secret sealed under
//! the previous signing key is sealed again under the current one; a key's
//! `webhooks:write` is re-checked on its locked row; a new URL or enabling
//! again starts the failure streak afresh.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use serde_json::json;
use tenantgate::auth::jwt::JwtKeys;
use tenantgate::tenancy::Scope;
use tenantgate::webhooks::{EventType, WebhookSettings, Webhooks};

use super::delivery::emit;
use super::receiver::Receiver;
use super::{CREATE, DELETE, LIST, REPLAY, ROTATE, TEST, UPDATE, create, deliveries};
use crate::keys::create_key;
use crate::support::{SECRET, TestApp};

#[tokio::test]
async fn one_tenants_backlog_does_not_starve_another_tenants_event() {
    let app = TestApp::spawn_tuned(|s| {
        s.webhooks.allow_loopback = true;
        s.webhooks.concurrency = 4;
        s.webhooks.per_endpoint = 1;
    })
    .await;
    let rx = Receiver::start().await;
    let (a_token, _, a) = app.sign_up("owner@backlog.test", "Backlog").await;
    let (b_token, _, b) = app.sign_up("owner@prompt.test", "Prompt").await;
    // A: as many slow endpoints as the instance has slots (concurrency /
    // per_endpoint), each with a backlog due an hour before B's event.
    let mut slow = Vec::new();
    for i in 0..4 {
        let url = format!("{}/slow{i}?delay_ms=1500", rx.url);
        slow.push(create(&app, &a_token, json!({ "url": url })).await.0);
    }
    let (b_endpoint, _) = create(&app, &b_token, json!({ "url": format!("{}/b", rx.url) })).await;
    let event = emit(&app, &a, EventType::TenantUpdated, json!({})).await;
    for e in &slow {
        app.db
            .count(&format!(
                "WITH v AS (INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, next_attempt_at)
                            SELECT gen_random_uuid(), '{a}', '{e}', '{event}', now() - interval '1 hour'
                              FROM generate_series(1, 50) RETURNING 1)
                 SELECT count(*) AS n FROM v"
            ))
            .await;
    }
    // The worker runs as in production: A fills every slot first; each
    // freed slot is claimed again one at a time.
    let stop = tenantgate::usage::Stop::default();
    let worker = app.state.webhooks.start_worker(stop.clone());
    tokio::time::sleep(Duration::from_millis(700)).await;
    emit(&app, &b, EventType::TenantUpdated, json!({})).await;
    let started = std::time::Instant::now();
    loop {
        let to_b = rx
            .log()
            .await
            .iter()
            .filter(|l| l["path"] == json!("/b"))
            .count();
        if to_b == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_millis(3500),
            "B's event waited behind A's backlog"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.stop();
    worker.await.unwrap();
    let d = &deliveries(&app, &b_token, &b_endpoint).await[0];
    assert_eq!(d["status"], json!("SUCCEEDED"), "{d}");
}

#[tokio::test]
async fn leases_and_due_times_are_the_database_clocks() {
    let app = TestApp::spawn_tuned(|s| {
        s.webhooks.allow_loopback = true;
        s.webhooks.per_endpoint = 1;
    })
    .await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@clock.test", "Clock").await;
    let (id, _) = create(
        &app,
        &token,
        json!({ "url": format!("{}/status/500", rx.url) }),
    )
    .await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    // The claim takes no time from its caller: its lease is the database's
    // now plus 60 s (plus the test clock's skew, zero here).
    let t = uuid::Uuid::parse_str(&tenant).unwrap();
    let lease = uuid::Uuid::now_v7();
    let claimed = claim_as(&app, Scope::webhook_worker(), lease, 10, 0)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].tenant_id, t);
    assert_eq!(
        claimed[0].url,
        format!("{}/status/500", rx.url),
        "the claim returns the URL"
    );
    let ahead = app
        .db
        .count(&format!(
            "SELECT extract(epoch FROM next_attempt_at - clock_timestamp())::bigint AS n
               FROM webhook_deliveries WHERE leased_by = '{lease}'"
        ))
        .await;
    assert!(
        (58..=60).contains(&ahead),
        "leased for 60 s of the database's clock: {ahead}"
    );
    // Given back; a failed attempt's retry is due on the database's clock
    // (5 s after the first, jitter ±10 %), with the test clock's skew.
    app.db
        .count(&format!(
            "WITH v AS (UPDATE webhook_deliveries SET leased_by = NULL, next_attempt_at = now()
                         WHERE leased_by = '{lease}' RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    app.state
        .webhooks
        .clock()
        .advance(Duration::from_secs(3600));
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 1);
    let ahead = app
        .db
        .count(&format!(
            "SELECT extract(epoch FROM next_attempt_at - clock_timestamp())::bigint AS n
               FROM webhook_deliveries WHERE endpoint_id = '{id}'"
        ))
        .await;
    assert!(
        (3603..=3606).contains(&ahead),
        "an hour of skew and 5 s: {ahead}"
    );
}

#[tokio::test]
async fn a_secret_sealed_under_the_previous_key_is_sealed_again_when_used() {
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@reseal.test", "Reseal").await;
    let (id, secret) = create(&app, &token, json!({ "url": format!("{}/ok", rx.url) })).await;
    rx.secrets(&[&secret]).await;
    let before = sealed(&app, &id).await;
    const NEW: &[u8] = b"a-new-signing-secret-0123456789abcdef!";
    let instance = |current: &[u8], previous: Option<&[u8]>| {
        Webhooks::new(
            app.state.db.clone(),
            WebhookSettings {
                allow_loopback: true,
                ..WebhookSettings::default()
            },
            &JwtKeys::new(current, previous).unwrap(),
            tenantgate::mail::Mailer {
                log_bodies: true,
                public_url: "http://localhost".to_owned(),
                sealer: tenantgate::mail::Sealer::new(&JwtKeys::new(current, previous).unwrap()),
            },
        )
    };
    // The server's signing secret is rotated: the old one is the previous.
    let rotated = instance(NEW, Some(SECRET));
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(rotated.run_once().await.unwrap(), 1);
    assert_eq!(rx.log().await[0]["verified"], json!([true]));
    let after = sealed(&app, &id).await;
    assert_ne!(before, after, "sealed again");
    // Then the previous secret is dropped: the endpoint still signs.
    let dropped = instance(NEW, None);
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(dropped.run_once().await.unwrap(), 1);
    let log = rx.log().await;
    assert_eq!(log[1]["verified"], json!([true]), "{:?}", log[1]);
    assert_eq!(
        sealed(&app, &id).await,
        after,
        "sealed under the current key: left alone"
    );
    let d = deliveries(&app, &token, &id).await;
    assert!(d.iter().all(|d| d["status"] == json!("SUCCEEDED")), "{d:?}");
}

#[tokio::test]
async fn a_keys_webhooks_write_is_rechecked_on_its_locked_row() {
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let (owner, _, tenant) = app.sign_up("owner@rescope.test", "Rescope").await;
    let hears = json!(["tenant.updated"]);
    let url = |p: &str| format!("https://hooks.example.com/{p}");
    let (id, _) = create(
        &app,
        &owner,
        json!({ "url": url("k"), "eventTypes": hears }),
    )
    .await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    let delivery = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = '{id}'"
        ))
        .await;
    assert_eq!(delivery, 1);
    let delivery = deliveries(&app, &owner, &id).await[0]["id"].clone();
    let before = app
        .db
        .count("SELECT count(*) AS n FROM webhook_deliveries")
        .await;
    // Each mutation by a key of its own, whose scopes change while it is
    // under way: after it authenticated, before its transaction reads the
    // key's row (held locked here until the change commits). The last loses
    // only members:read, keeping webhooks:write: a scope it was used with.
    let all = [
        "WEBHOOKS_WRITE",
        "WEBHOOKS_READ",
        "TENANT_READ",
        "MEMBERS_READ",
    ];
    let cases = [
        (
            CREATE,
            json!({ "i": { "url": url("k2"), "eventTypes": hears } }),
            false,
        ),
        (
            UPDATE,
            json!({ "i": { "id": id, "description": "changed" } }),
            false,
        ),
        (DELETE, json!({ "id": id }), false),
        (ROTATE, json!({ "id": id }), false),
        (TEST, json!({ "id": id }), false),
        (REPLAY, json!({ "id": delivery }), false),
        (
            UPDATE,
            json!({ "i": { "id": id, "description": "subset" } }),
            true,
        ),
    ];
    for (op, vars, subset) in cases {
        let (key_id, key) = create_key(&app, &owner, json!({ "scopes": all })).await;
        // Warm: the key authenticates and reads.
        let a = app.gql(LIST, json!({}), Some(&key)).await;
        assert!(a.body.get("errors").is_none(), "{:?}", a.body);
        let narrowed = if subset {
            "ARRAY['webhooks:write', 'webhooks:read', 'tenant:read']"
        } else {
            "ARRAY['webhooks:read', 'tenant:read', 'members:read']"
        };
        let mut db = app.db.owner().await;
        sql(&mut db, "BEGIN").await;
        sql(
            &mut db,
            &format!("SELECT 1 FROM api_keys WHERE id = '{key_id}' FOR UPDATE"),
        )
        .await;
        let change = async {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            sql(
                &mut db,
                &format!("UPDATE api_keys SET scopes = {narrowed} WHERE id = '{key_id}'"),
            )
            .await;
            sql(&mut db, "COMMIT").await;
        };
        let (a, ()) = tokio::join!(app.gql(op, vars, Some(&key)), change);
        assert_eq!(a.code(), "FORBIDDEN", "{op}: {:?}", a.body);
        let message = a.body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("scopes changed"),
            "{op} refused by the re-check, not before it: {message}"
        );
    }
    let a = app.gql(LIST, json!({}), Some(&owner)).await;
    let list = a.body["data"]["tenant"]["webhookEndpoints"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 1, "nothing made or deleted: {list:?}");
    assert_eq!(list[0]["id"], json!(id));
    let after = app
        .db
        .count("SELECT count(*) AS n FROM webhook_deliveries")
        .await;
    assert_eq!(after, before, "nothing sent");
    let rotated = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM webhook_endpoints WHERE id = '{id}' AND previous_secret_sealed IS NOT NULL"
        ))
        .await;
    assert_eq!(rotated, 0, "not rotated");
}

#[tokio::test]
async fn a_new_url_or_enabling_again_resets_the_failure_streak() {
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@streak.test", "Streak").await;
    let (id, _) = create(
        &app,
        &token,
        json!({ "url": format!("{}/status/500", rx.url) }),
    )
    .await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 1);
    assert_eq!(
        failing(&app, &id).await,
        1,
        "failing since the first failure"
    );
    let update = |change: serde_json::Value| {
        let (app, token, id) = (&app, &token, &id);
        async move {
            let mut input = change;
            input["id"] = json!(id);
            let a = app.gql(UPDATE, json!({ "i": input }), Some(token)).await;
            assert!(a.body.get("errors").is_none(), "{:?}", a.body);
        }
    };
    // The same URL again (a description change) keeps the streak.
    update(json!({ "url": format!("{}/status/500", rx.url), "description": "d" })).await;
    assert_eq!(failing(&app, &id).await, 1);
    // A new URL: another receiver's 5 days start afresh.
    update(json!({ "url": format!("{}/status/503", rx.url) })).await;
    assert_eq!(failing(&app, &id).await, 0);
    // Failing again, disabled, then enabled: afresh too.
    update(json!({ "url": format!("{}/status/500", rx.url) })).await;
    app.state.webhooks.clock().advance(Duration::from_secs(10));
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 1);
    assert_eq!(failing(&app, &id).await, 1);
    update(json!({ "enabled": false })).await;
    update(json!({ "enabled": true })).await;
    assert_eq!(failing(&app, &id).await, 0);
}

async fn failing(app: &TestApp, id: &str) -> i64 {
    app.db
        .count(&format!(
            "SELECT count(*) AS n FROM webhook_endpoints WHERE id = '{id}' AND failing_since IS NOT NULL"
        ))
        .await
}

/// A fingerprint of the endpoint's sealed secret.
async fn sealed(app: &TestApp, id: &str) -> i64 {
    app.db
        .count(&format!(
            "SELECT ('x' || substr(md5(secret_sealed::text), 1, 15))::bit(60)::bigint AS n
               FROM webhook_endpoints WHERE id = '{id}'"
        ))
        .await
}

/// Claims up to `n` due deliveries for `lease` in `scope`, as the worker
/// would (60 s leases, 4 an endpoint, nothing busy).
async fn claim_as(
    app: &TestApp,
    scope: Scope,
    lease: uuid::Uuid,
    n: i32,
    skew_ms: i64,
) -> Result<Vec<tenantgate::db::webhook_deliveries::Claimed>, tenantgate::error::AppError> {
    app.state
        .db
        .scoped(scope, |conn| {
            async move {
                Ok(tenantgate::db::webhook_deliveries::claim(
                    conn,
                    lease,
                    (n, skew_ms, 60),
                    4,
                    (&[], &[]),
                )
                .await?)
            }
            .scope_boxed()
        })
        .await
}

async fn sql(db: &mut diesel_async::AsyncPgConnection, statement: &str) {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(statement).execute(db).await.unwrap();
}

#[tokio::test]
async fn only_the_worker_role_claims_and_its_skew_is_bounded() {
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let (token, _, tenant) = app.sign_up("owner@role.test", "Role").await;
    create(
        &app,
        &token,
        json!({ "url": "https://hooks.example.com/r" }),
    )
    .await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    // Due in two hours.
    app.db
        .count(
            "WITH v AS (UPDATE webhook_deliveries SET next_attempt_at = now() + interval '2 hours'
                         RETURNING 1) SELECT count(*) AS n FROM v",
        )
        .await;
    let claim =
        |scope: Scope, skew_ms: i64| claim_as(&app, scope, uuid::Uuid::now_v7(), 10, skew_ms);
    // Any other session of the runtime role: refused by the database.
    let refused = claim(Scope::anonymous(), 0).await;
    assert!(refused.is_err(), "{refused:?}");
    let tenant_scope = Scope::tenant(uuid::Uuid::parse_str(&tenant).unwrap());
    assert!(claim(tenant_scope, 0).await.is_err());
    // The worker's skew is bounded by what the owner allows (here an hour):
    // a hundred years' skew makes nothing due two hours ahead.
    app.db
        .count(
            "WITH v AS (UPDATE webhook_claim_cursor SET max_skew = interval '1 hour' RETURNING 1)
             SELECT count(*) AS n FROM v",
        )
        .await;
    let century = 100 * 365 * 24 * 3600 * 1000_i64;
    assert_eq!(
        claim(Scope::webhook_worker(), century).await.unwrap().len(),
        0
    );
    app.db
        .count(
            "WITH v AS (UPDATE webhook_claim_cursor SET max_skew = interval '3 hours' RETURNING 1)
             SELECT count(*) AS n FROM v",
        )
        .await;
    assert_eq!(
        claim(Scope::webhook_worker(), century).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn two_claims_at_once_both_get_work() {
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let (token, _, tenant) = app.sign_up("owner@twice.test", "Twice").await;
    for i in 0..6 {
        let url = format!("https://hooks.example.com/{i}");
        create(&app, &token, json!({ "url": url })).await;
    }
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    // Another instance's claim of 3, its transaction still open.
    let mut db = app.db.owner().await;
    sql(&mut db, "BEGIN").await;
    let first = count_on(
        &mut db,
        "SELECT count(*) AS n FROM tg_webhook_claim(gen_random_uuid(), 3, interval '0', 60, 4, '{}', '{}', '{}')",
    )
    .await;
    assert_eq!(first, 3);
    // This instance's claim at the same time skips those and gets the rest.
    let mine = tokio::time::timeout(
        Duration::from_secs(5),
        claim_as(&app, Scope::webhook_worker(), uuid::Uuid::now_v7(), 3, 0),
    )
    .await
    .expect("the second claim waited for the first")
    .unwrap();
    assert_eq!(mine.len(), 3, "{mine:?}");
    sql(&mut db, "COMMIT").await;
}

async fn count_on(db: &mut diesel_async::AsyncPgConnection, statement: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let c: Count = diesel::sql_query(statement).get_result(db).await.unwrap();
    c.n
}
