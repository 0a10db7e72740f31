//! Bounds of the second review: test sends and replays spend a budget per
//! tenant; an endpoint at its cap of pending deliveries gets no more (the
//! drops counted and audited once a day); ended deliveries, their attempts
//! and unneeded events go after 30 days by the database's clock.

use serde_json::json;
use tenantgate::webhooks::EventType;
use tenantgate::webhooks::sends::SENDS;
use tenantgate::webhooks::upkeep::PENDING_CAP;

use super::delivery::emit;
use super::receiver::Receiver;
use super::{LIST, REPLAY, TEST, create, deliveries};
use crate::support::TestApp;

async fn app() -> TestApp {
    TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await
}

#[tokio::test]
async fn test_sends_and_replays_spend_one_budget_per_tenant() {
    let app = app().await;
    let rx = Receiver::start().await;
    let (token, _, _) = app.sign_up("owner@budget.test", "Budget").await;
    let (other, _, _) = app.sign_up("owner@budget-b.test", "Budget B").await;
    let (id, _) = create(&app, &token, json!({ "url": format!("{}/ok", rx.url) })).await;
    let (other_id, _) = create(&app, &other, json!({ "url": format!("{}/ok", rx.url) })).await;
    let mut first = None;
    for _ in 0..SENDS.max {
        let a = app.gql(TEST, json!({ "id": id }), Some(&token)).await;
        assert!(a.body.get("errors").is_none(), "{:?}", a.body);
        first.get_or_insert_with(|| a.body["data"]["sendTestWebhook"]["id"].clone());
    }
    let over = app.gql(TEST, json!({ "id": id }), Some(&token)).await;
    assert_eq!(over.code(), "RATE_LIMITED", "{:?}", over.body);
    let ext = &over.body["errors"][0]["extensions"];
    assert!(ext["retryAfter"].as_u64().unwrap_or(0) >= 1, "{ext}");
    assert!(
        over.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("60 an hour per tenant"),
        "{:?}",
        over.body
    );
    // A replay spends the same budget.
    let a = app.gql(REPLAY, json!({ "id": first }), Some(&token)).await;
    assert_eq!(a.code(), "RATE_LIMITED", "{:?}", a.body);
    // Nothing was written past the budget.
    let made = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = '{id}'"
        ))
        .await;
    assert_eq!(made, i64::from(SENDS.max));
    // Another tenant's budget is its own.
    let a = app.gql(TEST, json!({ "id": other_id }), Some(&other)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    // A refused send (not found) costs nothing: B still has 59 left after 1.
    let a = app.gql(TEST, json!({ "id": id }), Some(&other)).await;
    assert_eq!(a.code(), "NOT_FOUND");
    let spent = app
        .db
        .count("SELECT coalesce(max(failures), 0)::bigint AS n FROM login_failures WHERE key LIKE 'webhook-send:%' AND failures < 60")
        .await;
    assert_eq!(spent, 1, "the refused send was rolled back with its spend");
}

