//! Usage ingest hardening: a malformed field refuses its own event only (on
//! both doors), a reused idempotency key with other content is refused, the
//! events of one request are capped across aliased fields, authorize knows
//! the catalogue, UNIQUE_COUNT values are digested, idempotency keys are
//! kept by when they were recorded, rollups saturate instead of failing,
//! and the partition upkeep never stalls ingest.

use chrono::{Duration, Utc};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};
use tenantgate::auth::api_keys::Environment;
use tenantgate::tenancy::Scope;
use tenantgate::usage::ingest::{self, EventInput, Recorder, Status};
use tenantgate::usage::limits::Limiter;
use tenantgate::usage::partitions;

use crate::keys::v1;
use crate::support::TestApp;
use crate::usage::{RECORD, event, post_usage, statuses, tenant_with_key};

fn fields(results: &Value) -> Vec<String> {
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_malformed_field_refuses_only_its_event_on_both_doors() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "malformed@usage.test", "LIVE").await;
    let now = Utc::now();
    let mut bad_quantity = event("api_calls", 1, now, "q");
    bad_quantity["quantity"] = json!("lots");
    let mut bad_time = event("api_calls", 1, now, "t");
    bad_time["occurredAt"] = json!("yesterday");
    let mut float = event("api_calls", 1, now, "f");
    float["quantity"] = json!(1.5);
    let batch = |p: &str| {
        let mut q = bad_quantity.clone();
        q["idempotencyKey"] = json!(format!("{p}q"));
        let mut t = bad_time.clone();
        t["idempotencyKey"] = json!(format!("{p}t"));
        let mut f = float.clone();
        f["idempotencyKey"] = json!(format!("{p}f"));
        json!([
            event("api_calls", 2, now, &format!("{p}a")),
            q,
            t,
            f,
            event("api_calls", 3, now, &format!("{p}b")),
        ])
    };
    let expected = ["RECORDED", "REFUSED", "REFUSED", "REFUSED", "RECORDED"];
    let expected_fields = ["", "quantity", "occurredAt", "quantity", ""];

    let g = app
        .gql(RECORD, json!({ "e": batch("g-") }), Some(&key))
        .await;
    assert!(g.body.get("errors").is_none(), "{:?}", g.body);
    let r = &g.body["data"]["recordUsage"]["results"];
    assert_eq!(statuses(r), expected);
    assert_eq!(fields(r), expected_fields);
    assert_eq!(r[1]["code"], "BAD_USER_INPUT");

    let mut http = batch("h-");
    // Over HTTP an event may be anything: a non-object or an unknown field
    // refuses that event only too.
    http.as_array_mut().unwrap().push(json!(7));
    let mut extra = event("api_calls", 1, now, "h-x");
    extra["colour"] = json!("red");
    http.as_array_mut().unwrap().push(extra);
    let a = post_usage(&app, &key, &json!({ "events": http }).to_string()).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let r = &a.body["results"];
    assert_eq!(
        statuses(r),
        [&expected[..], &["REFUSED", "REFUSED"]].concat()
    );
    assert_eq!(
        fields(r),
        [&expected_fields[..], &["event", "event"]].concat()
    );
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT coalesce(sum(quantity), 0)::bigint AS n FROM usage_events WHERE tenant_id = '{tenant}'"
            ))
            .await,
        10
    );
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.count(sql).await
}

