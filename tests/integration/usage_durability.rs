//! What `recorded: true` promises: an event lost with its instance (a crash
//! before the flush) is recorded again on retry, never answered as a
//! duplicate, in process and with Redis; each event is stored once; and a row
//! the database refuses is set aside without holding back the others.

use serde_json::{Value, json};
use tenantgate::usage::limits::Limiter;

use crate::redis::{Redis, redis_app};
use crate::support::{Answer, TestApp};

/// A live key that may record usage, made by a new owner of a new tenant.
async fn usage_key(app: &TestApp, email: &str) -> (String, String) {
    let (token, _, tenant) = app.sign_up(email, "Durable").await;
    let a = app
        .gql(
            "mutation { createApiKey(input: { name: \"meter\", scopes: [USAGE_WRITE] }) { secret } }",
            json!({}),
            Some(&token),
        )
        .await;
    let secret = a.body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("createApiKey: {:?}", a.body))
        .to_owned();
    (secret, tenant)
}

async fn record(app: &TestApp, secret: &str, idem: &str) -> Answer {
    let req = app
        .client
        .post(format!("{}/v1/authorize", app.url))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {secret}"))
        .body(json!({ "metric": "api_calls", "quantity": 1, "idempotencyKey": idem }).to_string());
    app.send(req).await
}

fn flags(a: &Answer) -> (Value, Value) {
    assert_eq!(a.status, 200, "{:?}", a.body);
    (a.body["recorded"].clone(), a.body["duplicate"].clone())
}

async fn stored(app: &TestApp, tenant: &str, idem: &str) -> i64 {
    app.db
        .count(&format!(
            "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}' AND idempotency_key = '{idem}'"
        ))
        .await
}

/// Instance A records an event and dies before flushing it; instance B gets
/// the client's retry. It must record it (it was lost), and a later retry
/// anywhere must be a duplicate once it is stored.
async fn crash_before_flush_is_recorded_on_retry(app: TestApp, limiter: impl Fn() -> Limiter) {
    let (secret, tenant) = usage_key(&app, "durable@example.com").await;
    let doomed = app.peer(limiter()).await;
    assert_eq!(
        flags(&record(&doomed, &secret, "evt-1").await),
        (json!(true), json!(false))
    );
    // The same instance knows it: a duplicate while it lives.
    assert_eq!(
        flags(&record(&doomed, &secret, "evt-1").await),
        (json!(false), json!(true))
    );
    // Crash: the buffer is gone without a flush.
    drop(doomed);
    let survivor = app.peer(limiter()).await;
    assert_eq!(
        flags(&record(&survivor, &secret, "evt-1").await),
        (json!(true), json!(false)),
        "an event lost with its instance must be recorded on retry"
    );
    survivor
        .state
        .usage
        .flush(&survivor.state.db)
        .await
        .unwrap();
    assert_eq!(stored(&app, &tenant, "evt-1").await, 1);
    // Stored: the survivor says duplicate; so does another instance when they
    // share Redis. Without Redis a fresh instance records it again and the
    // database still keeps one.
    assert_eq!(
        flags(&record(&survivor, &secret, "evt-1").await),
        (json!(false), json!(true))
    );
    let fresh = app.peer(limiter()).await;
    let again = flags(&record(&fresh, &secret, "evt-1").await);
    if matches!(limiter(), Limiter::Redis(_)) {
        assert_eq!(again, (json!(false), json!(true)));
    } else {
        assert_eq!(again, (json!(true), json!(false)));
    }
    fresh.state.usage.flush(&fresh.state.db).await.unwrap();
    assert_eq!(stored(&app, &tenant, "evt-1").await, 1);
}

#[tokio::test]
async fn in_process_a_crash_before_the_flush_loses_nothing_a_retry_cannot_restore() {
    let app = TestApp::spawn().await;
    crash_before_flush_is_recorded_on_retry(app, Limiter::local).await;
}

