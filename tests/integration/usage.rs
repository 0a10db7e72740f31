//! Usage ingest (`recordUsage`, `POST /v1/usage`) and its storage: per-event
//! results of a mixed batch, retries that count nothing twice (also across
//! two instances), rollups equal to the raw events (property test),
//! partitions created ahead and dropped after the retention (a clock passed
//! in), test keys apart, tenants apart, and hostile input.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use diesel_async::RunQueryDsl;
use diesel_async::SimpleAsyncConnection;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};
use tenantgate::auth::api_keys::Environment;
use tenantgate::tenancy::Scope;
use tenantgate::usage::ingest::{self, EventInput, Recorder, Status};
use tenantgate::usage::limits::Limiter;
use tenantgate::usage::partitions;

use crate::keys::create_key;
use crate::support::{Answer, TestApp};

pub(crate) const RECORD: &str = "mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { recorded duplicates refused results { index status code field reason } } }";

/// A new tenant's owner token, tenant id and a live `usage:write` key.
pub(crate) async fn tenant_with_key(
    app: &TestApp,
    email: &str,
    env: &str,
) -> (String, String, String) {
    let (owner, _, tenant) = app.sign_up(email, "Metered").await;
    let (_, secret) = create_key(
        app,
        &owner,
        json!({ "scopes": ["USAGE_WRITE"], "environment": env }),
    )
    .await;
    (owner, tenant, secret)
}

pub(crate) fn event(metric: &str, quantity: i64, at: DateTime<Utc>, idem: &str) -> Value {
    json!({ "metric": metric, "quantity": quantity, "occurredAt": at.to_rfc3339(), "idempotencyKey": idem })
}

pub(crate) async fn post_usage(app: &TestApp, secret: &str, body: &str) -> Answer {
    let req = app
        .client
        .post(format!("{}/v1/usage", app.url))
        .header("content-type", "application/json")
        .header("x-api-key", secret)
        .body(body.to_owned());
    app.send(req).await
}

pub(crate) fn statuses(results: &Value) -> Vec<String> {
    results
        .as_array()
        .unwrap_or_else(|| panic!("no results: {results:?}"))
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.count(sql).await
}

#[tokio::test]
async fn a_mixed_batch_answers_per_event_and_records_the_good_ones() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "mixed@usage.test", "LIVE").await;
    let now = Utc::now();
    let events = json!([
        event("api_calls", 3, now, "a"),
        event("nope", 1, now, "b"),
        event("api_calls", 0, now, "c"),
        event("api_calls", 1, now - Duration::days(36), "d"),
        event("api_calls", 1, now + Duration::minutes(10), "e"),
        event("Bad Metric", 1, now, "f"),
        event("api_calls", 4, now - Duration::hours(2), "g"),
        event("api_calls", 3, now, "a"),
        event("api_calls", 1, now, &"x".repeat(201)),
    ]);
    let a = app.gql(RECORD, json!({ "e": events }), Some(&key)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let r = &a.body["data"]["recordUsage"];
    assert_eq!(
        statuses(&r["results"]),
        [
            "RECORDED",
            "REFUSED",
            "REFUSED",
            "REFUSED",
            "REFUSED",
            "REFUSED",
            "RECORDED",
            "DUPLICATE",
            "REFUSED"
        ]
    );
    let fields: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        fields,
        [
            "",
            "metric",
            "quantity",
            "occurredAt",
            "occurredAt",
            "metric",
            "",
            "",
            "idempotencyKey"
        ]
    );
    assert_eq!(r["results"][1]["code"], "BAD_USER_INPUT");
    assert!(r["results"][1]["reason"].as_str().unwrap().contains("nope"));
    assert_eq!(
        (r["recorded"].as_i64(), r["refused"].as_i64()),
        (Some(2), Some(6))
    );
    // Committed when the call answered: no flush needed.
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'")
        )
        .await,
        2
    );
    assert_eq!(
        count(&app, &format!("SELECT coalesce(sum(value), 0)::bigint AS n FROM usage_rollups WHERE tenant_id = '{tenant}' AND granularity = 'day' AND api_key_id = '00000000-0000-0000-0000-000000000000'")).await,
        7
    );

    // A signed-in member below admin may not record; the owner may (live, no key).
    let (owner, _, _) = (app.sign_up("other@usage.test", "Other").await.0, (), ());
    let a = app
        .gql(
            RECORD,
            json!({ "e": [event("api_calls", 1, now, "owner-1")] }),
            Some(&owner),
        )
        .await;
    assert_eq!(a.body["data"]["recordUsage"]["recorded"], 1, "{:?}", a.body);
}