#[tokio::test]
async fn a_key_reused_with_other_content_is_refused_and_a_retry_is_a_duplicate() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "reuse@usage.test", "LIVE").await;
    let now = Utc::now();
    let first = app
        .gql(
            RECORD,
            json!({ "e": [event("api_calls", 2, now, "k")] }),
            Some(&key),
        )
        .await;
    assert_eq!(
        first.body["data"]["recordUsage"]["recorded"], 1,
        "{:?}",
        first.body
    );
    // The same event again, then other content under the same key (also
    // inside one batch), over both doors.
    let events = json!([
        event("api_calls", 2, now, "k"),
        event("api_calls", 3, now, "k"),
        event("api_calls", 1, now, "n"),
        event("api_calls", 1, now, "n"),
        event("api_calls", 1, now - Duration::seconds(1), "n"),
    ]);
    let g = app.gql(RECORD, json!({ "e": events }), Some(&key)).await;
    let r = &g.body["data"]["recordUsage"]["results"];
    assert_eq!(
        statuses(r),
        ["DUPLICATE", "REFUSED", "RECORDED", "DUPLICATE", "REFUSED"]
    );
    assert_eq!(
        (r[1]["code"].as_str(), r[1]["field"].as_str()),
        (Some("CONFLICT"), Some("idempotencyKey"))
    );
    assert!(
        r[1]["reason"]
            .as_str()
            .unwrap()
            .contains("IDEMPOTENCY_KEY_REUSED")
    );
    let a = post_usage(
        &app,
        &key,
        &json!({ "events": [event("api_calls", 9, now, "k")] }).to_string(),
    )
    .await;
    assert_eq!(a.body["results"][0]["code"], "CONFLICT", "{:?}", a.body);
    // Absent properties and `{}` are the same event: a retry that adds
    // `properties: {}` (or drops them) is a duplicate, over both doors.
    let mut with_empty = event("api_calls", 2, now, "k");
    with_empty["properties"] = json!({});
    let g = app
        .gql(RECORD, json!({ "e": [with_empty.clone()] }), Some(&key))
        .await;
    assert_eq!(
        statuses(&g.body["data"]["recordUsage"]["results"]),
        ["DUPLICATE"],
        "{:?}",
        g.body
    );
    let a = post_usage(&app, &key, &json!({ "events": [with_empty] }).to_string()).await;
    assert_eq!(a.body["results"][0]["status"], "DUPLICATE", "{:?}", a.body);
    let mut empty_first = event("api_calls", 4, now, "e");
    empty_first["properties"] = json!({});
    let g = app
        .gql(RECORD, json!({ "e": [empty_first] }), Some(&key))
        .await;
    assert_eq!(g.body["data"]["recordUsage"]["recorded"], 1, "{:?}", g.body);
    let g = app
        .gql(
            RECORD,
            json!({ "e": [event("api_calls", 4, now, "e")] }),
            Some(&key),
        )
        .await;
    assert_eq!(
        statuses(&g.body["data"]["recordUsage"]["results"]),
        ["DUPLICATE"],
        "{:?}",
        g.body
    );
    assert_eq!(
        count(&app, &format!("SELECT coalesce(sum(quantity), 0)::bigint AS n FROM usage_events WHERE tenant_id = '{tenant}'")).await,
        7
    );
    // authorize shares the namespace with the same rule: a retry is a
    // duplicate, another quantity under the key is CONFLICT.
    let call = |q: i64| json!({ "metric": "api_calls", "quantity": q, "idempotencyKey": "z" });
    let a = v1(&app, &key, call(1)).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let a = v1(&app, &key, call(1)).await;
    assert_eq!(
        (a.status, &a.body["duplicate"]),
        (200, &json!(true)),
        "{:?}",
        a.body
    );
    let a = v1(&app, &key, call(2)).await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_str()),
        (409, Some("CONFLICT")),
        "{:?}",
        a.body
    );
}

#[tokio::test]
async fn aliased_record_usage_fields_share_one_cap_of_events() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "alias@usage.test", "LIVE").await;
    let now = Utc::now();
    let batch = |p: &str| -> Vec<Value> {
        (0..600)
            .map(|i| event("api_calls", 1, now, &format!("{p}{i}")))
            .collect()
    };
    // The refused field takes nothing from the cap: the third one's 300
    // still fit.
    let query =
        "mutation($a: [UsageEventInput!]!, $b: [UsageEventInput!]!, $c: [UsageEventInput!]!) {
        one: recordUsage(events: $a) { recorded }
        two: recordUsage(events: $b) { recorded }
        three: recordUsage(events: $c) { recorded } }";
    let mut c = batch("c");
    c.truncate(300);
    let g = app
        .gql(
            query,
            json!({ "a": batch("a"), "b": batch("b"), "c": c }),
            Some(&key),
        )
        .await;
    assert_eq!(g.body["data"]["one"]["recorded"], 600, "{:?}", g.body);
    assert_eq!(g.body["data"]["three"]["recorded"], 300, "{:?}", g.body);
    assert_eq!(
        g.body["errors"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        g.body
    );
    assert_eq!(
        g.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{:?}",
        g.body
    );
    assert!(
        g.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("1000 usage events a request")
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'")
        )
        .await,
        900
    );
}

