//! `GET /v1/audit-log/export` (CSV and JSON Lines, the query's filters, who
//! may, pages beyond one) and audit retention (per plan, the platform trail,
//! the runtime role still unable to delete).

use serde_json::{Value, json};
use tenantgate::audit::export::{COLUMNS, PAGE};
use tenantgate::tenancy::Scope;

use crate::identity::invite_and_join;
use crate::keys::create_key;
use crate::plans::platform_admin;
use crate::support::TestApp;

const LOG: &str = "query($f: AuditLogFilter) { tenant { auditLog(first: 100, filter: $f) \
    { edges { node { id action actorLabel } } } } }";

/// GETs an export with `query` and `headers`: (status, headers, body text).
async fn export(
    app: &TestApp,
    query: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = app
        .client
        .get(format!("{}/v1/audit-log/export?{query}", app.url));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let h = res.headers().clone();
    (status, h, res.text().await.unwrap())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn lines(body: &str) -> Vec<Value> {
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

async fn log_ids(app: &TestApp, token: &str, filter: Value) -> Vec<String> {
    let a = app.gql(LOG, json!({ "f": filter }), Some(token)).await;
    a.body["data"]["tenant"]["auditLog"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", a.body))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn owners_export_the_trail_as_the_query_reads_it_in_both_formats() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("own@example.com", "Acme").await;
    let _admin = invite_and_join(&app, &owner, "adm@example.com", "ADMIN").await;
    let _member = invite_and_join(&app, &owner, "=sum+1@example.com", "MEMBER").await;
    let auth = bearer(&owner);
    let headers = [
        ("authorization", auth.as_str()),
        ("x-tenant-id", tenant.as_str()),
    ];
    let expected = log_ids(&app, &owner, Value::Null).await;
    assert!(expected.len() >= 5, "{expected:?}");

    let (status, h, body) = export(&app, "format=jsonl", &headers).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(h["content-type"], "application/jsonl; charset=utf-8");
    assert_eq!(h["cache-control"], "no-store");
    let disposition = h["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"audit-log-{tenant}-"))
            && disposition.ends_with(".jsonl\""),
        "{disposition}"
    );
    let rows = lines(&body);
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids, expected,
        "the export reads what the query reads, newest first"
    );
    for row in &rows {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, COLUMNS, "every line has the columns in order");
    }
    assert!(
        rows.iter()
            .any(|r| r["action"] == "invitation.accept" && r["actorLabel"] == "adm@example.com"),
        "{body}"
    );

    // The export is audited, after the moment it covers.
    let after = log_ids(&app, &owner, json!({ "action": "audit_log.export" })).await;
    assert_eq!(after.len(), 1);
    assert!(
        !ids.contains(&after[0].as_str()),
        "an export never contains its own entry"
    );

    let (status, h, body) = export(&app, "format=csv", &headers).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(h["content-type"], "text/csv; charset=utf-8; header=present");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        COLUMNS
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // The first JSON Lines export is now in the trail too.
    assert_eq!(records.len(), expected.len() + 1);
    assert_eq!(&records[0][2], "audit_log.export");
    assert_eq!(
        records[1..]
            .iter()
            .map(|r| r[0].to_owned())
            .collect::<Vec<_>>(),
        expected
    );
    // A label a spreadsheet would run as a formula is neutralised in CSV.
    assert!(
        records.iter().any(|r| &r[5] == "'=sum+1@example.com"),
        "{body}"
    );
    assert!(!records.iter().any(|r| r[5].starts_with('=')));

    // Filters are the query's.
    let filtered = log_ids(&app, &owner, json!({ "action": "invitation.accept" })).await;
    assert_eq!(filtered.len(), 2);
    let (_, _, body) = export(&app, "format=jsonl&action=invitation.accept", &headers).await;
    let ids: Vec<String> = lines(&body)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, filtered);
    let since = lines(&body)[0]["createdAt"].as_str().unwrap().to_owned();
    let (_, _, body) = export(
        &app,
        &format!(
            "format=jsonl&action=invitation.accept&since={}",
            urlencode(&since)
        ),
        &headers,
    )
    .await;
    assert_eq!(lines(&body).len(), 1, "since is inclusive, as in the query");
    let (_, _, body) = export(
        &app,
        &format!(
            "format=jsonl&action=invitation.accept&until={}",
            urlencode(&since)
        ),
        &headers,
    )
    .await;
    assert_eq!(lines(&body).len(), 1, "until is exclusive, as in the query");
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test]
async fn exports_page_through_long_trails_in_order_without_repeats() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("own@example.com", "Acme").await;
    let n = 2 * PAGE + 345;
    // Same timestamp for many rows: the keyset must order by id within it.
    app.db
        .count(&format!(
            "WITH v AS (INSERT INTO audit_log (id, tenant_id, actor_type, action, created_at) \
             SELECT gen_random_uuid(), '{tenant}', 'system', 'test.bulk', \
                    now() - interval '1 hour' - (i / 7) * interval '1 second' \
             FROM generate_series(1, {n}) i RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    let auth = bearer(&owner);
    let headers = [
        ("authorization", auth.as_str()),
        ("x-tenant-id", tenant.as_str()),
    ];
    let (status, _, body) = export(&app, "format=jsonl&action=test.bulk", &headers).await;
    assert_eq!(status, 200);
    let rows = lines(&body);
    assert_eq!(rows.len() as i64, n);
    let keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["createdAt"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.reverse();
    sorted.dedup();
    assert_eq!(keys, sorted, "newest first, no entry twice");
    let (_, _, csv) = export(&app, "format=csv&action=test.bulk", &headers).await;
    assert_eq!(csv.lines().count() as i64, n + 1);
}

#[tokio::test]
async fn only_admins_owners_audit_keys_and_platform_admins_export_and_only_their_tenant() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("own@example.com", "Acme").await;
    let (other, _, other_tenant) = app.sign_up("other@example.com", "Globex").await;
    let member = invite_and_join(&app, &owner, "mem@example.com", "MEMBER").await;
    let admin = invite_and_join(&app, &owner, "adm@example.com", "ADMIN").await;
    let staff = platform_admin(&app, "staff@example.com").await;
    let (_, audit_key) = create_key(&app, &owner, json!({ "scopes": ["AUDIT_READ"] })).await;
    let (_, tenant_key) = create_key(&app, &owner, json!({ "scopes": ["TENANT_READ"] })).await;

    let as_user = |token: &str, t: &str| {
        vec![
            ("authorization".to_owned(), bearer(token)),
            ("x-tenant-id".to_owned(), t.to_owned()),
        ]
    };
    let run = |h: Vec<(String, String)>, q: &'static str| {
        let app = &app;
        async move {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            export(app, q, &h).await
        }
    };
    let (s, _, body) = run(as_user(&admin, &tenant), "format=csv").await;
    assert_eq!(s, 200, "{body}");
    let (s, _, body) = run(as_user(&member, &tenant), "format=csv").await;
    assert_eq!((s, code(&body).as_str()), (403, "FORBIDDEN"), "{body}");
    let (s, h, body) = run(vec![], "format=csv").await;
    assert_eq!(
        (s, code(&body).as_str()),
        (401, "UNAUTHENTICATED"),
        "{body}"
    );
    assert!(h.contains_key("www-authenticate"));
    let (s, _, body) = run(as_user("not-a-token", &tenant), "format=csv").await;
    assert_eq!(
        (s, code(&body).as_str()),
        (401, "UNAUTHENTICATED"),
        "{body}"
    );
    // Another tenant's owner naming this tenant: not a member.
    let (s, _, body) = run(as_user(&other, &tenant), "format=csv").await;
    assert_eq!(s, 403, "{body}");
    // Their own tenant's export holds nothing of this one.
    let (s, _, body) = run(as_user(&other, &other_tenant), "format=jsonl").await;
    assert_eq!(s, 200, "{body}");
    assert!(
        !body.contains(&tenant) && !body.contains("own@example.com"),
        "{body}"
    );
    // A tenant parameter is the platform admins' path only.
    let q = Box::leak(format!("format=csv&tenant={tenant}").into_boxed_str());
    let (s, _, body) = run(as_user(&other, &other_tenant), q).await;
    assert_eq!((s, code(&body).as_str()), (403, "FORBIDDEN"), "{body}");

    // API keys: audit:read, their own tenant only.
    let key = |secret: &str| vec![("authorization".to_owned(), bearer(secret))];
    let (s, _, body) = run(key(&audit_key), "format=jsonl").await;
    assert_eq!(s, 200, "{body}");
    let rows = lines(&body);
    assert!(rows.iter().all(|r| r["id"].is_string()) && !rows.is_empty());
    let (s, _, body) = run(key(&tenant_key), "format=jsonl").await;
    assert_eq!((s, code(&body).as_str()), (403, "FORBIDDEN"), "{body}");
    let mut k = key(&audit_key);
    k.push(("x-tenant-id".into(), other_tenant.clone()));
    let (s, _, body) = run(k, "format=jsonl").await;
    assert_eq!(s, 403, "{body}");
    let q = Box::leak(format!("format=csv&tenant={other_tenant}").into_boxed_str());
    let (s, _, body) = run(key(&audit_key), q).await;
    assert_eq!(s, 403, "{body}");
    let by_key = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' \
             AND action = 'audit_log.export' AND actor_type = 'api_key'"
        ))
        .await;
    assert_eq!(by_key, 1);

    // Platform admins export any tenant, in that tenant's trail.
    let q = Box::leak(format!("format=jsonl&tenant={tenant}").into_boxed_str());
    let (s, _, body) = run(vec![("authorization".into(), bearer(&staff))], q).await;
    assert_eq!(s, 200, "{body}");
    assert!(
        lines(&body)
            .iter()
            .any(|r| r["actorLabel"] == "mem@example.com")
    );
    let staff_entries = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' \
             AND action = 'admin.tenant.audit_log.export' AND actor_type = 'platform_admin'"
        ))
        .await;
    assert_eq!(staff_entries, 1);
    let q = Box::leak(format!("format=jsonl&tenant={}", uuid::Uuid::now_v7()).into_boxed_str());
    let (s, _, body) = run(vec![("authorization".into(), bearer(&staff))], q).await;
    assert_eq!((s, code(&body).as_str()), (404, "NOT_FOUND"), "{body}");
}

