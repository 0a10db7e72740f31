//! The admin dashboard's tenant list: plan and status filters, search, four
//! orderings in both directions walked page by page (no row skipped or
//! repeated, ties included), cursors bound to their ordering, hostile
//! inputs, the indexes, and a platform admin reading a tenant's keys.

use std::collections::{HashMap, HashSet};

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::support::TestApp;

const PAGE: &str = "query($first: Int, $after: String, $search: String, $status: TenantStatus, $plan: String, $order: TenantOrder) {
  admin { tenants(first: $first, after: $after, search: $search, status: $status, plan: $plan, orderBy: $order) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name planKey status memberCount createdAt } } } } }";

/// 23 tenants named `bulkNN` (some names and creation times shared, so ties
/// are broken by id), on free/basic/pro, with 0 to 3 members each.
async fn bulk_tenants(app: &TestApp) {
    let mut owner = app.db.owner().await;
    diesel::sql_query(
        "WITH t AS (INSERT INTO tenants (id, name, slug, plan_key, status, created_at)
           SELECT gen_random_uuid(), 'bulk' || lpad((g % 17)::text, 2, '0'), 'bulk-' || g,
                  (ARRAY['free', 'basic', 'pro'])[1 + g % 3],
                  CASE WHEN g % 5 = 0 THEN 'suspended' ELSE 'active' END,
                  timestamptz '2026-01-01' + make_interval(hours => g % 19)
           FROM generate_series(1, 23) g RETURNING id, slug),
         u AS (INSERT INTO users (id, email) SELECT gen_random_uuid(), 'm' || g || '@bulk.test'
           FROM generate_series(1, 3) g RETURNING id, email)
         INSERT INTO memberships (tenant_id, user_id, role)
           SELECT t.id, u.id, 'member' FROM t JOIN u
             ON substr(u.email, 2, 1)::int <= split_part(t.slug, '-', 2)::int % 4",
    )
    .execute(&mut owner)
    .await
    .unwrap();
}

