//! Reading usage back (`Tenant.usage`, `ApiKey.usage`, `admin { usage
//! topConsumers stats }`): points and totals per aggregation, zero-filling,
//! groups per key, test usage apart, bounds, tenants apart, the admin path
//! for platform admins only, constant statements per page of keys, and the
//! query plans on the rollups' indexes.

use chrono::{DateTime, Duration, DurationRound, Utc};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};

use crate::keys::create_key;
use crate::matrix::call;
use crate::support::TestApp;
use crate::usage::RECORD;

const USAGE: &str = "query($m: String!, $f: DateTime!, $t: DateTime!, $g: UsageGranularity!, $b: UsageGroupBy = NONE, $e: ApiKeyEnvironment, $n: Int = 10) {
  tenant { usage(metric: $m, from: $f, to: $t, granularity: $g, groupBy: $b, environment: $e, first: $n) {
    metric granularity environment from to total totalExact points { at value }
    groups { apiKey { id name prefix } total points { at value } } } } }";

fn hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap()
}

fn day(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::days(1)).unwrap()
}

fn ev(metric: &str, quantity: i64, at: DateTime<Utc>, idem: &str, user: Option<&str>) -> Value {
    let mut e = json!({ "metric": metric, "quantity": quantity, "occurredAt": at.to_rfc3339(), "idempotencyKey": idem });
    if let Some(user) = user {
        e["properties"] = json!({ "user": user });
    }
    e
}

async fn record(app: &TestApp, token: &str, events: Vec<Value>) {
    let n = events.len();
    let a = app.gql(RECORD, json!({ "e": events }), Some(token)).await;
    assert_eq!(a.body["data"]["recordUsage"]["recorded"], n, "{:?}", a.body);
}

fn vars(metric: &str, from: DateTime<Utc>, to: DateTime<Utc>, g: &str) -> Value {
    json!({ "m": metric, "f": from.to_rfc3339(), "t": to.to_rfc3339(), "g": g })
}

async fn usage(app: &TestApp, token: &str, v: Value) -> Value {
    let a = app.gql(USAGE, v, Some(token)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    a.body["data"]["tenant"]["usage"].clone()
}

fn values(series: &Value) -> Vec<i64> {
    series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_i64().unwrap())
        .collect()
}

async fn add_metrics(app: &TestApp) {
    let mut owner = app.db.owner().await;
    diesel::sql_query(
        "INSERT INTO metrics (key, name, unit, aggregation, unique_property) VALUES
           ('storage.peak', 'Peak storage', 'GB', 'max', NULL),
           ('jobs', 'Jobs', 'jobs', 'count', NULL),
           ('seats', 'Active users', 'users', 'unique_count', 'user')
         ON CONFLICT DO NOTHING",
    )
    .execute(&mut owner)
    .await
    .unwrap();
}