#[tokio::test]
async fn bad_parameters_are_refused_with_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("own@example.com", "Acme").await;
    let auth = bearer(&owner);
    let headers = [
        ("authorization", auth.as_str()),
        ("x-tenant-id", tenant.as_str()),
    ];
    let sql = format!("SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}'");
    let before = app.db.count(&sql).await;
    for (query, field) in [
        ("", "format"),
        ("format=pdf", "format"),
        ("format=csv&since=last%20week", "since"),
        ("format=csv&actor=someone", "actor"),
        ("format=csv&format=jsonl", "format"),
        ("format=csv&action=a%0Ab", "action"),
    ] {
        let (s, _, body) = export(&app, query, &headers).await;
        assert_eq!(
            (s, code(&body).as_str()),
            (400, "BAD_USER_INPUT"),
            "{query}: {body}"
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["errors"][0]["extensions"]["field"], field,
            "{query}: {body}"
        );
        assert!(v["errors"][0]["extensions"]["requestId"].is_string());
    }
    let (s, _, body) = export(&app, "format=csv&page=2", &headers).await;
    assert_eq!((s, code(&body).as_str()), (400, "BAD_USER_INPUT"), "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["errors"][0]["extensions"]["field"],
        "page"
    );
    let long = format!("format=csv&action={}", "a".repeat(3000));
    let (s, _, _) = export(&app, &long, &headers).await;
    assert_eq!(s, 400);
    assert_eq!(
        app.db.count(&sql).await,
        before,
        "a refused export writes no entry"
    );
}