#[tokio::test]
async fn an_endpoint_at_its_cap_gets_no_more_and_the_drops_are_audited_once_a_day() {
    let app = app().await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@cap.test", "Cap").await;
    let (full, _) = create(&app, &token, json!({ "url": format!("{}/full", rx.url) })).await;
    let (open, _) = create(&app, &token, json!({ "url": format!("{}/open", rx.url) })).await;
    let event = emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    // The full endpoint's backlog: the cap, pending (due in an hour).
    let added = app
        .db
        .count(&format!(
            "WITH v AS (INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, next_attempt_at)
                        SELECT gen_random_uuid(), '{tenant}', '{full}', '{event}', now() + interval '1 hour'
                          FROM generate_series(2, {PENDING_CAP}) RETURNING 1)
             SELECT count(*) AS n FROM v"
        ))
        .await;
    assert_eq!(added, PENDING_CAP - 1);
    let pending = |endpoint: String| {
        let db = &app.db;
        async move {
            db.count(&format!(
                "SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = '{endpoint}' AND status = 'pending'"
            ))
            .await
        }
    };
    assert_eq!(pending(full.clone()).await, PENDING_CAP);
    // The mark was counted at the first event (not at the cap): within the
    // minute it stands; a minute later the next event counts again.
    let marks = |at: &str| {
        format!(
            "WITH v AS (UPDATE webhook_endpoints SET pending_counted_at = {at}
                         WHERE tenant_id = '{tenant}' RETURNING 1) SELECT count(*) AS n FROM v"
        )
    };
    app.db.count(&marks("now() - interval '61 seconds'")).await;
    // Another transaction holds the full endpoint's row (the worker
    // recording an attempt, a member's update): the fan-out neither waits
    // for it nor locks the row to count a drop.
    let mut db = app.db.owner().await;
    let emitted = emit_while_held(&app, &mut db, &tenant, &full).await;
    assert!(emitted, "the event waited for the endpoint's lock");
    assert_eq!(
        pending(full.clone()).await,
        PENDING_CAP + 1,
        "locked elsewhere: the stale mark stood (the cap is soft by a minute's events)"
    );
    sql(&mut db, "COMMIT").await;
    app.db.count(&marks("now() - interval '61 seconds'")).await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    app.db.count(&marks("now()")).await;
    // Counted once: the mark stands for a minute, and the next event is
    // dropped without counting again (it would have re-marked the row).
    let emitted = emit_while_held(&app, &mut db, &tenant, &full).await;
    assert!(emitted, "a drop waited for the endpoint's lock");
    sql(&mut db, "COMMIT").await;
    assert_eq!(
        pending(full.clone()).await,
        PENDING_CAP + 1,
        "no more past the cap"
    );
    assert_eq!(
        pending(open.clone()).await,
        4,
        "the other endpoint gets every event"
    );
    let drops = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM webhook_endpoint_drops WHERE endpoint_id = '{full}'"
        ))
        .await;
    assert_eq!(
        drops, 2,
        "each drop appended, not counted on the endpoint's row"
    );

    // The upkeep folds the drops into the endpoint and the owners learn of
    // it: one audit entry, not one per event.
    let done = app.state.webhooks.upkeep().await.unwrap();
    assert_eq!(done.reported, 1);
    let a = app
        .gql(
            "{ tenant { webhookEndpoints { id droppedEvents lastDroppedAt } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let list = a.body["data"]["tenant"]["webhookEndpoints"]
        .as_array()
        .unwrap()
        .clone();
    let e = list.iter().find(|e| e["id"] == json!(full)).unwrap();
    assert_eq!(e["droppedEvents"], json!(2), "{e}");
    assert!(e["lastDroppedAt"].is_string(), "{e}");
    let o = list.iter().find(|e| e["id"] == json!(open)).unwrap();
    assert_eq!(o["droppedEvents"], json!(0), "{o}");
    assert_eq!(audited(&app).await, 1);
    let said = app
        .db
        .count(&format!(
            "SELECT (after->>'dropped')::bigint AS n FROM audit_log
              WHERE action = 'webhook_endpoint.events_dropped' AND target_id = '{full}'
                AND tenant_id = '{tenant}' AND actor_type = 'system'"
        ))
        .await;
    assert_eq!(said, 2);
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(app.state.webhooks.upkeep().await.unwrap().reported, 0);
    assert_eq!(audited(&app).await, 1, "at most once a day per endpoint");
    // A day later, what was dropped since.
    app.db
        .count(&format!(
            "WITH v AS (UPDATE webhook_endpoints SET drop_reported_at = now() - interval '25 hours'
                         WHERE id = '{full}' RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    assert_eq!(app.state.webhooks.upkeep().await.unwrap().reported, 1);
    assert_eq!(audited(&app).await, 2);
    let said = app
        .db
        .count(
            "SELECT (after->>'dropped')::bigint AS n FROM audit_log
              WHERE action = 'webhook_endpoint.events_dropped' ORDER BY created_at DESC LIMIT 1",
        )
        .await;
    assert_eq!(said, 1);
    assert_eq!(rx.count().await, 0, "nothing was delivered meanwhile");
    let _ = app.gql(LIST, json!({}), Some(&token)).await;
}

#[tokio::test]
async fn ended_deliveries_and_unneeded_events_go_after_30_days() {
    let app = app().await;
    let rx = Receiver::start().await;
    let (token, _, tenant) = app.sign_up("owner@retain.test", "Retain").await;
    let (ok, _) = create(&app, &token, json!({ "url": format!("{}/ok", rx.url) })).await;
    let old = emit(&app, &tenant, EventType::TenantUpdated, json!({ "n": 1 })).await;
    let kept = emit(&app, &tenant, EventType::TenantUpdated, json!({ "n": 2 })).await;
    let held = emit(&app, &tenant, EventType::TenantUpdated, json!({ "n": 3 })).await;
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 3);
    // 31 days pass for `old` (ended) and `held`'s event, whose delivery is
    // pending again (a replay due later): the database's clock decides, so
    // the rows are moved back rather than the clock forward.
    let moved = app
        .db
        .count(&format!(
            "WITH e AS (UPDATE webhook_events SET created_at = created_at - interval '31 days'
                         WHERE id IN ('{old}', '{held}') RETURNING 1),
                  d AS (UPDATE webhook_deliveries SET completed_at = completed_at - interval '31 days'
                         WHERE event_id = '{old}' RETURNING 1),
                  p AS (UPDATE webhook_deliveries SET status = 'pending', completed_at = NULL,
                               next_attempt_at = now() + interval '1 hour'
                         WHERE event_id = '{held}' RETURNING 1)
             SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM d) + (SELECT count(*) FROM p) AS n"
        ))
        .await;
    assert_eq!(moved, 4);
    let attempts_before = app
        .db
        .count("SELECT count(*) AS n FROM webhook_attempts")
        .await;
    assert_eq!(attempts_before, 3);
    // The runtime role deletes nothing itself.
    let t = uuid::Uuid::parse_str(&tenant).unwrap();
    let refused = app
        .state
        .db
        .scoped(tenantgate::tenancy::Scope::tenant(t), |conn| {
            use diesel_async::RunQueryDsl;
            use scoped_futures::ScopedFutureExt;
            async move {
                diesel::sql_query("DELETE FROM webhook_attempts")
                    .execute(conn)
                    .await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await;
    assert!(refused.is_err(), "the runtime role may not delete attempts");

    let done = app.state.webhooks.upkeep().await.unwrap();
    assert_eq!(done.pruned, 2, "the old delivery and its event: {done:?}");
    let left = |sql: &'static str| app.db.count(sql);
    assert_eq!(left("SELECT count(*) AS n FROM webhook_attempts").await, 2);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM webhook_events WHERE id IN ('{kept}', '{held}')"
            ))
            .await,
        2,
        "recent events and events still needed stay"
    );
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM webhook_events WHERE id = '{old}'"
            ))
            .await,
        0
    );
    let log = deliveries(&app, &token, &ok).await;
    assert_eq!(log.len(), 2, "{log:?}");
    // Nothing more to do.
    assert_eq!(app.state.webhooks.upkeep().await.unwrap().pruned, 0);
}