#[tokio::test]
async fn points_and_totals_follow_each_aggregation_hourly_and_daily() {
    let app = TestApp::spawn().await;
    add_metrics(&app).await;
    let (owner, _, _) = app.sign_up("series@reads.test", "Series").await;
    let now = Utc::now();
    let base = hour(now) - Duration::hours(5);
    record(
        &app,
        &owner,
        vec![
            ev("api_calls", 3, base, "a1", None),
            ev("api_calls", 4, base + Duration::minutes(30), "a2", None),
            ev("api_calls", 5, base + Duration::hours(2), "a3", None),
            ev("jobs", 100, base, "j1", None),
            ev("jobs", 100, base, "j2", None),
            ev("jobs", 100, base + Duration::hours(1), "j3", None),
            ev("storage.peak", 10, base, "p1", None),
            ev("storage.peak", 30, base + Duration::hours(1), "p2", None),
            ev("storage.peak", 20, base + Duration::hours(1), "p3", None),
            ev("seats", 1, base, "s1", Some("u1")),
            ev("seats", 1, base, "s2", Some("u2")),
            ev("seats", 1, base + Duration::hours(1), "s3", Some("u1")),
        ],
    )
    .await;
    let to = base + Duration::hours(3);
    for (metric, points, total) in [
        ("api_calls", vec![7, 0, 5], 12),
        ("jobs", vec![2, 1, 0], 3),
        ("storage.peak", vec![10, 30, 0], 30),
        // u1 in both hours counts once over the range: 2, not 3.
        ("seats", vec![2, 1, 0], 2),
    ] {
        let s = usage(&app, &owner, vars(metric, base, to, "HOUR")).await;
        assert_eq!(values(&s), points, "{metric}: {s:?}");
        assert_eq!(s["total"], total, "{metric}");
        assert_eq!(s["totalExact"], true);
        assert_eq!(s["granularity"], "HOUR");
        assert_eq!(s["environment"], "LIVE");
        assert_eq!(s["groups"], json!([]));
        // Timestamps are the buckets' starts, UTC.
        assert_eq!(
            s["points"][0]["at"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap(),
            base
        );
    }
    // Daily: the same totals; each day's point is that day's aggregate.
    for (metric, total) in [
        ("api_calls", 12),
        ("jobs", 3),
        ("storage.peak", 30),
        ("seats", 2),
    ] {
        let s = usage(&app, &owner, vars(metric, base, now, "DAY")).await;
        assert_eq!(s["total"], total, "{metric}: {s:?}");
        let days = (day(now) - day(base)).num_days() + 1;
        assert_eq!(values(&s).len() as i64, days);
    }
    // Unaligned bounds: `from` rounds down, `to` up; zeros fill the range up
    // to the current hour and no further.
    let s = usage(
        &app,
        &owner,
        vars(
            "api_calls",
            base + Duration::minutes(59),
            now + Duration::hours(5),
            "HOUR",
        ),
    )
    .await;
    assert_eq!(
        s["from"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        base
    );
    assert_eq!(
        s["to"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(),
        hour(now) + Duration::hours(6)
    );
    assert_eq!(values(&s), [7, 0, 5, 0, 0, 0], "through the current hour");
    // A unique count reaching back past the kept distinct values says so.
    let s = usage(
        &app,
        &owner,
        vars("seats", now - Duration::days(60), now, "DAY"),
    )
    .await;
    assert_eq!(
        (s["total"].as_i64(), s["totalExact"].as_bool()),
        (Some(2), Some(false))
    );
}

#[tokio::test]
async fn usage_splits_by_key_and_test_usage_stays_apart() {
    let app = TestApp::spawn().await;
    add_metrics(&app).await;
    let (owner, _, _) = app.sign_up("keys@reads.test", "Keyed").await;
    let live =
        |name: &str| json!({ "name": name, "scopes": ["USAGE_WRITE"], "environment": "LIVE" });
    let (a_id, a) = create_key(&app, &owner, live("alpha")).await;
    let (b_id, b) = create_key(&app, &owner, live("beta")).await;
    let (t_id, t) = create_key(
        &app,
        &owner,
        json!({ "name": "tester", "scopes": ["USAGE_WRITE", "USAGE_READ", "TENANT_READ", "KEYS_READ"], "environment": "TEST" }),
    )
    .await;
    let now = Utc::now();
    let at = hour(now) - Duration::hours(1);
    record(&app, &a, vec![ev("api_calls", 5, at, "k1", None)]).await;
    record(&app, &b, vec![ev("api_calls", 2, at, "k2", None)]).await;
    record(&app, &owner, vec![ev("api_calls", 3, at, "k3", None)]).await;
    record(&app, &t, vec![ev("api_calls", 9, at, "k4", None)]).await;
    let range = || vars("api_calls", at, now, "HOUR");

    let mut v = range();
    v["b"] = json!("KEY");
    let s = usage(&app, &owner, v.clone()).await;
    assert_eq!(s["total"], 10, "live only: {s:?}");
    let groups = s["groups"].as_array().unwrap();
    let shown: Vec<(Value, Value)> = groups
        .iter()
        .map(|g| (g["apiKey"]["name"].clone(), g["total"].clone()))
        .collect();
    assert_eq!(
        shown,
        [
            (json!("alpha"), json!(5)),
            (json!("beta"), json!(2)),
            (Value::Null, json!(3))
        ]
    );
    assert_eq!(groups[0]["apiKey"]["id"], a_id);
    assert!(
        groups[0]["apiKey"]["prefix"]
            .as_str()
            .unwrap()
            .starts_with("tg_live_")
    );
    assert_eq!(values(&groups[0]), [5, 0]);
    // The top key only: members' own is still everything no key sent.
    v["n"] = json!(1);
    let s = usage(&app, &owner, v).await;
    let shown: Vec<Value> = s["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["total"].clone())
        .collect();
    assert_eq!(shown, [json!(5), json!(3)]);

    // A unique count per key counts each key's distinct values over the range;
    // the tenant's counts each value once, whoever sent it (no members' group:
    // it cannot be derived from distinct counts).
    record(
        &app,
        &a,
        vec![
            ev("seats", 1, at, "u-a1", Some("u1")),
            ev("seats", 1, at, "u-a2", Some("u2")),
        ],
    )
    .await;
    record(
        &app,
        &b,
        vec![
            ev("seats", 1, at, "u-b2", Some("u2")),
            ev("seats", 1, at + Duration::minutes(1), "u-b3", Some("u3")),
        ],
    )
    .await;
    let mut v = vars("seats", at, now, "HOUR");
    v["b"] = json!("KEY");
    let s = usage(&app, &owner, v).await;
    assert_eq!(s["total"], 3, "{s:?}");
    let shown: Vec<Value> = s["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["total"].clone())
        .collect();
    assert_eq!(shown, [json!(2), json!(2)], "{s:?}");

    // Test usage: apart, on request.
    let mut v = range();
    v["e"] = json!("TEST");
    assert_eq!(usage(&app, &owner, v).await["total"], 9);
    // A test key reads its own environment by default, and only that.
    let s = usage(&app, &t, range()).await;
    assert_eq!(
        (s["total"].as_i64(), s["environment"].as_str()),
        (Some(9), Some("TEST"))
    );
    let mut v = range();
    v["e"] = json!("LIVE");
    let a2 = app.gql(USAGE, v, Some(&t)).await;
    assert_eq!(a2.code(), "FORBIDDEN", "{:?}", a2.body);

    // Per key, in each key's own environment.
    let q = "query($f: DateTime!, $t: DateTime!) { tenant { apiKeys(first: 10) { nodes { id usage(metric: \"api_calls\", from: $f, to: $t, granularity: HOUR) { total environment points { value } } } } } }";
    let r = app
        .gql(
            q,
            json!({ "f": at.to_rfc3339(), "t": now.to_rfc3339() }),
            Some(&owner),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{:?}", r.body);
    let totals: std::collections::HashMap<String, (i64, String)> =
        r.body["data"]["tenant"]["apiKeys"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["id"].as_str().unwrap().to_owned(),
                    (
                        n["usage"]["total"].as_i64().unwrap(),
                        n["usage"]["environment"].as_str().unwrap().to_owned(),
                    ),
                )
            })
            .collect();
    assert_eq!(totals[&a_id], (5, "LIVE".to_owned()));
    assert_eq!(totals[&b_id], (2, "LIVE".to_owned()));
    assert_eq!(totals[&t_id], (9, "TEST".to_owned()));

    // A test key (usage:read, keys:read) lists live keys but does not read
    // their usage, as `Tenant.usage` refuses it another environment's.
    let q = "query($f: DateTime!, $t: DateTime!, $e: ApiKeyEnvironment!) { tenant { apiKeys(first: 10, filter: {environment: $e}) { nodes { id usage(metric: \"api_calls\", from: $f, to: $t, granularity: HOUR) { total environment } } } } }";
    let on = |e: &str| json!({ "f": at.to_rfc3339(), "t": now.to_rfc3339(), "e": e });
    let r = app.gql(q, on("LIVE"), Some(&t)).await;
    assert_eq!(r.code(), "FORBIDDEN", "{:?}", r.body);
    assert!(
        !r.body.to_string().contains("\"total\":5"),
        "no live total reaches a test key: {:?}",
        r.body
    );
    let r = app.gql(q, on("TEST"), Some(&t)).await;
    assert!(r.body.get("errors").is_none(), "{:?}", r.body);
    assert_eq!(
        r.body["data"]["tenant"]["apiKeys"]["nodes"][0]["usage"]["total"], 9,
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn bad_ranges_are_refused_with_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("bounds@reads.test", "Bounds").await;
    let now = Utc::now();
    record(&app, &owner, vec![ev("api_calls", 4, now, "x", None)]).await;
    let state = format!(
        "SELECT ((SELECT coalesce(sum(value), 0) FROM usage_rollups WHERE tenant_id = '{tenant}')
              + (SELECT count(*) FROM usage_events WHERE tenant_id = '{tenant}'))::bigint AS n"
    );
    let before = app.db.count(&state).await;
    let d = Duration::days;
    let cases: Vec<(Value, &str)> = vec![
        (vars("api_calls", now, now - d(1), "DAY"), "to"),
        (vars("api_calls", now, now, "HOUR"), "to"),
        (vars("api_calls", now - d(36), now, "HOUR"), "from"),
        (vars("api_calls", now - d(401), now, "DAY"), "from"),
        (vars("api_calls", now, now + d(40), "DAY"), "to"),
        (vars("api_calls", now - d(1), now + d(3650), "DAY"), "to"),
        (
            json!({ "m": "api_calls", "f": "1900-01-01T00:00:00Z", "t": "1900-01-02T00:00:00Z", "g": "DAY" }),
            "from",
        ),
        (vars("no_such_metric", now - d(1), now, "DAY"), "metric"),
        (vars("Bad Metric!", now - d(1), now, "DAY"), "metric"),
        (
            {
                let mut v = vars("api_calls", now - d(1), now, "DAY");
                v["b"] = json!("KEY");
                v["n"] = json!(0);
                v
            },
            "first",
        ),
    ];
    for (v, field) in cases {
        let a = app.gql(USAGE, v.clone(), Some(&owner)).await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{v}: {:?}", a.body);
        assert_eq!(
            a.body["errors"][0]["extensions"]["field"], field,
            "{v}: {:?}",
            a.body
        );
    }
    // Too many groups (a cheap selection, so the complexity budget lets it run).
    let a = app
        .gql(
            "query($f: DateTime!, $t: DateTime!) { tenant { usage(metric: \"api_calls\", from: $f, to: $t, granularity: DAY, groupBy: KEY, first: 101) { total } } }",
            json!({ "f": (now - d(1)).to_rfc3339(), "t": now.to_rfc3339() }),
            Some(&owner),
        )
        .await;
    assert_eq!(
        a.body["errors"][0]["extensions"]["field"], "first",
        "{:?}",
        a.body
    );
    // A selection of 100 groups of full series (30 daily points each) is
    // over the complexity budget.
    let mut v = vars("api_calls", now - d(30), now, "DAY");
    v["b"] = json!("KEY");
    v["n"] = json!(100);
    let a = app.gql(USAGE, v, Some(&owner)).await;
    assert_eq!(a.code(), "BAD_USER_INPUT", "{:?}", a.body);
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex")
    );
    // Points are charged per bucket of the range: one series of 35 days of
    // hours fits the budget, twenty keys' (16,800 points) do not, twenty
    // keys' of one day do.
    let hours = |n: i64| json!({ "f": (hour(now) - Duration::hours(n - 1)).to_rfc3339(), "t": now.to_rfc3339() });
    let one = "query($f: DateTime!, $t: DateTime!) { tenant { usage(metric: \"api_calls\", from: $f, to: $t, granularity: HOUR) { total points { at value } } } }";
    let a = app.gql(one, hours(840), Some(&owner)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let many = "query($f: DateTime!, $t: DateTime!) { tenant { apiKeys(first: 20) { nodes { usage(metric: \"api_calls\", from: $f, to: $t, granularity: HOUR) { points { at value } } } } } }";
    let a = app.gql(many, hours(840), Some(&owner)).await;
    assert_eq!(a.code(), "BAD_USER_INPUT", "{:?}", a.body);
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{:?}",
        a.body
    );
    let a = app.gql(many, hours(24), Some(&owner)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    // Not a time at all: refused by the schema, with a code.
    let a = app
        .gql(
            USAGE,
            json!({ "m": "api_calls", "f": "yesterday", "t": now.to_rfc3339(), "g": "DAY" }),
            Some(&owner),
        )
        .await;
    assert!(!a.code().is_empty(), "{:?}", a.body);
    assert_eq!(app.db.count(&state).await, before);
}

#[tokio::test]
async fn another_tenants_usage_is_never_visible() {
    let app = TestApp::spawn().await;
    let (a_owner, _, a_tenant) = app.sign_up("a@reads.test", "A").await;
    let (b_owner, _, b_tenant) = app.sign_up("b@reads.test", "B").await;
    let (_, b_key) = create_key(
        &app,
        &b_owner,
        json!({ "scopes": ["USAGE_WRITE", "USAGE_READ", "TENANT_READ", "KEYS_READ"] }),
    )
    .await;
    let now = Utc::now();
    record(&app, &b_key, vec![ev("api_calls", 50, now, "b1", None)]).await;
    record(&app, &a_owner, vec![ev("api_calls", 1, now, "a1", None)]).await;
    let mut v = vars("api_calls", now - Duration::days(1), now, "HOUR");
    v["b"] = json!("KEY");
    // A's owner sees A's usage only, split or not.
    let s = usage(&app, &a_owner, v.clone()).await;
    assert_eq!(s["total"], 1, "{s:?}");
    assert_eq!(
        s["groups"].as_array().unwrap().len(),
        1,
        "members' own only"
    );
    // Naming B's tenant as A's owner: refused.
    let a = call(&app, Some(&a_owner), Some(&b_tenant), USAGE, v.clone()).await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    // B's key naming A's tenant: refused (a key acts in its own tenant only).
    let a = call(&app, Some(&b_key), Some(&a_tenant), USAGE, v.clone()).await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    assert!(a.body["data"].is_null(), "{:?}", a.body);
    // A key without usage:read gets nothing.
    let (_, no_read) = create_key(
        &app,
        &b_owner,
        json!({ "scopes": ["TENANT_READ", "KEYS_READ"] }),
    )
    .await;
    let a = app.gql(USAGE, v.clone(), Some(&no_read)).await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    let q = "query($f: DateTime!, $t: DateTime!) { tenant { apiKeys { nodes { usage(metric: \"api_calls\", from: $f, to: $t, granularity: DAY) { total } } } } }";
    let a = app
        .gql(
            q,
            json!({ "f": (now - Duration::days(1)).to_rfc3339(), "t": now.to_rfc3339() }),
            Some(&no_read),
        )
        .await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    // B's own key (with keys:read) splits B's usage by key: B's keys only.
    let a = app.gql(USAGE, v, Some(&b_key)).await;
    assert_eq!(
        a.body["data"]["tenant"]["usage"]["groups"][0]["total"], 50,
        "{:?}",
        a.body
    );
}

const ADMIN: &str = "query($f: DateTime!, $t: DateTime!) { admin {
  usage(metric: \"api_calls\", from: $f, to: $t, granularity: HOUR) { total points { value } }
  topConsumers(metric: \"api_calls\", from: $f, to: $t, first: 2) { tenant { id name slug } total }
  stats { apiCallsToday eventsToday } } }";

#[tokio::test]
async fn platform_admins_read_usage_across_tenants_and_no_one_else_does() {
    let app = TestApp::spawn().await;
    add_metrics(&app).await;
    let (staff, _, _) = app.sign_up("staff@reads.test", "Staff").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@reads.test", true)
        .await
        .unwrap();
    let now = Utc::now();
    let mut tenants = Vec::new();
    for (i, q) in [(1, 7), (2, 3), (3, 11)] {
        let (owner, _, tenant) = app
            .sign_up(&format!("t{i}@reads.test"), &format!("T{i}"))
            .await;
        record(
            &app,
            &owner,
            vec![
                ev("api_calls", q, now, "x", None),
                ev("jobs", 1, now, "y", None),
            ],
        )
        .await;
        tenants.push((owner, tenant));
    }
    // Test usage counts nowhere here.
    let (_, test) = create_key(
        &app,
        &tenants[0].0,
        json!({ "scopes": ["USAGE_WRITE"], "environment": "TEST" }),
    )
    .await;
    record(&app, &test, vec![ev("api_calls", 1000, now, "t", None)]).await;
    let v = json!({ "f": (now - Duration::hours(2)).to_rfc3339(), "t": now.to_rfc3339() });
    let a = app.gql(ADMIN, v.clone(), Some(&staff)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let admin = &a.body["data"]["admin"];
    assert_eq!(admin["usage"]["total"], 21);
    let top: Vec<(Value, Value)> = admin["topConsumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["tenant"]["id"].clone(), c["total"].clone()))
        .collect();
    assert_eq!(
        top,
        [
            (json!(tenants[2].1), json!(11)),
            (json!(tenants[0].1), json!(7))
        ]
    );
    assert!(admin["stats"]["apiCallsToday"].as_i64().unwrap() >= 21);
    assert!(admin["stats"]["eventsToday"].as_i64().unwrap() >= 6);
    // Each listed tenant has the read in its own trail; the series is in the platform's.
    for (tenant, n) in [(&tenants[2].1, 1), (&tenants[0].1, 1), (&tenants[1].1, 0)] {
        assert_eq!(
            app.db
                .count(&format!(
                    "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' AND action = 'admin.usage.top_consumers'"
                ))
                .await,
            n
        );
    }
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM audit_log WHERE tenant_id IS NULL AND action = 'admin.usage.read'")
            .await,
        1
    );
    // Tenants' owners, their keys and anonymous callers get nothing.
    let (_, key) = create_key(
        &app,
        &tenants[0].0,
        json!({ "scopes": ["USAGE_READ", "TENANT_READ"] }),
    )
    .await;
    for token in [Some(tenants[0].0.as_str()), Some(key.as_str()), None] {
        let a = app.gql(ADMIN, v.clone(), token).await;
        assert!(
            matches!(a.code(), "FORBIDDEN" | "UNAUTHENTICATED"),
            "{:?}",
            a.body
        );
        assert!(
            a.body["data"].is_null() || a.body["data"]["admin"].is_null(),
            "{:?}",
            a.body
        );
    }
    // A platform admin reading one tenant's usage leaves an entry in its trail.
    let q = "query($id: ID!, $f: DateTime!, $t: DateTime!) { admin { tenant(id: $id) { usage(metric: \"api_calls\", from: $f, to: $t, granularity: DAY) { total } } } }";
    let mut v2 = v.clone();
    v2["id"] = json!(tenants[1].1);
    let a = app.gql(q, v2, Some(&staff)).await;
    assert_eq!(
        a.body["data"]["admin"]["tenant"]["usage"]["total"], 3,
        "{:?}",
        a.body
    );
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{}' AND action = 'admin.tenant.usage.read'",
                tenants[1].1
            ))
            .await,
        1
    );
}

/// Statements a page of keys with their usage costs, whatever its size: the
/// dashboard's transaction (BEGIN with settings, the session check, the
/// page, COMMIT) plus one for every key's usage.
pub const KEY_USAGE_PAGE_STATEMENTS: u64 = 5;

#[tokio::test]
async fn a_page_of_keys_reads_their_usage_in_one_statement() {
    let app = TestApp::spawn().await;
    let (token, _, tenant) = app.sign_up("page@reads.test", "Paged").await;
    let mut owner = app.db.owner().await;
    let now = Utc::now();
    let hour0 = hour(now);
    for sql in [
        format!(
            "INSERT INTO api_keys (id, tenant_id, name, environment, display_prefix, secret_hash, scopes) \
             SELECT gen_random_uuid(), '{tenant}', 'k' || g, 'live', 'tg_live_b' || g, \
             sha256(('bulk' || g)::bytea), '{{usage:write}}' FROM generate_series(1, 60) g"
        ),
        format!(
            "INSERT INTO usage_rollups (tenant_id, environment, metric, granularity, api_key_id, bucket, value, events) \
             SELECT '{tenant}', 'live', 'api_calls', 'hour', id, '{hour0}'::timestamptz - h * interval '1 hour', 2, 1 \
             FROM api_keys, generate_series(0, 23) h WHERE tenant_id = '{tenant}'"
        ),
    ] {
        diesel::sql_query(sql).execute(&mut owner).await.unwrap();
    }
    let from = (hour0 - Duration::hours(23)).to_rfc3339();
    let to = now.to_rfc3339();
    let page = |first: usize| {
        format!(
            "{{ tenant {{ apiKeys(first: {first}) {{ nodes {{ id name usage(metric: \"api_calls\", from: \"{from}\", to: \"{to}\", granularity: HOUR) {{ total }} }} }} }} }}"
        )
    };
    // Warm the metric catalogue (it reads the database until its
    // announcements are live).
    for _ in 0..100 {
        if app.state.usage.metrics().is_live() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.gql(&page(1), json!({}), Some(&token)).await;
    let mut counts = Vec::new();
    for first in [1, 10, 50] {
        let before = app.state.db.statement_count();
        let a = app.gql(&page(first), json!({}), Some(&token)).await;
        counts.push(app.state.db.statement_count() - before);
        assert!(a.body.get("errors").is_none(), "{:?}", a.body);
        let nodes = a.body["data"]["tenant"]["apiKeys"]["nodes"]
            .as_array()
            .unwrap();
        assert_eq!(nodes.len(), first);
        for n in nodes {
            assert_eq!(n["usage"]["total"], 48, "{n:?}");
        }
    }
    assert_eq!(
        counts,
        vec![KEY_USAGE_PAGE_STATEMENTS; 3],
        "statements per page size 1, 10, 50"
    );
}

#[derive(diesel::QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

/// The plan of `statement` (with parameter `types`) run with `args`, under
/// `scope` (the runtime role, row-level security on): the statement the
/// server sends, prepared, then `EXPLAIN EXECUTE`d with real values.
pub(crate) async fn plan(
    app: &TestApp,
    scope: tenantgate::tenancy::Scope,
    statement: &'static str,
    types: &'static str,
    args: String,
) -> String {
    app.state
        .db
        .scoped(scope, |conn| {
            Box::pin(async move {
                conn.batch_execute(&format!("PREPARE q ({types}) AS {statement}"))
                    .await?;
                let lines: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN EXECUTE q ({args})"))
                    .load(conn)
                    .await?;
                conn.batch_execute("DEALLOCATE q").await?;
                Ok(lines
                    .into_iter()
                    .map(|l| l.line)
                    .collect::<Vec<_>>()
                    .join("\n"))
            })
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn reads_use_the_rollup_indexes_on_a_large_table() {
    use tenantgate::db::usage_reads as sql;
    use tenantgate::tenancy::Scope;
    let app = TestApp::spawn().await;
    let (_, staff_id, tenant) = app.sign_up("plans@reads.test", "Planned").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "plans@reads.test", true)
        .await
        .unwrap();
    let mut owner = app.db.owner().await;
    // 200 tenants × 3 metrics × a year of days and a month of hours (~650k
    // rows), and 40 keys of the tenant with a month of hours each.
    for sql in [
        "INSERT INTO tenants (id, name, slug) SELECT gen_random_uuid(), 'P' || g, 'p-' || g FROM generate_series(1, 200) g".to_owned(),
        format!(
            "INSERT INTO api_keys (id, tenant_id, name, environment, display_prefix, secret_hash, scopes) \
             SELECT gen_random_uuid(), '{tenant}', 'k' || g, 'live', 'tg_live_p' || g, \
             sha256(('plan' || g)::bytea), '{{usage:write}}' FROM generate_series(1, 40) g"
        ),
        "INSERT INTO usage_rollups (tenant_id, environment, metric, granularity, api_key_id, bucket, value, events)
         SELECT t.id, 'live', m, g.granularity, '00000000-0000-0000-0000-000000000000',
                date_trunc(g.granularity, now()) - s * g.width, 1, 1
         FROM tenants t, unnest(ARRAY['api_calls', 'jobs', 'seats']) m,
              (VALUES ('day', interval '1 day', 365), ('hour', interval '1 hour', 720)) g (granularity, width, n),
              LATERAL generate_series(0, g.n - 1) s".to_owned(),
        "INSERT INTO usage_rollups (tenant_id, environment, metric, granularity, api_key_id, bucket, value, events)
         SELECT k.tenant_id, 'live', 'api_calls', 'hour', k.id, date_trunc('hour', now()) - s * interval '1 hour', 1, 1
         FROM api_keys k, generate_series(0, 719) s".to_owned(),
        "ANALYZE usage_rollups; ANALYZE api_keys; ANALYZE tenants".to_owned(),
    ] {
        owner.batch_execute(&sql).await.unwrap();
    }
    let range = "now() - interval '30 days', now()";
    let tenant_scope = || Scope::tenant(tenant.parse().unwrap());
    let series = plan(
        &app,
        tenant_scope(),
        sql::SERIES_SQL,
        "uuid, text[], text, text, uuid[], timestamptz, timestamptz, bool, text",
        format!(
            "'{tenant}', '{{live}}', 'api_calls', 'hour', '{{00000000-0000-0000-0000-000000000000}}', {range}, false, 'hour'"
        ),
    )
    .await;
    let some_keys = crate::matrix::text(
        &mut owner,
        &format!(
            "SELECT string_agg(id::text, ',') AS s FROM (SELECT id FROM api_keys WHERE tenant_id = '{tenant}' LIMIT 20) k"
        ),
    )
    .await;
    let keys = plan(
        &app,
        tenant_scope(),
        sql::SERIES_SQL,
        "uuid, text[], text, text, uuid[], timestamptz, timestamptz, bool, text",
        format!(
            "'{tenant}', '{{live,test}}', 'api_calls', 'hour', '{{{some_keys}}}', {range}, true, 'day'"
        ),
    )
    .await;
    let grouped = plan(
        &app,
        tenant_scope(),
        sql::GROUPED_SQL,
        "uuid, text, text, text, timestamptz, timestamptz, bool, text, int8, bool, text",
        format!("'{tenant}', 'live', 'api_calls', 'hour', {range}, false, 'sum', 10, true, 'hour'"),
    )
    .await;
    for (what, p) in [("series", &series), ("keys", &keys), ("grouped", &grouped)] {
        assert!(p.contains("usage_rollups_pkey"), "{what}: {p}");
        assert!(!p.contains("Seq Scan on usage_rollups"), "{what}: {p}");
    }
    let admin = || Scope::platform_admin(staff_id.parse().unwrap());
    let platform = plan(
        &app,
        admin(),
        sql::PLATFORM_SERIES_SQL,
        "text, text, timestamptz, timestamptz, text, bool, text",
        format!("'api_calls', 'day', {range}, 'sum', false, 'day'"),
    )
    .await;
    let top = plan(
        &app,
        admin(),
        sql::TOP_CONSUMERS_SQL,
        "text, text, timestamptz, timestamptz, text, bool, int8, text",
        format!("'api_calls', 'day', {range}, 'sum', false, 10, 'day'"),
    )
    .await;
    let today = plan(
        &app,
        admin(),
        sql::PLATFORM_DAY_SQL,
        "timestamptz",
        "date_trunc('day', now())".to_owned(),
    )
    .await;
    for (what, p) in [("platform", &platform), ("top", &top), ("today", &today)] {
        assert!(p.contains("usage_rollups_platform_idx"), "{what}: {p}");
        assert!(!p.contains("Seq Scan on usage_rollups"), "{what}: {p}");
    }
}

/// A unique count over whole UTC days is counted on the daily distinct
/// rows (24 times fewer than the hourly ones), and stays exact: here the
/// hourly rows are removed and an hourly read of whole days still counts
/// every value once; a range that is not whole days reads its own rows.
#[tokio::test]
async fn unique_counts_over_whole_days_read_the_daily_rows() {
    let app = TestApp::spawn().await;
    add_metrics(&app).await;
    let (owner, _, tenant) = app.sign_up("days@reads.test", "Days").await;
    let yesterday = day(Utc::now()) - Duration::days(1);
    let at = |h: i64| yesterday + Duration::hours(h);
    record(
        &app,
        &owner,
        vec![
            ev("seats", 1, at(2), "s1", Some("ann")),
            ev("seats", 1, at(5), "s2", Some("bob")),
            ev("seats", 1, at(9), "s3", Some("ann")),
        ],
    )
    .await;
    let whole = vars("seats", yesterday, yesterday + Duration::days(1), "HOUR");
    let s = usage(&app, &owner, whole.clone()).await;
    assert_eq!(
        (s["total"].as_i64(), s["totalExact"].as_bool()),
        (Some(2), Some(true))
    );
    let mut owner_conn = app.db.owner().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut owner_conn,
        &format!(
            "DELETE FROM usage_distinct WHERE tenant_id = '{tenant}' AND granularity = 'hour'"
        ),
    )
    .await
    .unwrap();
    let s = usage(&app, &owner, whole).await;
    assert_eq!(s["total"], 2, "read from the daily rows: {s:?}");
    let mut by_key = vars("seats", yesterday, yesterday + Duration::days(1), "HOUR");
    by_key["b"] = json!("KEY");
    assert_eq!(usage(&app, &owner, by_key).await["total"], 2);
    // Not whole days: the hourly rows (now gone), so at least the largest
    // point.
    let part = vars("seats", at(1), at(10), "HOUR");
    assert_eq!(usage(&app, &owner, part).await["total"], 1);
}
