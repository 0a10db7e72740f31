//! Compiled reads (`graphql::compiled`): a document that ran on the executor
//! is answered next time by one SQL statement, with the executor's exact
//! bytes; every refusal (session, membership, role, tenant status, arguments,
//! complexity) runs on the executor, which words it; no tenant sees another's
//! rows.

use diesel_async::RunQueryDsl;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::support::{Answer, TestApp};

async fn ask(app: &TestApp, q: &str, vars: Value, token: &str, tenant: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = tenant.map(|t| ("x-tenant-id", t)).into_iter().collect();
    app.gql_headers(q, vars, token, &headers).await
}

/// Runs `q` twice; the second must be the compiled answer (when `compiles`),
/// byte for byte the first's (the executor's). Returns the answer.
async fn twice(
    app: &TestApp,
    q: &str,
    vars: Value,
    token: &str,
    tenant: Option<&str>,
    compiles: bool,
) -> Answer {
    let first = ask(app, q, vars.clone(), token, tenant).await;
    let (answered, _) = app.state.compiled.counts();
    let second = ask(app, q, vars, token, tenant).await;
    let (now, _) = app.state.compiled.counts();
    assert_eq!(
        now - answered,
        u64::from(compiles),
        "compiled? {q}\n{:?}",
        second.body
    );
    assert_eq!(first.status, second.status, "{q}");
    assert_eq!(
        without_request_ids(&first.body),
        without_request_ids(&second.body),
        "executor and compiled answers differ for {q} {}",
        if compiles { "" } else { "(executor twice)" }
    );
    assert_eq!(first.content_type(), second.content_type());
    for h in ["cache-control", "vary"] {
        assert_eq!(first.headers.get(h), second.headers.get(h), "{h}");
    }
    second
}

/// The body as text, each error's request id left out (it differs per request).
fn without_request_ids(body: &Value) -> String {
    let mut body = body.clone();
    if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
        for e in errors {
            if let Some(ext) = e.get_mut("extensions").and_then(Value::as_object_mut) {
                ext.remove("requestId");
            }
        }
    }
    body.to_string()
}

/// A tenant with members of every role (odd emails, some verified) and keys
/// in every state, with times of 0, 3 and 6 fraction digits.
async fn fixture(app: &TestApp) -> (String, String) {
    let (token, _, tenant) = app
        .sign_up("owner@compiled.test", "Compiled \"Co\" é")
        .await;
    let mut owner = app.db.owner().await;
    for sql in [
        "INSERT INTO users (id, email, email_verified_at, created_at) SELECT gen_random_uuid(), \
         'm' || g || (CASE WHEN g % 3 = 0 THEN '+\"q\\\\x@compiled.test' ELSE 'ü@compiled.test' END), \
         CASE WHEN g % 2 = 0 THEN now() END, \
         timestamptz '2026-01-02 03:04:05+00' + g * interval '1.1201 second' \
         FROM generate_series(1, 30) g"
            .to_owned(),
        format!(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) SELECT '{tenant}', id, \
             (ARRAY['admin','member','billing','viewer'])[1 + (row_number() OVER ()) % 4], \
             timestamptz '2026-02-01 00:00:00+00' + (row_number() OVER ()) * interval '0.5 second' \
             FROM users WHERE email LIKE '%@compiled.test' AND email <> 'owner@compiled.test'"
        ),
        format!(
            "INSERT INTO api_keys (id, tenant_id, name, environment, display_prefix, secret_hash, \
             scopes, rate_limit, rate_limit_period, expires_at, revoked_at, previous_valid_until, previous_hash, \
             last_used_at, created_by, created_at) \
             SELECT gen_random_uuid(), '{tenant}', 'key \"' || g || E'\\\\ ✓', \
             CASE WHEN g % 2 = 0 THEN 'test' ELSE 'live' END, 'tg_live_c' || g, sha256(('c' || g)::bytea), \
             CASE g % 4 WHEN 0 THEN ARRAY['tenant:read','keys:read'] WHEN 1 THEN ARRAY['usage:write',NULL,'nope:x'] \
               WHEN 2 THEN ARRAY[]::text[] ELSE ARRAY['webhooks:write','audit:read','billing:read'] END, \
             CASE WHEN g % 3 = 0 THEN 100 END, CASE WHEN g % 3 = 0 THEN 60 END, \
             CASE g % 5 WHEN 0 THEN now() - interval '1 day' WHEN 1 THEN now() + interval '30 days' END, \
             CASE WHEN g % 7 = 0 THEN now() END, \
             CASE WHEN g % 4 = 1 THEN now() + interval '1 hour' WHEN g % 4 = 2 THEN now() - interval '1 hour' END, \
             CASE WHEN g % 4 IN (1, 2) THEN sha256(('p' || g)::bytea) END, \
             CASE g % 3 WHEN 0 THEN timestamptz '2026-03-01 10:00:00+00' \
               WHEN 1 THEN timestamptz '2026-03-01 10:00:00.120+00' + g * interval '1 microsecond' * 1000 END, \
             CASE WHEN g % 2 = 0 THEN (SELECT id FROM users WHERE email = 'owner@compiled.test') END, \
             timestamptz '2026-02-01 00:00:00+00' + g * interval '0.000123 second' \
             FROM generate_series(1, 40) g"
        ),
    ] {
        diesel::sql_query(sql).execute(&mut owner).await.unwrap();
    }
    (token, tenant)
}