#[tokio::test]
async fn a_retried_batch_counts_nothing_twice_across_instances() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "retry@usage.test", "LIVE").await;
    let peer = app.peer(Limiter::local()).await;
    let now = Utc::now();
    let batch: Vec<Value> = (0..200)
        .map(|i| {
            event(
                "api_calls",
                1 + i % 7,
                now - Duration::minutes(i),
                &format!("r-{i}"),
            )
        })
        .collect();
    let body = json!({ "events": batch }).to_string();
    // The same batch on two instances at once, then again on each.
    let (a, b) = tokio::join!(
        post_usage(&app, &key, &body),
        post_usage(&peer, &key, &body)
    );
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "{:?} {:?}",
        a.body,
        b.body
    );
    let recorded = a.body["recorded"].as_i64().unwrap() + b.body["recorded"].as_i64().unwrap();
    assert_eq!(recorded, 200);
    for again in [
        post_usage(&app, &key, &body).await,
        post_usage(&peer, &key, &body).await,
    ] {
        assert_eq!(again.body["duplicates"], 200, "{:?}", again.body);
    }
    let total: i64 = (0..200).map(|i| 1 + i % 7).sum();
    assert_eq!(
        count(&app, &format!("SELECT coalesce(sum(quantity), 0)::bigint AS n FROM usage_events WHERE tenant_id = '{tenant}'")).await,
        total
    );
    assert_eq!(
        count(&app, &format!("SELECT coalesce(sum(value), 0)::bigint AS n FROM usage_rollups WHERE tenant_id = '{tenant}' AND granularity = 'hour' AND api_key_id = '00000000-0000-0000-0000-000000000000'")).await,
        total
    );
    drop(peer);
}