fn nodes(a: &crate::support::Answer) -> Vec<Value> {
    a.body["data"]["admin"]["tenants"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", a.body))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Walks every page of one ordering (`first` rows a page).
async fn walk(app: &TestApp, token: &str, vars: Value, first: i64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..50 {
        let mut v = vars.clone();
        v["first"] = json!(first);
        v["after"] = json!(after);
        let a = app.gql(PAGE, v, Some(token)).await;
        assert!(a.body.get("errors").is_none(), "{:?}", a.body);
        all.extend(nodes(&a));
        let info = &a.body["data"]["admin"]["tenants"]["pageInfo"];
        if info["hasNextPage"] != true {
            return all;
        }
        after = Some(info["endCursor"].as_str().unwrap().to_owned());
    }
    panic!("the pages never end");
}

#[tokio::test]
async fn tenant_list_filters_sorts_and_pages_through_every_ordering() {
    let app = TestApp::spawn().await;
    let (staff, _, _) = app.sign_up("staff@example.com", "Staff Co").await;
    let (customer, _, _) = app.sign_up("customer@example.com", "Customer Co").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@example.com", true)
        .await
        .unwrap();
    bulk_tenants(&app).await;

    // A non-admin is refused, whatever the arguments.
    for vars in [
        json!({}),
        json!({ "plan": "pro", "order": { "field": "NAME", "direction": "ASC" } }),
    ] {
        assert_eq!(
            app.gql(PAGE, vars, Some(&customer)).await.code(),
            "FORBIDDEN"
        );
    }

    let plan_rank: HashMap<&str, i64> = [("free", 0), ("basic", 1), ("pro", 2)].into();
    for field in ["CREATED_AT", "NAME", "MEMBER_COUNT", "PLAN"] {
        for direction in ["ASC", "DESC"] {
            let vars =
                json!({ "search": "bulk", "order": { "field": field, "direction": direction } });
            let rows = walk(&app, &staff, vars, 4).await;
            let ids: HashSet<&str> = rows.iter().map(|n| n["id"].as_str().unwrap()).collect();
            assert_eq!(rows.len(), 23, "{field} {direction}: every row once");
            assert_eq!(ids.len(), 23, "{field} {direction}: no row twice");
            let key = |n: &Value| -> (Value, String) {
                let k = match field {
                    "CREATED_AT" => n["createdAt"].clone(),
                    "NAME" => n["name"].clone(),
                    "MEMBER_COUNT" => n["memberCount"].clone(),
                    _ => json!(plan_rank[n["planKey"].as_str().unwrap()]),
                };
                (k, n["id"].as_str().unwrap().to_owned())
            };
            for pair in rows.windows(2) {
                let (a, b) = (key(&pair[0]), key(&pair[1]));
                let ordered = match (&a.0, &b.0) {
                    (Value::Number(x), Value::Number(y)) => {
                        let (x, y) = (x.as_i64().unwrap(), y.as_i64().unwrap());
                        (x, &a.1) < (y, &b.1)
                    }
                    // RFC 3339 in UTC with fixed digits and names of plain
                    // lowercase letters and digits sort as their text.
                    (x, y) => (x.as_str().unwrap(), &a.1) < (y.as_str().unwrap(), &b.1),
                };
                assert_eq!(
                    ordered,
                    direction == "ASC",
                    "{field} {direction}: {a:?} then {b:?}"
                );
            }
        }
    }
    // The member counts are the real ones (0 to 3).
    let by_members = walk(
        &app,
        &staff,
        json!({ "search": "bulk-1", "order": { "field": "MEMBER_COUNT", "direction": "DESC" } }),
        100,
    )
    .await;
    assert!(
        by_members
            .iter()
            .all(|n| n["memberCount"].as_i64().unwrap() <= 3)
    );

    // Filters: plan, status, both, with search.
    let pro = walk(&app, &staff, json!({ "plan": "pro" }), 100).await;
    assert!(!pro.is_empty() && pro.iter().all(|n| n["planKey"] == "pro"));
    assert_eq!(
        pro.len() as i64,
        app.db
            .count("SELECT count(*) AS n FROM tenants WHERE plan_key = 'pro'")
            .await
    );
    let suspended_basic = walk(
        &app,
        &staff,
        json!({ "plan": "basic", "status": "SUSPENDED", "search": "BULK" }),
        100,
    )
    .await;
    assert_eq!(
        suspended_basic.len() as i64,
        app.db.count("SELECT count(*) AS n FROM tenants WHERE plan_key = 'basic' AND status = 'suspended'")
            .await
    );
    assert!(
        suspended_basic
            .iter()
            .all(|n| n["status"] == "SUSPENDED" && n["planKey"] == "basic")
    );

    // A cursor continues only the ordering it was made in.
    let first = app
        .gql(
            PAGE,
            json!({ "first": 2, "order": { "field": "NAME", "direction": "ASC" } }),
            Some(&staff),
        )
        .await;
    let cursor = first.body["data"]["admin"]["tenants"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    for order in [
        json!({ "field": "NAME", "direction": "DESC" }),
        json!({ "field": "CREATED_AT", "direction": "ASC" }),
        Value::Null,
    ] {
        let a = app
            .gql(
                PAGE,
                json!({ "first": 2, "after": cursor, "order": order }),
                Some(&staff),
            )
            .await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{:?}", a.body);
        assert_eq!(a.body["errors"][0]["extensions"]["field"], "after");
    }

    // Hostile inputs: wildcards match themselves only, bad plans, long
    // searches, forged cursors are refused with the field named.
    for search in ["%", "_", "\\", "bulk%", "' OR 1=1 --"] {
        let a = app
            .gql(PAGE, json!({ "search": search }), Some(&staff))
            .await;
        assert_eq!(nodes(&a).len(), 0, "{search}: {:?}", a.body);
    }
    for (vars, field) in [
        (json!({ "plan": "platinum" }), "plan"),
        (json!({ "plan": "pro'; DROP TABLE tenants; --" }), "plan"),
        (json!({ "search": "x".repeat(101) }), "search"),
        (json!({ "after": "bm9wZQ" }), "after"),
        (
            json!({ "after": "bzE6bmE6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOicgT1IgMT0x",
                    "order": { "field": "MEMBER_COUNT", "direction": "ASC" } }),
            "after",
        ),
        (json!({ "first": 101 }), "first"),
    ] {
        let a = app.gql(PAGE, vars.clone(), Some(&staff)).await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{vars}: {:?}", a.body);
        assert_eq!(a.body["errors"][0]["extensions"]["field"], field, "{vars}");
    }
    // A name cursor holding SQL is only a position (a bound parameter).
    let forged = base64_url(&format!(
        "o1:na:00000000-0000-0000-0000-000000000000:{}",
        "' OR 1=1 --"
    ));
    let a = app
        .gql(
            PAGE,
            json!({ "after": forged, "order": { "field": "NAME", "direction": "ASC" }, "search": "bulk" }),
            Some(&staff),
        )
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    assert!(
        nodes(&a)
            .iter()
            .all(|n| n["name"].as_str().unwrap().starts_with("bulk"))
    );
    assert_eq!(
        app.db.count("SELECT count(*) AS n FROM tenants").await,
        25,
        "nothing was changed"
    );
    // Only the tenants shown are audited as listed: not the one read ahead to tell
    // there is a next page.
    let before = app
        .db
        .count("SELECT count(*) AS n FROM audit_log WHERE action = 'admin.tenants.list'")
        .await;
    let a = app
        .gql(
            PAGE,
            json!({ "first": 1, "order": { "field": "NAME", "direction": "ASC" }, "search": "bulk" }),
            Some(&staff),
        )
        .await;
    assert_eq!(nodes(&a).len(), 1, "{:?}", a.body);
    assert_eq!(
        a.body["data"]["admin"]["tenants"]["pageInfo"]["hasNextPage"],
        true
    );
    let after = app
        .db
        .count("SELECT count(*) AS n FROM audit_log WHERE action = 'admin.tenants.list'")
        .await;
    assert_eq!(after - before, 1, "one entry for the one tenant shown");
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// The name ordering and the plan and status filters read an index (the
/// planner told not to scan the table when it need not).
#[tokio::test]
async fn tenant_list_orderings_have_their_indexes() {
    let app = TestApp::spawn().await;
    let mut owner = app.db.owner().await;
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    diesel::sql_query("SET enable_seqscan = off")
        .execute(&mut owner)
        .await
        .unwrap();
    for (sql, index) in [
        (
            "EXPLAIN SELECT id FROM tenants WHERE (name, id) > ('m', '00000000-0000-0000-0000-000000000000'::uuid) ORDER BY name, id LIMIT 21",
            "tenants_name_idx",
        ),
        (
            "EXPLAIN SELECT id FROM tenants WHERE plan_key = 'pro' ORDER BY created_at DESC, id DESC LIMIT 21",
            "tenants_plan_created_idx",
        ),
        (
            "EXPLAIN SELECT id FROM tenants WHERE status = 'suspended' ORDER BY created_at DESC, id DESC LIMIT 21",
            "tenants_status_created_idx",
        ),
    ] {
        let plan: Vec<Line> = diesel::sql_query(sql).load(&mut owner).await.unwrap();
        let text: Vec<String> = plan.into_iter().map(|l| l.line).collect();
        assert!(
            text.iter().any(|l| l.contains(index)),
            "{sql}: {}",
            text.join("\n")
        );
    }
}

/// A platform admin reads a tenant's keys (audited in that tenant's trail),
/// only that tenant's; a member of a tenant cannot take the admin path.
#[tokio::test]
async fn platform_admin_reads_one_tenants_keys_only() {
    let app = TestApp::spawn().await;
    let (staff, _, _) = app.sign_up("staff@example.com", "Staff Co").await;
    let (a_owner, _, a) = app.sign_up("a@example.com", "Tenant A").await;
    let (b_owner, _, b) = app.sign_up("b@example.com", "Tenant B").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@example.com", true)
        .await
        .unwrap();
    for (token, name) in [(&a_owner, "a-key"), (&b_owner, "b-key")] {
        let made = app
            .gql(
                "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }",
                json!({ "i": { "name": name } }),
                Some(token),
            )
            .await;
        assert!(made.body.get("errors").is_none(), "{:?}", made.body);
    }
    let keys = "query($id: ID!) { admin { tenant(id: $id) { apiKeys(first: 10) { nodes { name displayPrefix state } } } } }";
    let read = app.gql(keys, json!({ "id": b }), Some(&staff)).await;
    let names: Vec<&str> = read.body["data"]["admin"]["tenant"]["apiKeys"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", read.body))
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["b-key"]);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{b}' \
                 AND action = 'admin.tenant.api_keys.read' AND actor_type = 'platform_admin'"
            ))
            .await,
        1
    );
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{a}' \
                 AND action = 'admin.tenant.api_keys.read'"
            ))
            .await,
        0,
        "tenant A's trail has no read of B's keys"
    );
    // Tenant A's owner cannot read B's keys through the admin path.
    let refused = app.gql(keys, json!({ "id": b }), Some(&a_owner)).await;
    assert_eq!(refused.code(), "FORBIDDEN");
    assert!(!refused.body.to_string().contains("b-key"));
}