const DASHBOARD: &str = "{ tenant { members(first: 50) { edges { node { role user { email } } } } \
     apiKeys(first: 50) { edges { node { id name displayPrefix state scopes environment lastUsedAt } } } } }";

#[tokio::test]
async fn compiled_answers_are_the_executors_byte_for_byte() {
    let app = TestApp::spawn().await;
    let (token, _) = fixture(&app).await;
    let everything = "query Everything($n: Int = 7, $after: String) { __typename tenant { __typename id name slug \
        status statusReason planKey createdAt memberCount \
        members(first: $n, after: $after) { __typename edges { __typename cursor node { __typename role joinedAt \
        user { __typename id email emailVerified createdAt } } } nodes { role } \
        pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } } \
        keys: apiKeys(first: 30) { totalPages: pageInfo { hasNextPage endCursor } edges { cursor node { \
        id name environment displayPrefix scopes state rateLimit { limit periodSeconds __typename } \
        expiresAt revokedAt rotationEndsAt lastUsedAt createdById createdAt } } \
        nodes { id } } } }";
    let a = twice(&app, DASHBOARD, json!({}), &token, None, true).await;
    assert_eq!(
        a.body["data"]["tenant"]["members"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        31
    );
    assert_eq!(
        a.body["data"]["tenant"]["apiKeys"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        40
    );
    let a = twice(&app, everything, json!({}), &token, None, true).await;
    let members = &a.body["data"]["tenant"]["members"];
    assert_eq!(members["edges"].as_array().unwrap().len(), 7);
    assert_eq!(members["pageInfo"]["hasNextPage"], true);
    // Page on with the end cursor, then past the end: the same plan.
    let mut after = members["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut seen = 7;
    loop {
        let vars = json!({ "n": 10, "after": after });
        let first = ask(&app, everything, vars.clone(), &token, None).await;
        let (answered, _) = app.state.compiled.counts();
        assert!(answered > 0);
        let m = &first.body["data"]["tenant"]["members"];
        seen += m["edges"].as_array().unwrap().len();
        assert_eq!(m["pageInfo"]["hasPreviousPage"], true);
        match m["pageInfo"]["endCursor"].as_str() {
            Some(c) if m["pageInfo"]["hasNextPage"] == true => after = c.to_owned(),
            _ => break,
        }
    }
    assert_eq!(seen, 31, "every member once");
    // Variables: null is the default page; defaults apply.
    twice(&app, everything, json!({ "n": null }), &token, None, true).await;
    twice(
        &app,
        "query($f: Int!) { tenant { apiKeys(first: $f) { nodes { name } } } }",
        json!({ "f": 3 }),
        &token,
        None,
        true,
    )
    .await;
    // A key's last use not yet written (this instance's) shows in both.
    let key = ask(&app, "mutation { createApiKey(input: {name: \"used\", scopes: [TENANT_READ]}) { secret apiKey { id } } }",
        json!({}), &token, None).await;
    let secret = key.body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", key.body))
        .to_owned();
    let id = key.body["data"]["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let used = ask(&app, "{ tenant { id } }", json!({}), &secret, None).await;
    assert!(used.body.get("errors").is_none(), "{:?}", used.body);
    let q = "{ tenant { apiKeys(first: 100) { nodes { id lastUsedAt } } } }";
    let a = twice(&app, q, json!({}), &token, None, true).await;
    let node = a.body["data"]["tenant"]["apiKeys"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(node["lastUsedAt"].is_string(), "{node:?}");
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM api_keys WHERE id = '{id}' AND last_used_at IS NULL"
            ))
            .await,
        1,
        "the use is still only in memory"
    );
}

/// Random selections of the known fields, each run on the executor and then
/// compiled.
#[tokio::test]
async fn random_selections_compile_to_the_same_bytes() {
    let app = TestApp::spawn().await;
    let (token, _) = fixture(&app).await;
    let user = prop::sample::subsequence(
        vec!["id", "email", "emailVerified", "createdAt", "__typename"],
        1..=5,
    );
    let member = (
        prop::sample::subsequence(vec!["role", "joinedAt", "__typename"], 0..=3),
        prop::option::of(user),
    )
        .prop_filter("something", |(l, u)| !l.is_empty() || u.is_some())
        .prop_map(|(leaves, user)| {
            let mut s = leaves.join(" ");
            if let Some(u) = user {
                s.push_str(&format!(" user {{ {} }}", u.join(" ")));
            }
            s
        });
    let key = prop::sample::subsequence(
        vec![
            "id",
            "name",
            "environment",
            "displayPrefix",
            "scopes",
            "state",
            "rateLimit { limit periodSeconds }",
            "expiresAt",
            "revokedAt",
            "rotationEndsAt",
            "lastUsedAt",
            "createdById",
            "createdAt",
        ],
        1..=13,
    )
    .prop_map(|v| v.join(" "));
    let page = prop::sample::subsequence(
        vec!["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"],
        1..=4,
    )
    .prop_map(|v| v.join(" "));
    let conn = |node: BoxedStrategy<String>| {
        (
            node,
            prop::option::of(page.clone()),
            any::<bool>(),
            1..=45i32,
        )
            .prop_map(|(n, p, edges, first)| {
                let body = if edges {
                    format!("edges {{ cursor node {{ {n} }} }}")
                } else {
                    format!("nodes {{ {n} }}")
                };
                let p = p
                    .map(|p| format!(" pageInfo {{ {p} }}"))
                    .unwrap_or_default();
                format!("(first: {first}) {{ {body}{p} }}")
            })
    };
    let tenant = (
        prop::sample::subsequence(
            vec![
                "id",
                "name",
                "slug",
                "status",
                "planKey",
                "createdAt",
                "memberCount",
            ],
            0..=7,
        ),
        prop::option::of(conn(member.boxed())),
        prop::option::of(conn(key.boxed())),
    )
        .prop_filter("something", |(l, m, k)| {
            !l.is_empty() || m.is_some() || k.is_some()
        })
        .prop_map(|(leaves, m, k)| {
            let mut s = leaves.join(" ");
            if let Some(m) = m {
                s.push_str(&format!(" members{m}"));
            }
            if let Some(k) = k {
                s.push_str(&format!(" apiKeys{k}"));
            }
            format!("{{ tenant {{ {s} }} }}")
        });
    let mut runner = TestRunner::new(Config {
        cases: 40,
        ..Config::default()
    });
    let mut queries: Vec<String> = (0..40)
        .map(|_| tenant.new_tree(&mut runner).unwrap().current())
        .collect();
    queries.sort();
    queries.dedup();
    for q in &queries {
        twice(&app, q, json!({}), &token, None, true).await;
    }
}

#[tokio::test]
async fn every_refusal_runs_on_the_executor() {
    let app = TestApp::spawn().await;
    let (owner_token, tenant) = fixture(&app).await;
    let (other_token, _, other_tenant) = app.sign_up("other@compiled.test", "Other").await;
    // Roles: a billing member may read the tenant but not its lists.
    let mut owner = app.db.owner().await;
    let (billing, billing_id, _) = app.sign_up("billing@compiled.test", "B").await;
    let (viewer, _, _) = app.sign_up("viewer@compiled.test", "V").await;
    for (email, role) in [
        ("billing@compiled.test", "billing"),
        ("viewer@compiled.test", "viewer"),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO memberships (tenant_id, user_id, role) SELECT '{tenant}', id, '{role}' FROM users WHERE email = '{email}'"
        ))
        .execute(&mut owner)
        .await
        .unwrap();
    }
    let t = Some(tenant.as_str());
    // Learn the plans as the owner.
    twice(&app, DASHBOARD, json!({}), &owner_token, None, true).await;
    twice(
        &app,
        "{ tenant { id name } }",
        json!({}),
        &owner_token,
        None,
        true,
    )
    .await;
    let a = twice(&app, DASHBOARD, json!({}), &viewer, t, true).await;
    assert!(a.body.get("errors").is_none());
    let a = twice(&app, DASHBOARD, json!({}), &billing, t, false).await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    let a = twice(&app, "{ tenant { id name } }", json!({}), &billing, t, true).await;
    assert_eq!(a.body["data"]["tenant"]["id"], tenant.as_str());
    // Another tenant's user naming this tenant: not a member.
    let a = twice(&app, DASHBOARD, json!({}), &other_token, t, false).await;
    assert_eq!(a.code(), "FORBIDDEN");
    assert!(!a.body.to_string().contains("compiled.test"));
    // Their own tenant: only their rows.
    let a = twice(&app, DASHBOARD, json!({}), &other_token, None, true).await;
    let text = a.body.to_string();
    assert!(
        text.contains("other@compiled.test")
            && !text.contains("owner@compiled.test")
            && !text.contains("key \\\""),
        "{text}"
    );
    assert_eq!(
        a.body["data"]["tenant"]["members"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let _ = other_tenant;
    // Arguments the resolvers refuse.
    let vq = "query($n: Int, $c: String) { tenant { members(first: $n, after: $c) { nodes { role } } } }";
    twice(&app, vq, json!({ "n": 2 }), &owner_token, None, true).await;
    for (vars, code) in [
        (json!({ "n": 0 }), "BAD_USER_INPUT"),
        (json!({ "n": 101 }), "BAD_USER_INPUT"),
        (json!({ "n": "2" }), "BAD_USER_INPUT"),
        (json!({ "n": 2, "c": "not a cursor" }), "BAD_USER_INPUT"),
        (json!({ "n": 2, "c": 5 }), "BAD_USER_INPUT"),
        (json!({ "n": 2, "c": "bad\u{0}nul" }), "BAD_USER_INPUT"),
    ] {
        let a = twice(&app, vq, vars.clone(), &owner_token, None, false).await;
        assert_eq!(a.code(), code, "{vars} {:?}", a.body);
    }
    // The complexity limit, reached through a variable.
    let lists: String = (0..8)
        .map(|i| format!(" m{i}: members(first: $n) {{ edges {{ cursor node {{ role joinedAt user {{ id email emailVerified createdAt }} }} }} }}"))
        .collect();
    let heavy = format!("query($n: Int) {{ tenant {{ {lists} }} }}");
    twice(&app, &heavy, json!({ "n": 1 }), &owner_token, None, true).await;
    let a = twice(&app, &heavy, json!({ "n": 100 }), &owner_token, None, false).await;
    assert_eq!(a.code(), "BAD_USER_INPUT", "{:?}", a.body);
    // A session bound to another tenant's domain.
    diesel::sql_query(format!(
        "UPDATE sessions SET bound_tenant_id = '{other_tenant}' WHERE user_id = (SELECT id FROM users WHERE email = 'viewer@compiled.test')"
    ))
    .execute(&mut owner)
    .await
    .unwrap();
    let a = twice(&app, DASHBOARD, json!({}), &viewer, t, false).await;
    assert_eq!(a.code(), "FORBIDDEN");
    // A suspended tenant, a removed member, a session logged out.
    diesel::sql_query(format!(
        "DELETE FROM memberships WHERE user_id = '{billing_id}' AND tenant_id = '{tenant}'"
    ))
    .execute(&mut owner)
    .await
    .unwrap();
    let a = twice(
        &app,
        "{ tenant { id name } }",
        json!({}),
        &billing,
        t,
        false,
    )
    .await;
    assert_eq!(a.code(), "FORBIDDEN");
    diesel::sql_query(format!(
        "UPDATE tenants SET status = 'suspended', status_reason = 'unpaid' WHERE id = '{tenant}'"
    ))
    .execute(&mut owner)
    .await
    .unwrap();
    let a = twice(&app, DASHBOARD, json!({}), &owner_token, None, false).await;
    assert_eq!(a.code(), "FORBIDDEN");
    diesel::sql_query(format!("UPDATE tenants SET status = 'pending_deletion', purge_after = now() + interval '30 days' WHERE id = '{tenant}'"))
        .execute(&mut owner)
        .await
        .unwrap();
    twice(&app, DASHBOARD, json!({}), &owner_token, None, true).await;
    let out = ask(&app, "mutation { logOut }", json!({}), &owner_token, None).await;
    assert!(out.body.get("errors").is_none(), "{:?}", out.body);
    let a = twice(&app, DASHBOARD, json!({}), &owner_token, None, false).await;
    assert_eq!(a.code(), "UNAUTHENTICATED");
}

/// One statement per compiled dashboard read, at every page size; the
/// connection comes back with no tenant set.
#[tokio::test]
async fn a_compiled_read_is_one_statement_at_every_page_size() {
    let app = TestApp::spawn().await;
    let (token, _) = fixture(&app).await;
    let mut counts = Vec::new();
    for first in [1, 10, 50, 100] {
        let q = DASHBOARD.replace("first: 50", &format!("first: {first}"));
        ask(&app, &q, json!({}), &token, None).await;
        let before = app.state.db.statement_count();
        let a = ask(&app, &q, json!({}), &token, None).await;
        counts.push(app.state.db.statement_count() - before);
        assert!(a.body.get("errors").is_none());
        let n = a.body["data"]["tenant"]["members"]["edges"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(n, first.min(31));
    }
    assert_eq!(
        counts,
        vec![1; 4],
        "statements per page size 1, 10, 50, 100"
    );
    assert_eq!(
        app.state
            .db
            .unscoped_setting("app.tenant_id")
            .await
            .unwrap(),
        ""
    );
    assert_eq!(
        app.state.db.unscoped_setting("app.user_id").await.unwrap(),
        ""
    );
}

/// Only a signed-in member's request teaches a plan (an API key's never);
/// a document with several operations never compiles; GET answers as POST;
/// a named operation sent without its name keeps the selection order.
#[tokio::test]
async fn who_teaches_and_what_compiles() {
    let app = TestApp::spawn().await;
    let (token, _) = fixture(&app).await;
    let key = ask(
        &app,
        "mutation { createApiKey(input: {name: \"k\", scopes: [TENANT_READ, KEYS_READ]}) { secret } }",
        json!({}),
        &token,
        None,
    )
    .await;
    let secret = key.body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", key.body))
        .to_owned();
    let q = "{ tenant { slug apiKeys(first: 3) { nodes { name } } } }";
    for _ in 0..3 {
        let a = ask(&app, q, json!({}), &secret, None).await;
        assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    }
    let (answered, _) = app.state.compiled.counts();
    ask(&app, q, json!({}), &token, None).await;
    assert_eq!(
        app.state.compiled.counts().0,
        answered,
        "a key taught nothing"
    );
    // That request taught it: both of these are compiled answers.
    twice(&app, q, json!({}), &token, None, true).await;
    // The key itself is never answered by a plan.
    ask(&app, q, json!({}), &secret, None).await;
    assert_eq!(app.state.compiled.counts().0, answered + 2);
    // Several operations: the executor judges them all.
    let multi = "query A { tenant { id } } query B($n: Int!) { tenant { members(first: $n) { nodes { role } } } }";
    let run = |vars: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            let req = app
                .client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(
                    json!({ "query": multi, "operationName": "A", "variables": vars }).to_string(),
                );
            app.send(req).await
        }
    };
    let (before, _) = app.state.compiled.counts();
    assert!(run(json!({ "n": 1 })).await.body.get("errors").is_none());
    assert!(run(json!({ "n": 1 })).await.body.get("errors").is_none());
    let missing = run(json!({})).await;
    assert!(missing.body.get("errors").is_some(), "{:?}", missing.body);
    assert_eq!(app.state.compiled.counts().0, before);
    // One named operation without its name: selection order, both ways.
    let named = "query Q { tenant { apiKeys(first: 1) { nodes { id } } name memberCount } }";
    let a = twice(&app, named, json!({}), &token, None, true).await;
    let keys: Vec<&String> = a.body["data"]["tenant"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["apiKeys", "name", "memberCount"]);
    // GET: the same bytes as POST.
    let (n, _) = app.state.compiled.counts();
    let get = app
        .client
        .get(format!("{}/graphql", app.url))
        .query(&[("query", named)])
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let body: Value = serde_json::from_str(&get.text().await.unwrap()).unwrap();
    assert_eq!(app.state.compiled.counts().0, n + 1);
    assert_eq!(body.to_string(), a.body.to_string());
}

/// The statement sets the tenant in an outer row and reads each list in a
/// correlated subquery after it: a partitioned table would be pruned at
/// executor start-up, before the tenant is set. None of them may be.
#[tokio::test]
async fn the_tables_a_compiled_read_reads_are_not_partitioned() {
    let db = crate::support::TestDb::create().await;
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM pg_class WHERE relname IN \
             ('users', 'sessions', 'memberships', 'tenants', 'api_keys') AND relkind = 'r'"
        )
        .await,
        5
    );
}