#[tokio::test]
async fn with_redis_a_crash_before_the_flush_loses_nothing_a_retry_cannot_restore() {
    let redis = Redis::start(Redis::free_port());
    redis.ready().await;
    let app = redis_app(&redis).await;
    let url = redis.url();
    crash_before_flush_is_recorded_on_retry(app, || Limiter::redis(&url).unwrap()).await;
}

#[tokio::test]
async fn a_row_the_database_refuses_is_set_aside_and_the_others_are_written() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    let (secret, tenant) = usage_key(&app, "poison@example.com").await;
    // The database refuses one row for its data (as it would a NUL): the
    // whole batch fails, then each row is tried alone.
    let mut owner = app.db.owner().await;
    diesel::sql_query(
        "ALTER TABLE usage_batches ADD CONSTRAINT test_poison CHECK ('poison' <> ALL (idempotency_keys))",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    for idem in ["ok-1", "poison", "ok-2"] {
        assert_eq!(
            flags(&record(&app, &secret, idem).await),
            (json!(true), json!(false))
        );
    }
    let written = app.state.usage.flush(&app.state.db).await.unwrap();
    assert_eq!(written, 2);
    assert_eq!(app.state.usage.pending(), 0, "nothing is retried forever");
    assert_eq!(app.state.usage.rejected(), 1);
    assert_eq!(stored(&app, &tenant, "ok-1").await, 1);
    assert_eq!(stored(&app, &tenant, "ok-2").await, 1);
    assert_eq!(stored(&app, &tenant, "poison").await, 0);
    // The set-aside event's key is forgotten: once the cause is gone, a retry
    // is recorded, not answered as a duplicate.
    diesel::sql_query("ALTER TABLE usage_batches DROP CONSTRAINT test_poison")
        .execute(&mut owner)
        .await
        .unwrap();
    assert_eq!(
        flags(&record(&app, &secret, "poison").await),
        (json!(true), json!(false))
    );
    app.state.usage.flush(&app.state.db).await.unwrap();
    assert_eq!(stored(&app, &tenant, "poison").await, 1);
    // Later events of the tenant are written as usual.
    flags(&record(&app, &secret, "ok-3").await);
    assert_eq!(app.state.usage.flush(&app.state.db).await.unwrap(), 1);
}

/// A month whose partition is missing (detached by the owner here; a failed
/// upkeep in life) is a passing failure: the flush keeps the events it
/// answered `recorded` for and writes them once the partition is back.
#[tokio::test]
async fn a_missing_partition_keeps_buffered_usage_until_it_is_back() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::spawn().await;
    let (secret, tenant) = usage_key(&app, "partition@example.com").await;
    let now = chrono::Utc::now();
    let month = format!("usage_batches_{}", now.format("%Y_%m"));
    let mut owner = app.db.owner().await;
    owner
        .batch_execute(&format!(
            "ALTER TABLE usage_batches DETACH PARTITION {month}"
        ))
        .await
        .unwrap();
    assert_eq!(
        flags(&record(&app, &secret, "evt-p").await),
        (json!(true), json!(false))
    );
    let usage = &app.state.usage;
    let flushed = usage.flush(&app.state.db).await;
    assert!(
        flushed.is_err(),
        "the flush must report the failure: {flushed:?}"
    );
    assert_eq!(usage.pending(), 1, "the event stays buffered");
    assert_eq!(usage.rejected(), 0, "nothing set aside");
    let from = now.format("%Y-%m-01").to_string();
    owner
        .batch_execute(&format!(
            "ALTER TABLE usage_batches ATTACH PARTITION {month}
             FOR VALUES FROM ('{from} 00:00:00+00') TO (('{from}'::date + interval '1 month')::timestamptz AT TIME ZONE 'UTC')"
        ))
        .await
        .unwrap();
    usage.flush(&app.state.db).await.unwrap();
    assert_eq!(usage.pending(), 0);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'"
            ))
            .await,
        1
    );
}