/// One generated event: metric index, quantity, minutes ago, idempotency
/// key index (repeats are likely), property value index, writer (0-2).
type Gen = (usize, i64, i64, u8, u8, usize);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_equal_the_raw_events_for_random_batches() {
    let app = TestApp::spawn().await;
    let (_, tenant, _) = tenant_with_key(&app, "prop@usage.test", "LIVE").await;
    let tenant_id: uuid::Uuid = tenant.parse().unwrap();
    let mut owner = app.db.owner().await;
    diesel::sql_query(
        "INSERT INTO metrics (key, name, unit, aggregation, unique_property) VALUES
           ('storage.peak', 'Peak storage', 'GB', 'max', NULL),
           ('jobs', 'Jobs', 'jobs', 'count', NULL),
           ('seats', 'Active users', 'users', 'unique_count', 'user')",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    let metrics = ["api_calls", "storage.peak", "jobs", "seats"];
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(6);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let db = app.state.db.clone();
    let rt = tokio::runtime::Handle::current();
    let strategy = proptest::collection::vec(
        (
            0..4usize,
            1..1000i64,
            0..(3 * 24 * 60i64),
            0..60u8,
            0..5u8,
            0..3usize,
        ),
        1..120,
    );
    let round = std::sync::atomic::AtomicU32::new(0);
    let key_ids = [None, Some(uuid::Uuid::now_v7()), Some(uuid::Uuid::now_v7())];
    let result = tokio::task::block_in_place(|| {
        runner.run(&strategy, |batch: Vec<Gen>| {
            let round = round.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let now = Utc::now();
            // Keys below 30 always carry the same event (their repeats are
            // duplicates); the others carry random content (their repeats
            // reuse the key: refused with CONFLICT).
            let event = |&(m, q, ago, k, p, _): &Gen| {
                let (m, q, ago, p) = if k < 30 {
                    (
                        usize::from(k) % 4,
                        i64::from(k) + 1,
                        i64::from(k) * 7,
                        k % 5,
                    )
                } else {
                    (m, q, ago, p)
                };
                EventInput {
                    metric: metrics[m].to_owned(),
                    quantity: q,
                    occurred_at: now - Duration::minutes(ago),
                    idempotency_key: format!("{round}-{k}"),
                    properties: Some(json!({ "user": format!("u{p}") })),
                }
            };
            // Three writers at once, each with its own key (one with none),
            // sharing the keys' namespace.
            let writers = (0..3).map(|w| {
                let events: Vec<EventInput> =
                    batch.iter().filter(|g| g.5 == w).map(event).collect();
                let who = Recorder {
                    tenant_id,
                    environment: Environment::Live,
                    api_key_id: key_ids[w],
                };
                let db = db.clone();
                async move {
                    if events.is_empty() {
                        return Ok(Vec::new());
                    }
                    ingest::record(&db, None, who, events, now).await
                }
            });
            let answers = rt.block_on(futures_util::future::join_all(writers));
            for results in answers {
                let results = results.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                for r in &results {
                    if r.status == Status::Refused {
                        let code = r.refusal.as_ref().map(|x| x.code);
                        prop_assert_eq!(code, Some("CONFLICT"));
                    }
                }
            }
            Ok(())
        })
    });
    result.unwrap();
    // Every rollup of the tenant, and of each key, equals the aggregate of
    // its raw events.
    for granularity in ["hour", "day"] {
        let per_key = count(
            &app,
            &format!(
                "WITH raw AS (
                   SELECT e.metric, e.api_key_id,
                          date_trunc('{granularity}', e.occurred_at AT TIME ZONE 'UTC') AS bucket,
                          CASE m.aggregation WHEN 'sum' THEN sum(e.quantity)
                                             WHEN 'count' THEN count(*)
                                             WHEN 'max' THEN max(e.quantity)
                                             ELSE count(DISTINCT e.properties->>'user') END AS value,
                          count(*) AS events
                   FROM usage_events e JOIN metrics m ON m.key = e.metric
                   WHERE e.tenant_id = '{tenant}' AND e.api_key_id IS NOT NULL
                   GROUP BY e.metric, e.api_key_id, m.aggregation, 3),
                 rolled AS (
                   SELECT metric, api_key_id, bucket AT TIME ZONE 'UTC' AS bucket, value, events
                   FROM usage_rollups
                   WHERE tenant_id = '{tenant}' AND granularity = '{granularity}'
                     AND api_key_id <> '00000000-0000-0000-0000-000000000000')
                 SELECT count(*) AS n FROM raw FULL JOIN rolled USING (metric, api_key_id, bucket)
                 WHERE raw.value IS DISTINCT FROM rolled.value OR raw.events IS DISTINCT FROM rolled.events"
            ),
        )
        .await;
        assert_eq!(
            per_key, 0,
            "{granularity} rollups of keys differ from raw events"
        );
        let mismatches = count(
            &app,
            &format!(
                "WITH raw AS (
                   SELECT e.metric, date_trunc('{granularity}', e.occurred_at AT TIME ZONE 'UTC') AS bucket,
                          CASE m.aggregation WHEN 'sum' THEN sum(e.quantity)
                                             WHEN 'count' THEN count(*)
                                             WHEN 'max' THEN max(e.quantity)
                                             ELSE count(DISTINCT e.properties->>'user') END AS value,
                          count(*) AS events
                   FROM usage_events e JOIN metrics m ON m.key = e.metric
                   WHERE e.tenant_id = '{tenant}' GROUP BY e.metric, m.aggregation, 2),
                 rolled AS (
                   SELECT metric, bucket AT TIME ZONE 'UTC' AS bucket, value, events FROM usage_rollups
                   WHERE tenant_id = '{tenant}' AND granularity = '{granularity}'
                     AND api_key_id = '00000000-0000-0000-0000-000000000000')
                 SELECT count(*) AS n FROM raw FULL JOIN rolled USING (metric, bucket)
                 WHERE raw.value IS DISTINCT FROM rolled.value OR raw.events IS DISTINCT FROM rolled.events"
            ),
        )
        .await;
        assert_eq!(
            mismatches, 0,
            "{granularity} rollups differ from raw events"
        );
    }
    assert!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'")
        )
        .await
            > 0
    );
}

fn partition(at: DateTime<Utc>) -> String {
    format!("usage_batches_{:04}_{:02}", at.year(), at.month())
}