async fn audited(app: &TestApp) -> i64 {
    app.db
        .count(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'webhook_endpoint.events_dropped'",
        )
        .await
}

#[tokio::test]
async fn the_endpoint_list_and_attempts_are_priced_as_many_as_they_return() {
    let app = app().await;
    let (token, _, _) = app.sign_up("owner@priced.test", "Priced").await;
    // The review's read: 20 endpoints × 100 deliveries × 8 attempts, once
    // priced ~800 of 5,000; now 20 × (1 + 100 × (…+ 8 × 2)) > 5,000.
    let heavy = "{ tenant { webhookEndpoints { deliveries(first: 100) { edges { node { payload attempts { responseExcerpt error } } } } } } }";
    let a = app.gql(heavy, json!({}), Some(&token)).await;
    assert_eq!(a.code(), "BAD_USER_INPUT", "{:?}", a.body);
    let message = a.body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.to_lowercase().contains("complex"), "{message}");
    // One endpoint's log of 100 deliveries with 8 attempts of 5 fields:
    // 100 × (edges 1 + node 1 + 8 fields + 8 × 5 + 1) > 5,000 too...
    let one = "query($id: ID!) { tenant { webhookEndpoint(id: $id) { deliveries(first: 100) { edges { node { id eventId eventType status attemptCount nextAttemptAt replayOf payload attempts { attemptedAt statusCode latencyMs responseExcerpt error } } } } } } }";
    let a = app
        .gql(one, json!({ "id": uuid::Uuid::nil() }), Some(&token))
        .await;
    assert_eq!(a.code(), "BAD_USER_INPUT", "{:?}", a.body);
    // ...while the web app's list (every endpoint, its latest delivery) and
    // a page of 50 run.
    let list = "{ tenant { webhookEndpoints { id url description eventTypes enabled failingSince deliveries(first: 1) { nodes { id eventType status createdAt completedAt } } } } }";
    let a = app.gql(list, json!({}), Some(&token)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let page = one.replace("first: 100", "first: 50");
    let a = app
        .gql(&page, json!({ "id": uuid::Uuid::nil() }), Some(&token))
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
}

async fn sql(db: &mut diesel_async::AsyncPgConnection, statement: &str) {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(statement).execute(db).await.unwrap();
}

/// Emits an event while `db` holds `endpoint`'s row as the worker and
/// updates do (FOR NO KEY UPDATE, in a transaction the caller ends): whether
/// the event was written within 5 s.
async fn emit_while_held(
    app: &TestApp,
    db: &mut diesel_async::AsyncPgConnection,
    tenant: &str,
    endpoint: &str,
) -> bool {
    sql(db, "BEGIN").await;
    sql(
        db,
        &format!("SELECT 1 FROM webhook_endpoints WHERE id = '{endpoint}' FOR NO KEY UPDATE"),
    )
    .await;
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        emit(app, tenant, EventType::TenantUpdated, json!({})).await;
    })
    .await
    .is_ok()
}