/// A member of a suspended tenant stays signed in and is told why; members of
/// other tenants are told nothing of it.
#[tokio::test]
async fn a_suspended_tenants_members_read_the_reason_in_viewer() {
    let app = TestApp::spawn().await;
    let (staff, _, _) = app.sign_up("staff@example.com", "Staff Co").await;
    let (owner, _, tenant) = app.sign_up("owner@example.com", "Suspended Co").await;
    let (other, _, _) = app.sign_up("other@example.com", "Other Co").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@example.com", true)
        .await
        .unwrap();
    let s = app
        .gql(
            "mutation($id: ID!) { suspendTenant(id: $id, reason: \"unpaid invoices\") { status } }",
            json!({ "id": tenant }),
            Some(&staff),
        )
        .await;
    assert_eq!(
        s.body["data"]["suspendTenant"]["status"], "SUSPENDED",
        "{:?}",
        s.body
    );
    let viewer = "{ viewer { tenant { id } role tenantRefusal memberships { tenant { status statusReason } } } }";
    let v = app.gql(viewer, json!({}), Some(&owner)).await;
    assert!(v.body.get("errors").is_none(), "{:?}", v.body);
    assert_eq!(v.body["data"]["viewer"]["tenant"], Value::Null);
    assert_eq!(v.body["data"]["viewer"]["role"], Value::Null);
    assert_eq!(
        v.body["data"]["viewer"]["tenantRefusal"],
        "this tenant is suspended: unpaid invoices"
    );
    let o = app.gql(viewer, json!({}), Some(&other)).await;
    assert_eq!(o.body["data"]["viewer"]["tenantRefusal"], Value::Null);
    assert!(!o.body.to_string().contains("unpaid"), "{:?}", o.body);
}