#[tokio::test]
async fn partitions_are_created_ahead_and_dropped_after_the_retention() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "parts@usage.test", "LIVE").await;
    let now = Utc::now();
    let db = &app.state.db;
    partitions::maintain(db, now).await.unwrap();
    let names = partitions::list(db).await.unwrap();
    for ahead in [now, now + Duration::days(31), now + Duration::days(59)] {
        assert!(names.contains(&partition(ahead)), "{ahead}: {names:?}");
    }
    app.db
        .count("WITH m AS (INSERT INTO metrics (key, name, unit, aggregation, unique_property) VALUES ('seats', 'Seats', 'users', 'unique_count', 'user') RETURNING 1) SELECT count(*) AS n FROM m")
        .await;
    let mut seat = event("seats", 1, now, "p-2");
    seat["properties"] = json!({ "user": "ann" });
    let a = app
        .gql(
            RECORD,
            json!({ "e": [event("api_calls", 2, now, "p-1"), seat] }),
            Some(&key),
        )
        .await;
    assert_eq!(a.body["data"]["recordUsage"]["recorded"], 2, "{:?}", a.body);
    let distinct = format!("SELECT count(*) AS n FROM usage_distinct WHERE tenant_id = '{tenant}'");
    assert_eq!(count(&app, &distinct).await, 4);

    // A month past the retention (made by the owner, as the server would have
    // 14 months ago) goes; this month and its events stay.
    let old = now - Duration::days(15 * 31);
    let old_start = Utc
        .with_ymd_and_hms(old.year(), old.month(), 1, 0, 0, 0)
        .unwrap();
    let old_end = old_start + Duration::days(40);
    let old_end = Utc
        .with_ymd_and_hms(old_end.year(), old_end.month(), 1, 0, 0, 0)
        .unwrap();
    let mut owner = app.db.owner().await;
    owner
        .batch_execute(&format!(
            "CREATE TABLE public.{} PARTITION OF public.usage_batches FOR VALUES FROM ('{}') TO ('{}');
             INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at, recorded_at)
             VALUES ('{tenant}', 'live', 'ancient', now() - interval '40 days', now() - interval '40 days');",
            partition(old),
            old_start.to_rfc3339(),
            old_end.to_rfc3339()
        ))
        .await
        .unwrap();
    let changes = partitions::maintain(db, now).await.unwrap();
    let dropped = changes.dropped;
    assert_eq!(dropped, vec![partition(old)], "{dropped:?}");
    let dedup = format!("SELECT count(*) AS n FROM usage_dedup WHERE tenant_id = '{tenant}'");
    assert_eq!(
        count(&app, &dedup).await,
        2,
        "the 40-day-old key is forgotten, today's kept"
    );

    // The runtime role runs the upkeep, but cannot ask it for more than the
    // retention: infinite cutoffs drop nothing and forget nothing of today.
    let asked = db
        .scoped(Scope::anonymous(), |conn| {
            async move {
                Ok(diesel::sql_query(
                    "SELECT tg_usage_partition_detach('infinity'), tg_usage_partition_drop('infinity'),
                            tg_usage_prune_keys('infinity', 10000),
                            tg_usage_prune_distinct('infinity', 10000)",
                )
                .execute(conn)
                .await?)
            }
            .scope_boxed()
        })
        .await;
    assert!(asked.is_ok(), "{asked:?}");
    let far = db
        .scoped(Scope::anonymous(), |conn| {
            async move {
                Ok(
                    diesel::sql_query("SELECT tg_usage_partition_add(now() + interval '30 years')")
                        .execute(conn)
                        .await?,
                )
            }
            .scope_boxed()
        })
        .await;
    assert!(far.is_err(), "thirty years of partitions were made");
    let names = partitions::list(db).await.unwrap();
    assert!(names.contains(&partition(now)), "{names:?}");
    assert_eq!(count(&app, &dedup).await, 2);
    assert_eq!(count(&app, &distinct).await, 4);
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'")
        )
        .await,
        2
    );
}

#[tokio::test]
async fn test_key_usage_is_kept_apart() {
    let app = TestApp::spawn().await;
    let (owner, tenant, live) = tenant_with_key(&app, "modes@usage.test", "LIVE").await;
    let (_, test) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["USAGE_WRITE"], "environment": "TEST" }),
    )
    .await;
    let now = Utc::now();
    // The same idempotency key in each mode: two different events.
    for (key, q) in [(&live, 2), (&test, 5)] {
        let body = json!({ "events": [event("api_calls", q, now, "same")] }).to_string();
        let a = post_usage(&app, key, &body).await;
        assert_eq!(a.body["recorded"], 1, "{:?}", a.body);
    }
    for (env, q) in [("live", 2), ("test", 5)] {
        assert_eq!(
            count(&app, &format!("SELECT coalesce(sum(value), 0)::bigint AS n FROM usage_rollups WHERE tenant_id = '{tenant}' AND environment = '{env}' AND granularity = 'day' AND api_key_id = '00000000-0000-0000-0000-000000000000'")).await,
            q
        );
    }
}