#[tokio::test]
async fn authorize_refuses_a_metric_the_catalogue_does_not_have() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "unknown@usage.test", "LIVE").await;
    let a = v1(&app, &key, json!({ "metric": "nope", "quantity": 1 })).await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_str()),
        (400, Some("BAD_USER_INPUT")),
        "{:?}",
        a.body
    );
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nope"),
        "{:?}",
        a.body
    );
    let a = v1(&app, &key, json!({ "metric": "api_calls", "quantity": 1 })).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    app.state.usage.flush(&app.state.db).await.unwrap();
    assert_eq!(
        count(&app, &format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}' AND metric = 'nope'")).await,
        0
    );
}

/// Adds the UNIQUE_COUNT metric `seats` (distinct values of `user`).
async fn add_seats_metric(app: &TestApp) {
    app.db
        .count("WITH m AS (INSERT INTO metrics (key, name, unit, aggregation, unique_property) VALUES ('seats', 'Seats', 'users', 'unique_count', 'user') RETURNING 1) SELECT count(*) AS n FROM m")
        .await;
}

/// One `seats` event of `user`.
fn seat_event(at: chrono::DateTime<Utc>, idem: &str, user: &str) -> Value {
    let mut e = event("seats", 1, at, idem);
    e["properties"] = json!({ "user": user });
    e
}

#[tokio::test]
async fn unique_count_values_are_stored_as_digests_and_capped() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "digest@usage.test", "LIVE").await;
    add_seats_metric(&app).await;
    let now = Utc::now();
    let seat = |idem: &str, user: String| seat_event(now, idem, &user);
    let events = json!([
        seat("long", "u".repeat(1000)),
        seat("huge", "h".repeat(3000)),
        seat("short", "ann".into()),
        seat("again", "ann".into()),
    ]);
    let g = app.gql(RECORD, json!({ "e": events }), Some(&key)).await;
    assert!(g.body.get("errors").is_none(), "{:?}", g.body);
    let r = &g.body["data"]["recordUsage"]["results"];
    assert_eq!(statuses(r), ["RECORDED", "REFUSED", "RECORDED", "RECORDED"]);
    assert_eq!(
        (r[1]["code"].as_str(), r[1]["field"].as_str()),
        (Some("BAD_USER_INPUT"), Some("properties"))
    );
    // Two distinct users, each a 16-byte digest per bucket (hour, day; the
    // tenant's and the key's).
    assert_eq!(
        count(&app, &format!("SELECT count(*) AS n FROM usage_distinct WHERE tenant_id = '{tenant}' AND length(digest) = 16 AND value IS NULL")).await,
        8
    );
    assert_eq!(
        count(&app, &format!("SELECT coalesce(sum(value), 0)::bigint AS n FROM usage_rollups WHERE tenant_id = '{tenant}' AND metric = 'seats' AND granularity = 'day' AND api_key_id = '00000000-0000-0000-0000-000000000000'")).await,
        2
    );
}

/// A distinct value this instance saw committed is not sent again (it is
/// known stored), and one whose write rolled back is not taken as stored.
#[tokio::test]
async fn distinct_values_are_remembered_only_once_committed() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "known@usage.test", "LIVE").await;
    add_seats_metric(&app).await;
    let now = Utc::now();
    let seat = |idem: &str, user: &str| seat_event(now, idem, user);
    let record = |events: Value| {
        let app = &app;
        let key = &key;
        async move { app.gql(RECORD, json!({ "e": events }), Some(key)).await }
    };
    let hour = format!(
        "SELECT coalesce(sum(value), 0)::bigint AS n FROM usage_rollups WHERE tenant_id = '{tenant}' \
         AND metric = 'seats' AND granularity = 'hour' AND api_key_id = '00000000-0000-0000-0000-000000000000'"
    );
    let rows = format!("SELECT count(*) AS n FROM usage_distinct WHERE tenant_id = '{tenant}'");
    let g = record(json!([seat("s1", "ann")])).await;
    assert_eq!(g.body["data"]["recordUsage"]["recorded"], 1, "{:?}", g.body);
    assert_eq!((count(&app, &hour).await, count(&app, &rows).await), (1, 4));
    // The stored values taken away behind the server's back: "ann" again is
    // not sent (known), so it is neither stored again nor counted twice.
    crate::quotas::as_owner(
        &app,
        &format!(
            "BEGIN; SELECT set_config('app.usage_prune', 'on', true); \
             DELETE FROM usage_distinct WHERE tenant_id = '{tenant}'; COMMIT;"
        ),
    )
    .await;
    let g = record(json!([seat("s2", "ann")])).await;
    assert_eq!(g.body["data"]["recordUsage"]["recorded"], 1, "{:?}", g.body);
    assert_eq!((count(&app, &hour).await, count(&app, &rows).await), (1, 0));
    // A write of "zed" whose commit fails remembers nothing: the next one
    // stores and counts it.
    crate::quotas::refuse_usage_commits(&app).await;
    let g = record(json!([seat("s3", "zed")])).await;
    assert!(g.body.get("errors").is_some(), "{:?}", g.body);
    crate::quotas::as_owner(&app, "DROP TRIGGER refuse_commit ON usage_dedup").await;
    let g = record(json!([seat("s4", "zed")])).await;
    assert_eq!(g.body["data"]["recordUsage"]["recorded"], 1, "{:?}", g.body);
    assert_eq!((count(&app, &hour).await, count(&app, &rows).await), (2, 4));
}