#[tokio::test]
async fn retention_drops_entries_past_each_plans_days_and_the_runtime_role_cannot_choose() {
    let app = TestApp::spawn().await;
    let (_, _, free) = app.sign_up("free@example.com", "Free").await; // 7 days
    let (_, _, pro) = app.sign_up("pro@example.com", "Pro").await;
    app.set_plan(&pro, "pro").await; // 90 days
    let insert = |tenant: Option<&str>, action: &str, days: i64| {
        let tenant = tenant.map_or("NULL".to_owned(), |t| format!("'{t}'"));
        format!(
            "WITH v AS (INSERT INTO audit_log (id, tenant_id, actor_type, action, created_at) \
             SELECT gen_random_uuid(), {tenant}, 'system', '{action}', now() - interval '{days} days' \
             FROM generate_series(1, 3) RETURNING 1) SELECT count(*) AS n FROM v"
        )
    };
    for (tenant, action, days) in [
        (Some(free.as_str()), "test.old", 8),
        (Some(free.as_str()), "test.kept", 6),
        (Some(pro.as_str()), "test.kept", 8),
        (Some(pro.as_str()), "test.kept", 89),
        (Some(pro.as_str()), "test.old", 91),
        (None, "test.kept", 20),
        (None, "test.mid", 100),
        (None, "test.old", 400),
    ] {
        assert_eq!(app.db.count(&insert(tenant, action, days)).await, 3);
    }
    let count = |action: &str| {
        let sql = format!("SELECT count(*) AS n FROM audit_log WHERE action = '{action}'");
        let db = &app.db;
        async move { db.count(&sql).await }
    };
    let kept_before = count("test.kept").await;
    let live = app
        .db
        .count("SELECT count(*) AS n FROM audit_log WHERE action NOT LIKE 'test.%'")
        .await;

    // The runtime role can neither delete from the trail nor read or change
    // how long the platform keeps its own.
    for sql in [
        "DELETE FROM audit_log",
        "UPDATE audit_settings SET platform_days = 30",
        "SELECT * FROM audit_settings",
    ] {
        let denied = app
            .state
            .db
            .scoped(Scope::tenant(free.parse().unwrap()), |conn| {
                use diesel_async::RunQueryDsl;
                use scoped_futures::ScopedFutureExt;
                async move { Ok(diesel::sql_query(sql).execute(conn).await?) }.scope_boxed()
            })
            .await;
        assert!(denied.is_err(), "the runtime role may not: {sql}");
    }

    // The job, with the platform keeping its default 365 days.
    let stop = tenantgate::usage::Stop::default();
    let done = tenantgate::audit::retention::expire(&app.state.db, &stop)
        .await
        .unwrap();
    assert_eq!(
        done.deleted, 9,
        "3 old entries of each tenant and of the platform"
    );
    assert!(!done.deferred);
    assert_eq!(count("test.old").await, 0);
    assert_eq!(count("test.mid").await, 3);
    assert_eq!(count("test.kept").await, kept_before);
    // The owner keeps the platform's trail 30 days (what start-up does with
    // --platform-audit-retention-days); fewer is refused.
    tenantgate::audit::retention::set_platform_days(&app.db.url, 30)
        .await
        .unwrap();
    assert!(
        tenantgate::audit::retention::set_platform_days(&app.db.url, 29)
            .await
            .is_err()
    );
    let n = app
        .state
        .db
        .scoped(Scope::anonymous(), |conn| {
            use scoped_futures::ScopedFutureExt;
            async move { Ok(tenantgate::db::audit_log::expire(conn, 10_000).await?) }.scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(n, 3, "only the 100-day platform entries");
    assert_eq!(
        count("test.kept").await,
        kept_before,
        "20-day platform entries stay"
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM audit_log WHERE action NOT LIKE 'test.%'")
            .await,
        live,
        "recent entries are never touched"
    );
    // A stopping server leaves the rest to the next run.
    stop.stop();
    let done = tenantgate::audit::retention::expire(&app.state.db, &stop)
        .await
        .unwrap();
    assert!(done.deferred && done.deleted == 0);
}

/// Puts `n` entries of action `test.bulk` into `tenant`'s trail, an hour old.
async fn bulk(app: &TestApp, tenant: &str, n: i64) {
    app.db
        .count(&format!(
            "WITH v AS (INSERT INTO audit_log (id, tenant_id, actor_type, action, user_agent, created_at) \
             SELECT gen_random_uuid(), '{tenant}', 'system', 'test.bulk', repeat('x', 200), \
                    now() - interval '1 hour' - i * interval '1 millisecond' \
             FROM generate_series(1, {n}) i RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
}

#[tokio::test]
async fn slots_come_back_when_clients_hang_up_and_lost_access_cuts_the_download() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("own@example.com", "Acme").await;
    let admin = invite_and_join(&app, &owner, "adm@example.com", "ADMIN").await;
    // Far more than socket buffers hold, so an unread export waits on its reader.
    bulk(&app, &tenant, 60_000).await;
    let get = |token: &str| {
        app.client
            .get(format!("{}/v1/audit-log/export?format=jsonl", app.url))
            .header("authorization", bearer(token))
            .header("x-tenant-id", tenant.as_str())
            .send()
    };
    let first = get(&owner).await.unwrap();
    let second = get(&owner).await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = get(&owner).await.unwrap();
    assert_eq!(third.status(), 429, "two of a tenant at once");
    assert!(third.headers().contains_key("retry-after"));
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Hanging up gives the slots back.
    drop((first, second));
    let mut again = None;
    for _ in 0..50 {
        let res = get(&owner).await.unwrap();
        if res.status() == 200 {
            again = Some(res);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let whole = again.expect("the slots came back").text().await.unwrap();
    assert!(whole.lines().count() >= 60_000);

    // An admin demoted mid-export: the download is cut, not ended short.
    let me = app
        .gql("{ viewer { user { id } } }", json!({}), Some(&admin))
        .await;
    let admin_id = me.body["data"]["viewer"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut res = get(&admin).await.unwrap();
    assert_eq!(res.status(), 200);
    let mut read = res.chunk().await.unwrap().unwrap().len();
    let a = app
        .gql(
            "mutation($u: ID!) { updateMemberRole(userId: $u, role: MEMBER) { role } }",
            json!({ "u": admin_id }),
            Some(&owner),
        )
        .await;
    assert_eq!(
        a.body["data"]["updateMemberRole"]["role"], "MEMBER",
        "{:?}",
        a.body
    );
    let cut = loop {
        match res.chunk().await {
            Ok(Some(bytes)) => read += bytes.len(),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    assert!(
        cut,
        "the download must fail, not end as if whole ({read} bytes read)"
    );
    assert!(read < whole.len(), "it stopped before the end");
}

#[tokio::test]
async fn exports_have_an_hourly_budget_per_tenant_and_head_runs_nothing() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("own@example.com", "Acme").await;
    let auth = bearer(&owner);
    let headers = [
        ("authorization", auth.as_str()),
        ("x-tenant-id", tenant.as_str()),
    ];
    let res = app
        .client
        .head(format!("{}/v1/audit-log/export?format=csv", app.url))
        .header("authorization", auth.as_str())
        .header("x-tenant-id", tenant.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
    for i in 0..60 {
        let (s, _, body) = export(&app, "format=csv&action=none", &headers).await;
        assert_eq!(s, 200, "export {i}: {body}");
    }
    let (s, h, body) = export(&app, "format=csv&action=none", &headers).await;
    assert_eq!((s, code(&body).as_str()), (429, "RATE_LIMITED"), "{body}");
    assert!(h.contains_key("retry-after"));
    let exports = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' AND action = 'audit_log.export'"
        ))
        .await;
    assert_eq!(exports, 60, "the refused one wrote nothing");
}