#[tokio::test]
async fn a_key_records_only_into_its_own_tenant() {
    let app = TestApp::spawn().await;
    let (_, a_tenant, a_key) = tenant_with_key(&app, "a@usage.test", "LIVE").await;
    let (b_owner, b_tenant, _) = tenant_with_key(&app, "b@usage.test", "LIVE").await;
    let now = Utc::now();
    // Naming B's tenant changes nothing: a key records for its own.
    let req = app
        .client
        .post(format!("{}/v1/usage", app.url))
        .header("content-type", "application/json")
        .header("x-api-key", &a_key)
        .header("x-tenant-id", &b_tenant)
        .body(json!({ "events": [event("api_calls", 1, now, "x")] }).to_string());
    let a = app.send(req).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let b_rows = format!(
        "SELECT (SELECT count(*) FROM usage_events WHERE tenant_id = '{b_tenant}')
              + (SELECT count(*) FROM usage_rollups WHERE tenant_id = '{b_tenant}')
              + (SELECT count(*) FROM usage_dedup WHERE tenant_id = '{b_tenant}') AS n"
    );
    assert_eq!(count(&app, &b_rows).await, 0);
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{a_tenant}'")
        )
        .await,
        1
    );
    // B's owner records into B only, and the same key "x" is B's own.
    let r = app
        .gql(
            RECORD,
            json!({ "e": [event("api_calls", 1, now, "x")] }),
            Some(&b_owner),
        )
        .await;
    assert_eq!(r.body["data"]["recordUsage"]["recorded"], 1, "{:?}", r.body);
    // Under B's tenant context (the runtime role) A's rows never show.
    let visible = app
        .state
        .db
        .scoped(
            tenantgate::tenancy::Scope::tenant(b_tenant.parse().unwrap()),
            |conn| {
                Box::pin(async move {
                    #[derive(diesel::QueryableByName)]
                    struct N {
                        #[diesel(sql_type = diesel::sql_types::BigInt)]
                        n: i64,
                    }
                    let n: N = diesel::sql_query(
                        "SELECT (SELECT count(*) FROM usage_events) + (SELECT count(*) FROM usage_rollups)
                              + (SELECT count(*) FROM usage_dedup) AS n",
                    )
                    .get_result(conn)
                    .await?;
                    Ok(n.n)
                })
            },
        )
        .await
        .unwrap();
    // B's own event: 1 raw row, 2 rollups (hour, day), 1 key.
    assert_eq!(visible, 4);
}

#[tokio::test]
async fn hostile_input_is_refused_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "hostile@usage.test", "LIVE").await;
    let now = Utc::now();
    let stored = format!(
        "SELECT (SELECT count(*) FROM usage_events WHERE tenant_id = '{tenant}')
              + (SELECT count(*) FROM usage_dedup WHERE tenant_id = '{tenant}') AS n"
    );
    // 1,001 events: the whole call, over both doors.
    let many: Vec<Value> = (0..1001)
        .map(|i| event("api_calls", 1, now, &format!("m{i}")))
        .collect();
    let a = post_usage(&app, &key, &json!({ "events": many }).to_string()).await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_str()),
        (400, Some("BAD_USER_INPUT")),
        "{:?}",
        a.body
    );
    let g = app.gql(RECORD, json!({ "e": many }), Some(&key)).await;
    assert_eq!(
        g.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{:?}",
        g.body
    );
    // NUL anywhere: the whole call.
    let nul = json!({ "events": [event("api_calls", 1, now, "a\u{0}b")] }).to_string();
    let a = post_usage(&app, &key, &nul).await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    // Very deep JSON: the whole call (the parser's limit).
    let deep = format!(
        "{{\"events\":[{{\"metric\":\"api_calls\",\"quantity\":1,\"occurredAt\":\"{}\",\"idempotencyKey\":\"d\",\"properties\":{}1{}}}]}}",
        now.to_rfc3339(),
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    let a = post_usage(&app, &key, &deep).await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    // Per event: a 10 KB value, 5 levels, a non-object.
    let mut big = event("api_calls", 1, now, "big");
    big["properties"] = json!({ "v": "x".repeat(10 * 1024) });
    let mut nested = event("api_calls", 1, now, "nested");
    nested["properties"] = json!({ "a": { "b": { "c": { "d": { "e": 1 } } } } });
    let mut list = event("api_calls", 1, now, "list");
    list["properties"] = json!([1, 2]);
    let a = post_usage(
        &app,
        &key,
        &json!({ "events": [big, nested, list] }).to_string(),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        statuses(&a.body["results"]),
        ["REFUSED", "REFUSED", "REFUSED"]
    );
    for r in a.body["results"].as_array().unwrap() {
        assert_eq!(
            (r["code"].as_str(), r["field"].as_str()),
            (Some("BAD_USER_INPUT"), Some("properties"))
        );
    }
    assert_eq!(count(&app, &stored).await, 0);
    // A key without usage:write may not record at all.
    let (owner, _, _) = (app.sign_up("reader@usage.test", "Reader").await.0, (), ());
    let (_, reader) = create_key(&app, &owner, json!({ "scopes": ["TENANT_READ"] })).await;
    let a = post_usage(
        &app,
        &reader,
        &json!({ "events": [event("api_calls", 1, now, "r")] }).to_string(),
    )
    .await;
    assert_eq!(a.status, 403, "{:?}", a.body);
}