#[tokio::test]
async fn keys_are_kept_by_when_they_were_recorded() {
    let app = TestApp::spawn().await;
    let (_, tenant, _) = tenant_with_key(&app, "kept@usage.test", "LIVE").await;
    let tenant_id: uuid::Uuid = tenant.parse().unwrap();
    let db = &app.state.db;
    let who = Recorder {
        tenant_id,
        environment: Environment::Live,
        api_key_id: None,
    };
    let now = Utc::now();
    let old = EventInput {
        metric: "api_calls".into(),
        quantity: 4,
        occurred_at: now - Duration::days(34),
        idempotency_key: "late".into(),
        properties: None,
    };
    let first = ingest::record(db, None, who, vec![old.clone()], now)
        .await
        .unwrap();
    assert_eq!(first[0].status, Status::Recorded);
    // Three days on (the test clock), the event is too old to record, but
    // a retry of it is still answered as what it is: a duplicate.
    let later = now + Duration::days(3);
    let retry = ingest::record(db, None, who, vec![old.clone()], later)
        .await
        .unwrap();
    assert_eq!(retry[0].status, Status::Duplicate, "{:?}", retry[0]);
    let mut other = old.clone();
    other.quantity = 5;
    let other = ingest::record(db, None, who, vec![other], later)
        .await
        .unwrap();
    assert_eq!(
        other[0].refusal.as_ref().map(|r| r.field),
        Some("occurredAt")
    );
    // Pruning goes by when a key was recorded: an old event's key recorded
    // two days ago stays; a key recorded 37 days ago goes.
    let mut owner = app.db.owner().await;
    owner
        .batch_execute(&format!(
            "INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at, recorded_at) VALUES
               ('{tenant}', 'live', 'recent', now() - interval '40 days', now() - interval '2 days'),
               ('{tenant}', 'live', 'stale', now() - interval '37 days', now() - interval '37 days')"
        ))
        .await
        .unwrap();
    partitions::maintain(db, now).await.unwrap();
    let keys = |k: &str| {
        format!(
            "SELECT count(*) AS n FROM usage_dedup WHERE tenant_id = '{tenant}' AND idempotency_key = '{k}'"
        )
    };
    assert_eq!(count(&app, &keys("recent")).await, 1);
    assert_eq!(count(&app, &keys("late")).await, 1);
    assert_eq!(count(&app, &keys("stale")).await, 0);
}

#[tokio::test]
async fn a_rollup_at_the_bigint_limit_saturates_instead_of_failing() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "big@usage.test", "LIVE").await;
    let now = Utc::now();
    let a = post_usage(
        &app,
        &key,
        &json!({ "events": [event("api_calls", 1, now, "b1")] }).to_string(),
    )
    .await;
    assert_eq!(a.body["recorded"], 1, "{:?}", a.body);
    let mut owner = app.db.owner().await;
    owner
        .batch_execute(&format!(
            "UPDATE usage_rollups SET value = 9223372036854775000 WHERE tenant_id = '{tenant}'"
        ))
        .await
        .unwrap();
    for i in 0..2 {
        let a = post_usage(
            &app,
            &key,
            &json!({ "events": [event("api_calls", 1_000_000_000, now, &format!("b2-{i}"))] })
                .to_string(),
        )
        .await;
        assert_eq!(
            (a.status, &a.body["recorded"]),
            (200, &json!(1)),
            "{:?}",
            a.body
        );
    }
    assert_eq!(
        count(
            &app,
            &format!("SELECT min(value) AS n FROM usage_rollups WHERE tenant_id = '{tenant}'")
        )
        .await,
        i64::MAX
    );
}