/// `stats { activeUsers }` counts people whose session was used in the last
/// 30 days; only platform admins read it.
#[tokio::test]
async fn platform_stats_count_active_users() {
    let app = TestApp::spawn().await;
    let (staff, _, _) = app.sign_up("staff@example.com", "Staff Co").await;
    let (customer, idle, _) = app.sign_up("idle@example.com", "Idle Co").await;
    app.sign_up("busy@example.com", "Busy Co").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@example.com", true)
        .await
        .unwrap();
    let stats = "{ admin { stats { users activeUsers } } }";
    assert_eq!(
        app.gql(stats, json!({}), Some(&customer)).await.code(),
        "FORBIDDEN"
    );
    let a = app.gql(stats, json!({}), Some(&staff)).await;
    assert_eq!(a.body["data"]["admin"]["stats"]["users"], 3, "{:?}", a.body);
    assert_eq!(a.body["data"]["admin"]["stats"]["activeUsers"], 3);
    // Someone whose sessions were last used 40 days ago is not active.
    app.db
        .count(&format!(
            "WITH v AS (UPDATE sessions SET last_used_at = now() - interval '40 days' \
             WHERE user_id = '{idle}' RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    let a = app.gql(stats, json!({}), Some(&staff)).await;
    assert_eq!(a.body["data"]["admin"]["stats"]["users"], 3);
    assert_eq!(a.body["data"]["admin"]["stats"]["activeUsers"], 2);
    // The admin path reads no session's address or user agent.
    let mut owner = app.db.owner().await;
    #[derive(diesel::QueryableByName)]
    struct Granted {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ip: bool,
    }
    let g: Granted = diesel::sql_query(
        "SELECT has_column_privilege('tenantgate_platform_admin', 'sessions', 'ip', 'SELECT')
             OR has_column_privilege('tenantgate_platform_admin', 'sessions', 'user_agent', 'SELECT') AS ip",
    )
    .get_result(&mut owner)
    .await
    .unwrap();
    assert!(!g.ip);
}