#[tokio::test]
async fn a_full_batch_of_1000_is_recorded_over_graphql_in_a_few_statements() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "full@usage.test", "LIVE").await;
    let now = Utc::now();
    let batch: Vec<Value> = (0..1000)
        .map(|i| {
            event(
                "api_calls",
                1,
                now - Duration::seconds(i),
                &format!("f-{i}"),
            )
        })
        .collect();
    let before = app.state.db.statement_count();
    let a = app.gql(RECORD, json!({ "e": batch }), Some(&key)).await;
    let statements = app.state.db.statement_count() - before;
    assert_eq!(
        a.body["data"]["recordUsage"]["recorded"], 1000,
        "{:?}",
        a.body
    );
    assert_eq!(
        a.body["data"]["recordUsage"]["results"]
            .as_array()
            .map(Vec::len),
        Some(1000)
    );
    // The catalogue, keys (in a savepoint: two more), events, two rollup
    // upserts, and the transaction's own: not one per event. 11 measured;
    // the instance's background writers (key last-use times, the webhook
    // and export workers) may add theirs to this instance-wide count.
    assert!(statements <= 20, "{statements} statements for one batch");
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'")
        )
        .await,
        1000
    );
}

/// Raw events are a row per write in `usage_batches`, read one per event
/// through the `usage_events` view: in a tenant's context both show only
/// that tenant's, and no write may file a batch under another tenant.
#[tokio::test]
async fn raw_event_batches_and_their_view_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let (_, a, key_a) = tenant_with_key(&app, "batches-a@usage.test", "LIVE").await;
    let (_, b, key_b) = tenant_with_key(&app, "batches-b@usage.test", "LIVE").await;
    for (key, n) in [(&key_a, 3), (&key_b, 2)] {
        let events: Vec<Value> = (0..n)
            .map(|i| event("api_calls", 1, Utc::now(), &format!("batch-{i}")))
            .collect();
        let r = app.gql(RECORD, json!({ "e": events }), Some(key)).await;
        assert_eq!(r.body["data"]["recordUsage"]["recorded"], n, "{:?}", r.body);
    }
    #[derive(diesel::QueryableByName)]
    struct Seen {
        #[diesel(sql_type = diesel::sql_types::Text)]
        tenants: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        events: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        rows: i64,
    }
    let seen: Seen = app
        .state
        .db
        .scoped(Scope::tenant(a.parse().unwrap()), |conn| {
            async move {
                Ok(diesel::sql_query(
                    "SELECT (SELECT coalesce(string_agg(DISTINCT tenant_id::text, ','), '')
                             FROM usage_events) AS tenants,
                            (SELECT count(*) FROM usage_events) AS events,
                            (SELECT count(*) FROM usage_batches) AS rows",
                )
                .get_result(conn)
                .await?)
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(seen.tenants, a, "only A's events");
    assert_eq!((seen.events, seen.rows), (3, 1), "3 events in one row");
    let forged = app
        .state
        .db
        .scoped(Scope::tenant(a.parse().unwrap()), |conn| {
            let sql = format!(
                "INSERT INTO usage_batches (id, tenant_id, environment, month, events, metrics,
                                            quantities, api_key_ids, idempotency_keys,
                                            properties, occurred_at)
                 VALUES (gen_random_uuid(), '{b}', 'live',
                         date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 1,
                         '{{api_calls}}', '{{1}}', '{{NULL}}', '{{NULL}}', '{{NULL}}',
                         ARRAY[now()])"
            );
            async move { Ok(diesel::sql_query(sql).execute(conn).await?) }.scope_boxed()
        })
        .await;
    assert!(forged.is_err(), "A filed a batch under B: {forged:?}");
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{b}'")
        )
        .await,
        2
    );
}