#[tokio::test]
async fn an_authorize_retried_after_the_memory_of_its_key_counts_once_in_the_quota() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "retry-quota@usage.test", "LIVE").await;
    app.db
        .count("WITH v AS (UPDATE plans SET monthly_quotas = '{\"api_calls\": 100}' WHERE key = 'free' RETURNING 1) SELECT count(*) AS n FROM v")
        .await;
    app.state.plans.invalidate();
    let tenant_id: uuid::Uuid = tenant.parse().unwrap();
    let call = json!({ "metric": "api_calls", "quantity": 5, "idempotencyKey": "once" });
    let a = v1(&app, &key, call.clone()).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    app.state.usage.flush(&app.state.db).await.unwrap();
    // Another instance never saw the key (as this one, a day later): it
    // takes the quantity again, then finds the key stored at the flush and
    // gives it back.
    let peer = app.peer(Limiter::local()).await;
    peer.state.plans.invalidate();
    let a = v1(&peer, &key, call).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let now = Utc::now();
    assert_eq!(
        peer.state
            .usage
            .quotas()
            .known_used(tenant_id, "api_calls", now)
            .await,
        Some(10)
    );
    peer.state.usage.flush(&peer.state.db).await.unwrap();
    let mut used = None;
    for _ in 0..50 {
        used = peer
            .state
            .usage
            .quotas()
            .known_used(tenant_id, "api_calls", now)
            .await;
        if used == Some(5) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(used, Some(5));
    assert_eq!(
        count(&app, &format!("SELECT coalesce(sum(quantity), 0)::bigint AS n FROM usage_events WHERE tenant_id = '{tenant}'")).await,
        5
    );
}