/// The batch write's statements are prepared once per connection, not
/// parsed and planned on every call: after two calls on a one-connection
/// pool, the connection holds each of them prepared, once.
#[tokio::test]
async fn the_batch_write_is_prepared_once_per_connection() {
    use tenantgate::db::{Db, PoolOptions};
    let app = TestApp::spawn().await;
    let (_, tenant, _) = tenant_with_key(&app, "prepared@usage.test", "LIVE").await;
    let db = Db::connect(
        &app.db.app_url,
        &PoolOptions {
            max_size: 1,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let who = Recorder {
        tenant_id: tenant.parse().unwrap(),
        environment: Environment::Live,
        api_key_id: None,
    };
    for call in 0..2 {
        let events = (0..3)
            .map(|i| EventInput {
                metric: "api_calls".into(),
                quantity: 1,
                occurred_at: Utc::now(),
                idempotency_key: format!("prep-{call}-{i}"),
                properties: None,
            })
            .collect();
        let results = ingest::record(&db, None, who, events, Utc::now())
            .await
            .unwrap();
        assert!(results.iter().all(|r| r.status == Status::Recorded));
    }
    #[derive(diesel::QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement: String,
    }
    let held: Vec<Prepared> = db
        .scoped(Scope::tenant(tenant.parse().unwrap()), |conn| {
            async move {
                Ok(
                    diesel::sql_query("SELECT statement FROM pg_prepared_statements")
                        .load(conn)
                        .await?,
                )
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    for table in ["usage_batches", "usage_dedup", "usage_rollups"] {
        let n = held
            .iter()
            .filter(|p| p.statement.starts_with(&format!("INSERT INTO {table}")))
            .count();
        assert_eq!(
            n,
            1,
            "INSERT INTO {table} prepared once: {} held",
            held.len()
        );
    }
}

/// Idempotency keys are compared byte by byte (migration
/// 2026-12-13-100001: "C" collation, the key right after the tenant), and
/// the lookup of stored keys, whose parameters have the database's
/// collation, still probes the primary key rather than scanning the
/// tenant's keys. Keys equal under a locale's rules but not byte for byte
/// stay apart.
#[tokio::test]
async fn stored_keys_are_found_through_the_primary_key_byte_for_byte() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "bytewise@usage.test", "LIVE").await;
    let mut owner = app.db.owner().await;
    owner
        .batch_execute(&format!(
            "INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at)
             SELECT '{tenant}', 'live', 'k-' || i, now() FROM generate_series(1, 20000) AS i;
             ANALYZE usage_dedup;"
        ))
        .await
        .unwrap();
    let plan = crate::usage_reads::plan(
        &app,
        Scope::tenant(tenant.parse().unwrap()),
        tenantgate::db::usage::KEY_FINGERPRINTS,
        "uuid, text[], text[]",
        format!("'{tenant}', ARRAY['live', 'live'], ARRAY['k-7', 'k-19999']"),
    )
    .await;
    assert!(plan.contains("usage_dedup_pkey"), "{plan}");
    assert!(!plan.contains("Seq Scan on usage_dedup"), "{plan}");
    // "é" composed and decomposed, and two cases: four keys, four events.
    let now = Utc::now();
    let events: Vec<Value> = ["\u{e9}t\u{e9}", "e\u{301}te\u{301}", "Key", "key"]
        .iter()
        .map(|k| event("api_calls", 1, now, k))
        .collect();
    let body = json!({ "events": events }).to_string();
    let a = post_usage(&app, &key, &body).await;
    assert_eq!(a.body["recorded"], 4, "{:?}", a.body);
    let a = post_usage(&app, &key, &body).await;
    assert_eq!(a.body["duplicates"], 4, "{:?}", a.body);
}