/// The month `months` after `at`'s, as a partition name and its bounds.
fn month_after(at: chrono::DateTime<Utc>, months: u32) -> (String, String, String) {
    use chrono::Datelike;
    let first = chrono::NaiveDate::from_ymd_opt(at.year(), at.month(), 1).unwrap();
    let start = first + chrono::Months::new(months);
    let end = start + chrono::Months::new(1);
    (
        format!("usage_batches_{}", start.format("%Y_%m")),
        start.to_string(),
        end.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partition_upkeep_never_stalls_ingest() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "upkeep@usage.test", "LIVE").await;
    let db = &app.state.db;
    let now = Utc::now();
    partitions::maintain(db, now).await.unwrap();
    // The last month ahead goes (it is empty) to be made again; a month past
    // the retention is there to be dropped; 25,000 keys recorded 40 days ago
    // wait to be forgotten.
    let (ahead, _, _) = month_after(now, 2);
    let (old, old_start, old_end) = month_after(now - Duration::days(16 * 31), 0);
    let mut owner = app.db.owner().await;
    owner
        .batch_execute(&format!(
            "DROP TABLE public.{ahead};
             CREATE TABLE public.{old} PARTITION OF public.usage_batches FOR VALUES FROM ('{old_start}') TO ('{old_end}');
             INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at, recorded_at)
             SELECT '{tenant}', 'live', 'old-' || i, now() - interval '40 days', now() - interval '40 days'
             FROM generate_series(1, 25000) AS i;"
        ))
        .await
        .unwrap();
    // An insert in flight: its transaction holds usage_batches.
    let mut inflight = app.db.owner().await;
    inflight
        .batch_execute(&format!(
            "BEGIN; INSERT INTO usage_batches (id, tenant_id, environment, month, events, metrics,
                                               quantities, api_key_ids, idempotency_keys,
                                               properties, occurred_at)
             VALUES (gen_random_uuid(), '{tenant}', 'live',
                     date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 1,
                     '{{api_calls}}', '{{1}}', '{{NULL}}', '{{NULL}}', '{{NULL}}', ARRAY[now()]);"
        ))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let (upkeep, ingest) = tokio::join!(partitions::maintain(db, now), async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let t = std::time::Instant::now();
        let a = post_usage(
            &app,
            &key,
            &json!({ "events": [event("api_calls", 1, Utc::now(), "during")] }).to_string(),
        )
        .await;
        (a, t.elapsed())
    });
    let upkeep = upkeep.unwrap();
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "upkeep took {took:?}"
    );
    // Made ahead while the insert was in flight (ATTACH does not wait on it);
    // the old month's DETACH gave way (lock_timeout) and waits for next run.
    assert!(upkeep.created.contains(&ahead), "{upkeep:?}");
    assert!(upkeep.dropped.is_empty(), "{upkeep:?}");
    assert!(upkeep.deferred.iter().any(|d| d == "detach"), "{upkeep:?}");
    assert!(upkeep.pruned >= 25_000, "{upkeep:?}");
    let (answer, waited) = ingest;
    assert_eq!(answer.body["recorded"], 1, "{:?}", answer.body);
    assert!(
        waited < std::time::Duration::from_secs(2),
        "ingest waited {waited:?}"
    );
    inflight.batch_execute("COMMIT").await.unwrap();
    // The next run finishes the job.
    let upkeep = partitions::maintain(db, now).await.unwrap();
    assert_eq!(upkeep.dropped, vec![old.clone()], "{upkeep:?}");
    assert!(upkeep.deferred.is_empty(), "{upkeep:?}");
    // One prune statement forgets at most 10,000 rows.
    owner
        .batch_execute(&format!(
            "INSERT INTO usage_dedup (tenant_id, environment, idempotency_key, occurred_at, recorded_at)
             SELECT '{tenant}', 'live', 'again-' || i, now() - interval '40 days', now() - interval '40 days'
             FROM generate_series(1, 12000) AS i;"
        ))
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let one = db
        .scoped(Scope::anonymous(), |conn| {
            async move {
                let n: N = diesel::sql_query("SELECT tg_usage_prune_keys(now(), 50000) AS n")
                    .get_result(conn)
                    .await?;
                Ok(n.n)
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(one, 10_000);
}

#[tokio::test]
async fn rolling_the_hardening_migration_back_and_forth_keeps_every_row() {
    let app = TestApp::spawn().await;
    let (_, tenant, key) = tenant_with_key(&app, "rollback@usage.test", "LIVE").await;
    add_seats_metric(&app).await;
    let seat = seat_event(Utc::now(), "s1", "ann");
    let g = app
        .gql(
            RECORD,
            json!({ "e": [seat, event("api_calls", 2, Utc::now(), "c1")] }),
            Some(&key),
        )
        .await;
    assert_eq!(g.body["data"]["recordUsage"]["recorded"], 2, "{:?}", g.body);
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows = format!(
        "SELECT (SELECT count(*) FROM usage_events WHERE tenant_id = '{tenant}')
              + (SELECT count(*) FROM usage_dedup WHERE tenant_id = '{tenant}')
              + (SELECT count(*) FROM usage_distinct WHERE tenant_id = '{tenant}')
              + (SELECT count(*) FROM usage_rollups WHERE tenant_id = '{tenant}') AS n"
    );
    let mut owner = app.db.owner().await;
    let before: N = diesel::sql_query(&rows)
        .get_result(&mut owner)
        .await
        .unwrap();
    owner.batch_execute("BEGIN").await.unwrap();
    // The later migrations that depend on this one's shapes first.
    owner
        .batch_execute(include_str!(
            "../../migrations/2026-12-13-100001_usage_hot_lookups/down.sql"
        ))
        .await
        .unwrap();
    owner
        .batch_execute(include_str!(
            "../../migrations/2026-12-12-100001_usage_batches/down.sql"
        ))
        .await
        .unwrap();
    owner
        .batch_execute(include_str!(
            "../../migrations/2026-12-06-500001_usage_ingest_speed/down.sql"
        ))
        .await
        .unwrap();
    owner
        .batch_execute(include_str!(
            "../../migrations/2026-12-06-400001_usage_hardening/down.sql"
        ))
        .await
        .unwrap();
    let down: N = diesel::sql_query(&rows)
        .get_result(&mut owner)
        .await
        .unwrap();
    assert_eq!(down.n, before.n);
    owner
        .batch_execute(include_str!(
            "../../migrations/2026-12-06-400001_usage_hardening/up.sql"
        ))
        .await
        .unwrap();
    owner
        .batch_execute(include_str!(
            "../../migrations/2026-12-06-500001_usage_ingest_speed/up.sql"
        ))
        .await
        .unwrap();
    owner
        .batch_execute(include_str!(
            "../../migrations/2026-12-12-100001_usage_batches/up.sql"
        ))
        .await
        .unwrap();
    owner
        .batch_execute(include_str!(
            "../../migrations/2026-12-13-100001_usage_hot_lookups/up.sql"
        ))
        .await
        .unwrap();
    let up: N = diesel::sql_query(&rows)
        .get_result(&mut owner)
        .await
        .unwrap();
    assert_eq!(up.n, before.n);
    owner.batch_execute("ROLLBACK").await.unwrap();
}
