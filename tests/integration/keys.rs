//! API keys: their format and storage (no secret at rest), checksum refusal
//! without a lookup, the hot path without SQL, scopes, expiry, rotation,
//! revocation and changes across instances, rate limits under concurrency,
//! idempotent usage, tenant isolation, last use and input validation.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenantgate::usage::limits::Limiter;

use crate::support::{Answer, TestApp};

pub(crate) const CREATE: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id name displayPrefix state scopes environment } } }";
pub(crate) const ROTATE: &str = "mutation($id: ID!, $g: Int!) { rotateApiKey(id: $id, gracePeriodSeconds: $g) { secret apiKey { id state displayPrefix rotationEndsAt } } }";
pub(crate) const REVOKE: &str = "mutation($id: ID!) { revokeApiKey(id: $id) { id state } }";
pub(crate) const UPDATE: &str = "mutation($i: UpdateApiKeyInput!) { updateApiKey(input: $i) { id scopes rateLimit { limit } } }";
const LIST: &str = "{ tenant { apiKeys { edges { node { id name displayPrefix state scopes environment lastUsedAt } } } } }";
const MEMBERS: &str = "{ tenant { members { edges { node { role } } } } }";

/// Creates a key as `token` from `input` (`name` defaults to "k"); returns (id, secret).
pub(crate) async fn create_key(app: &TestApp, token: &str, mut input: Value) -> (String, String) {
    if input.get("name").is_none() {
        input["name"] = json!("k");
    }
    let a = app.gql(CREATE, json!({ "i": input }), Some(token)).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let p = &a.body["data"]["createApiKey"];
    (
        p["apiKey"]["id"].as_str().unwrap().to_owned(),
        p["secret"].as_str().unwrap().to_owned(),
    )
}

/// `POST /v1/authorize` with `secret` and a JSON body.
pub(crate) async fn v1(app: &TestApp, secret: &str, body: Value) -> Answer {
    let req = app
        .client
        .post(format!("{}/v1/authorize", app.url))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {secret}"))
        .body(body.to_string());
    app.send(req).await
}

/// POSTs a GraphQL operation with extra headers.
async fn gql_with(app: &TestApp, query: &str, token: &str, headers: &[(&str, &str)]) -> Answer {
    app.gql_headers(query, json!({}), token, headers).await
}

/// Waits until the instance's LISTEN connection is up (its key cache caches).
pub(crate) async fn wait_live(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(5);
    // Every cache the hot path reads drops its copy when it goes live: wait
    // for all of them, or a late one reloads during a measured run.
    while !(app.state.api_keys.is_live()
        && app.state.plans.is_live()
        && app.state.usage.metrics().is_live())
    {
        assert!(Instant::now() < deadline, "the caches never went live");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until nothing runs SQL in the background (e.g. mail after sign-up).
async fn quiet(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let before = app.state.db.statement_count();
        tokio::time::sleep(Duration::from_millis(60)).await;
        if app.state.db.statement_count() == before || Instant::now() > deadline {
            return;
        }
    }
}

pub(crate) fn header<'a>(a: &'a Answer, name: &str) -> &'a str {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub(crate) fn assert_ok(a: &Answer, what: &str) {
    assert_eq!(a.status, 200, "{what}: {:?}", a.body);
    assert!(a.body.get("errors").is_none(), "{what}: {:?}", a.body);
}

pub(crate) fn assert_code(a: &Answer, code: &str, what: &str) {
    assert_eq!(a.code(), code, "{what}: {} {:?}", a.status, a.body);
}

#[tokio::test]
async fn created_secret_is_shown_once_and_never_stored() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("store@example.com", "Store").await;
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "name": "ci", "scopes": ["TENANT_READ", "KEYS_READ", "USAGE_WRITE"] } }),
            Some(&owner),
        )
        .await;
    assert_ok(&a, "create");
    let p = &a.body["data"]["createApiKey"];
    let secret = p["secret"].as_str().unwrap().to_owned();
    let id = p["apiKey"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tg_live_"), "{secret}");
    assert_eq!(secret.len(), 8 + 40, "{secret}");
    assert!(secret[8..].bytes().all(|b| b.is_ascii_alphanumeric()));
    let prefix = p["apiKey"]["displayPrefix"].as_str().unwrap();
    assert_eq!(prefix, &secret[..14]);
    assert_eq!(p["apiKey"]["state"], "ACTIVE");
    assert_eq!(p["apiKey"]["environment"], "LIVE");
    assert_eq!(
        p["apiKey"]["scopes"],
        json!(["TENANT_READ", "KEYS_READ", "USAGE_WRITE"])
    );

    // Listed without its secret (as owner and as the key itself).
    for token in [owner.as_str(), secret.as_str()] {
        let l = app.gql(LIST, json!({}), Some(token)).await;
        assert_ok(&l, "list");
        let edges = l.body["data"]["tenant"]["apiKeys"]["edges"]
            .as_array()
            .unwrap();
        assert_eq!(edges.len(), 1);
        let node = &edges[0]["node"];
        assert_eq!(node["id"], id.as_str());
        assert_eq!(node["name"], "ci");
        assert_eq!(node["displayPrefix"], prefix);
        assert!(!l.body.to_string().contains(&secret[14..]), "{:?}", l.body);
    }

    // Use it so that usage and last use are written too.
    let u = v1(&app, &secret, json!({ "metric": "api_calls" })).await;
    assert_eq!(u.status, 200, "{:?}", u.body);
    app.state.usage.flush(&app.state.db).await.unwrap();
    app.state
        .api_keys
        .flush_last_used(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'"
            ))
            .await,
        1
    );

    // No table holds the secret or its random part (base62: safe to inline).
    for needle in [&secret[..], &secret[14..]] {
        for table in ["api_keys", "api_key_hashes", "audit_log", "usage_events"] {
            let n = app
                .db
                .count(&format!(
                    "SELECT count(*) AS n FROM {table} t WHERE t::text LIKE '%{needle}%'"
                ))
                .await;
            assert_eq!(n, 0, "{table} holds {needle}");
        }
        let raw = app
            .db
            .count(&format!(
                "SELECT count(*) AS n FROM api_keys WHERE position(convert_to('{needle}', 'UTF8') in secret_hash) > 0
                    OR position(convert_to('{needle}', 'UTF8') in coalesce(previous_hash, ''::bytea)) > 0"
            ))
            .await;
        assert_eq!(raw, 0, "a hash column holds {needle}");
    }
    // The audit trail names the key by its display prefix.
    assert!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log t WHERE t::text LIKE '%{prefix}%'"
            ))
            .await
            >= 1
    );
}

#[tokio::test]
async fn a_mistyped_key_is_refused_without_a_lookup() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("typo@example.com", "Typo").await;
    let (_, secret) = create_key(&app, &owner, json!({ "scopes": ["TENANT_READ"] })).await;
    let mut typo = secret.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    // Also a truncated one, and one of the other environment.
    let truncated = secret[..secret.len() - 1].to_owned();
    let swapped = secret.replacen("tg_live_", "tg_test_", 1);
    quiet(&app).await;
    for bad in [&typo, &truncated, &swapped] {
        let before = app.state.db.statement_count();
        let a = app.gql("{ tenant { name } }", json!({}), Some(bad)).await;
        assert_eq!(a.status, 401, "{:?}", a.body);
        assert_code(&a, "UNAUTHENTICATED", "graphql");
        assert!(
            a.content_type()
                .starts_with("application/graphql-response+json"),
            "{}",
            a.content_type()
        );
        let j = v1(&app, bad, json!({})).await;
        assert_eq!(j.status, 401, "{:?}", j.body);
        assert_eq!(j.body["allowed"], false);
        assert_eq!(j.body["error"]["code"], "UNAUTHENTICATED");
        assert_eq!(
            app.state.db.statement_count() - before,
            0,
            "a malformed key was looked up"
        );
    }
    // The real key still works (so the statement count above was meaningful).
    let before = app.state.db.statement_count();
    assert_ok(
        &app.gql("{ tenant { name } }", json!({}), Some(&secret))
            .await,
        "good key",
    );
    assert!(app.state.db.statement_count() > before);
}

#[tokio::test]
async fn the_hot_path_runs_no_sql() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("hot@example.com", "Hot").await;
    let (_, secret) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    wait_live(&app).await;
    let warm = v1(&app, &secret, json!({ "metric": "api_calls" })).await;
    assert_eq!(warm.status, 200, "{:?}", warm.body);
    assert_eq!(warm.body["recorded"], true);
    quiet(&app).await;
    let reloads = || app.state.plans.loads() + app.state.usage.metrics().loads();
    let (before, reloads_before) = (app.state.db.statement_count(), reloads());
    let (hits_before, _) = app.state.api_keys.stats();
    for _ in 0..50 {
        let a = v1(&app, &secret, json!({ "metric": "api_calls" })).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    let statements = app.state.db.statement_count() - before;
    let (hits_after, _) = app.state.api_keys.stats();
    // Under load a late heartbeat can make a catalogue drop its copy (it may
    // have missed a change) and read it again: three statements each, the
    // catalogue's, not the hot path's.
    let reloaded = reloads() - reloads_before;
    assert_eq!(
        statements,
        3 * reloaded,
        "the hot path ran SQL ({reloaded} catalogue reloads)"
    );
    assert_eq!(hits_after - hits_before, 50);
    assert_eq!(app.state.usage.pending(), 51);
    // `authorize` over GraphQL runs no SQL either.
    let before = app.state.db.statement_count();
    for _ in 0..5 {
        let a = app
            .gql(
                "mutation { authorize(input: { metric: \"api_calls\" }) { allowed recorded } }",
                json!({}),
                Some(&secret),
            )
            .await;
        assert_ok(&a, "graphql authorize");
        assert_eq!(a.body["data"]["authorize"]["recorded"], true);
    }
    assert_eq!(
        app.state.db.statement_count() - before,
        0,
        "graphql authorize ran SQL"
    );
    assert_eq!(app.state.usage.flush(&app.state.db).await.unwrap(), 56);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}' AND metric = 'api_calls' AND environment = 'live'"
            ))
            .await,
        56
    );
}

#[tokio::test]
async fn scopes_guard_fields_and_keys_never_reach_beyond_their_own() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("scopes@example.com", "Scopes").await;
    let (_, read) = create_key(&app, &owner, json!({ "scopes": ["TENANT_READ"] })).await;
    let (_, members) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["MEMBERS_READ", "TENANT_READ"] }),
    )
    .await;
    let (_, no_tenant) = create_key(&app, &owner, json!({ "scopes": ["MEMBERS_READ"] })).await;
    let all = [
        "TENANT_READ",
        "MEMBERS_READ",
        "KEYS_READ",
        "KEYS_WRITE",
        "AUDIT_READ",
        "BILLING_READ",
        "USAGE_READ",
        "USAGE_WRITE",
    ];
    let (_, full) = create_key(&app, &owner, json!({ "scopes": all })).await;

    let a = app.gql("{ tenant { name } }", json!({}), Some(&read)).await;
    assert_ok(&a, "tenant:read reads the tenant");
    assert_eq!(a.body["data"]["tenant"]["name"], "Scopes");
    for q in [
        MEMBERS,
        "{ tenant { auditLog { edges { node { action } } } } }",
        "{ tenant { apiKeys { edges { node { id } } } } }",
    ] {
        let a = app.gql(q, json!({}), Some(&read)).await;
        assert_code(&a, "FORBIDDEN", q);
    }
    let a = app.gql(MEMBERS, json!({}), Some(&members)).await;
    assert_ok(&a, "members:read");
    assert_eq!(
        a.body["data"]["tenant"]["members"]["edges"][0]["node"]["role"],
        "OWNER"
    );
    let a = app
        .gql("{ tenant { name } }", json!({}), Some(&no_tenant))
        .await;
    assert_code(&a, "FORBIDDEN", "without tenant:read");

    // Session-only operations refuse keys, whatever their scopes.
    for q in [
        "mutation { logOutEverywhere }".to_owned(),
        "mutation { logOut }".to_owned(),
        format!("mutation {{ switchTenant(tenantId: \"{tenant}\") {{ accessToken }} }}"),
        "mutation { inviteMember(input: { email: \"x@example.com\", role: MEMBER }) { id } }"
            .to_owned(),
    ] {
        let a = app.gql(&q, json!({}), Some(&full)).await;
        assert_code(&a, "FORBIDDEN", &q);
    }
    let a = app
        .gql("{ viewer { user { email } } }", json!({}), Some(&full))
        .await;
    assert_ok(&a, "viewer");
    assert!(a.body["data"]["viewer"].is_null(), "{:?}", a.body);

    // keys:write grants a subset of its own scopes, in its own environment.
    let (_, writer) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["KEYS_WRITE", "KEYS_READ", "TENANT_READ"] }),
    )
    .await;
    let (_, sub) = create_key(&app, &writer, json!({ "scopes": ["TENANT_READ"] })).await;
    assert_ok(
        &app.gql("{ tenant { name } }", json!({}), Some(&sub)).await,
        "a key made by a key",
    );
    for (input, what) in [
        (
            json!({ "name": "up", "scopes": ["TENANT_READ", "MEMBERS_READ"] }),
            "superset",
        ),
        (
            json!({ "name": "env", "scopes": ["TENANT_READ"], "environment": "TEST" }),
            "other environment",
        ),
    ] {
        let a = app.gql(CREATE, json!({ "i": input }), Some(&writer)).await;
        assert_code(&a, "FORBIDDEN", what);
    }
    let (_, test_writer) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["KEYS_WRITE", "TENANT_READ"], "environment": "TEST" }),
    )
    .await;
    assert!(test_writer.starts_with("tg_test_"));
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "name": "live", "scopes": ["TENANT_READ"], "environment": "LIVE" } }),
            Some(&test_writer),
        )
        .await;
    assert_code(&a, "FORBIDDEN", "a test key creating a live key");
    let (_, test_sub) = create_key(
        &app,
        &test_writer,
        json!({ "scopes": ["TENANT_READ"], "environment": "TEST" }),
    )
    .await;
    assert!(test_sub.starts_with("tg_test_"));
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("expiry@example.com", "Expiry").await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (id, secret) = create_key(&app, &owner, json!({ "expiresAt": at })).await;
    wait_live(&app).await;
    let a = v1(&app, &secret, json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let a = v1(&app, &secret, json!({})).await;
    assert_eq!(a.status, 401, "{:?}", a.body);
    assert_eq!(a.body["error"]["code"], "UNAUTHENTICATED");
    let l = app.gql(LIST, json!({}), Some(&owner)).await;
    let node = &l.body["data"]["tenant"]["apiKeys"]["edges"][0]["node"];
    assert_eq!(node["id"], id.as_str());
    assert_eq!(node["state"], "EXPIRED");
}

#[tokio::test]
async fn rotation_keeps_the_old_secret_for_the_grace_period_only() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("rotate@example.com", "Rotate").await;
    let (id, old) = create_key(&app, &owner, json!({})).await;
    let (id0, old0) = create_key(&app, &owner, json!({})).await;
    wait_live(&app).await;
    for s in [&old, &old0] {
        assert_eq!(v1(&app, s, json!({})).await.status, 200);
    }

    // No grace: the old secret stops at once (it was cached).
    let r = app
        .gql(ROTATE, json!({ "id": id0, "g": 0 }), Some(&owner))
        .await;
    assert_ok(&r, "rotate without grace");
    let new0 = r.body["data"]["rotateApiKey"]["secret"].as_str().unwrap();
    assert_eq!(r.body["data"]["rotateApiKey"]["apiKey"]["state"], "ACTIVE");
    assert_eq!(v1(&app, &old0, json!({})).await.status, 401);
    assert_eq!(v1(&app, new0, json!({})).await.status, 200);

    let r = app
        .gql(ROTATE, json!({ "id": id, "g": 2 }), Some(&owner))
        .await;
    assert_ok(&r, "rotate");
    let p = &r.body["data"]["rotateApiKey"];
    let new = p["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(p["apiKey"]["id"], id.as_str());
    assert_eq!(p["apiKey"]["state"], "ROTATING");
    assert!(p["apiKey"]["rotationEndsAt"].is_string(), "{:?}", r.body);
    assert_eq!(p["apiKey"]["displayPrefix"], &new[..14]);
    let a = v1(&app, &new, json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["keyId"], id.as_str());
    let a = v1(&app, &old, json!({})).await;
    assert_eq!(
        a.status, 200,
        "old secret in its grace period: {:?}",
        a.body
    );
    assert_eq!(a.body["keyId"], id.as_str());

    // Revoking a rotating key ends both secrets at once.
    let (id2, old2) = create_key(&app, &owner, json!({})).await;
    let r = app
        .gql(ROTATE, json!({ "id": id2, "g": 3600 }), Some(&owner))
        .await;
    assert_ok(&r, "rotate with a long grace");
    let new2 = r.body["data"]["rotateApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    for s in [&old2, &new2] {
        assert_eq!(v1(&app, s, json!({})).await.status, 200);
    }
    let r = app.gql(REVOKE, json!({ "id": id2 }), Some(&owner)).await;
    assert_ok(&r, "revoke while rotating");
    for s in [&old2, &new2] {
        assert_eq!(v1(&app, s, json!({})).await.status, 401);
    }

    tokio::time::sleep(Duration::from_millis(2300)).await;
    let a = v1(&app, &old, json!({})).await;
    assert_eq!(a.status, 401, "old secret after the grace: {:?}", a.body);
    assert_eq!(v1(&app, &new, json!({})).await.status, 200);
}

#[tokio::test]
async fn revocation_and_changes_reach_another_instance_at_once() {
    let app = TestApp::spawn().await;
    let b = app.peer(Limiter::local()).await;
    let (owner, _, _) = app.sign_up("revoke@example.com", "Revoke").await;
    wait_live(&app).await;
    wait_live(&b).await;

    let mut times = Vec::new();
    for _ in 0..20 {
        let (id, secret) = create_key(&app, &owner, json!({})).await;
        for _ in 0..2 {
            let w = v1(&b, &secret, json!({})).await;
            assert_eq!(w.status, 200, "{:?}", w.body);
        }
        let r = app.gql(REVOKE, json!({ "id": id }), Some(&owner)).await;
        assert_ok(&r, "revoke");
        assert_eq!(r.body["data"]["revokeApiKey"]["state"], "REVOKED");
        let revoked = Instant::now();
        loop {
            let a = v1(&b, &secret, json!({})).await;
            if a.status == 401 {
                break;
            }
            assert_eq!(a.status, 200, "{:?}", a.body);
            assert!(
                revoked.elapsed() < Duration::from_secs(2),
                "the revocation never reached the other instance"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        times.push(revoked.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "revocation reached the peer: min {:.2} ms, p50 {:.2} ms, p99 (max of 20) {:.2} ms",
        ms(times[0]),
        ms(times[10]),
        ms(times[19])
    );
    assert!(
        times[19] < Duration::from_millis(100),
        "p99 {:?}",
        times[19]
    );

    // A change of scopes reaches the peer too.
    let (id, secret) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["TENANT_READ", "MEMBERS_READ"] }),
    )
    .await;
    assert_ok(&b.gql(MEMBERS, json!({}), Some(&secret)).await, "before");
    assert_ok(&b.gql(MEMBERS, json!({}), Some(&secret)).await, "cached");
    let u = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "scopes": ["TENANT_READ"] } }),
            Some(&owner),
        )
        .await;
    assert_ok(&u, "update");
    let changed = Instant::now();
    loop {
        let a = b.gql(MEMBERS, json!({}), Some(&secret)).await;
        if a.code() == "FORBIDDEN" {
            break;
        }
        assert_ok(&a, "still allowed");
        assert!(
            changed.elapsed() < Duration::from_secs(2),
            "the new scopes never reached the other instance"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "scope change reached the peer in {:.2} ms",
        ms(changed.elapsed())
    );
    assert_ok(
        &b.gql("{ tenant { name } }", json!({}), Some(&secret)).await,
        "remaining scope",
    );
}

#[tokio::test]
async fn rate_limits_hold_under_concurrency() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("limits@example.com", "Limits").await;
    let (_, secret) = create_key(
        &app,
        &owner,
        json!({ "scopes": ["TENANT_READ", "USAGE_WRITE"], "rateLimit": { "limit": 20, "periodSeconds": 3600 } }),
    )
    .await;
    wait_live(&app).await;
    let answers = futures_util::future::join_all(
        (0..30).map(|_| v1(&app, &secret, json!({ "metric": "api_calls" }))),
    )
    .await;
    let ok: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    let limited: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!(ok.len(), 20, "{answers:?}");
    assert_eq!(limited.len(), 10, "{answers:?}");
    let mut remaining: Vec<u32> = Vec::new();
    for a in &ok {
        assert_eq!(a.body["allowed"], true);
        assert_eq!(header(a, "ratelimit-limit"), "20");
        assert_eq!(header(a, "ratelimit-policy"), "20;w=3600");
        assert!(!header(a, "ratelimit-reset").is_empty(), "{a:?}");
        remaining.push(header(a, "ratelimit-remaining").parse().unwrap());
    }
    remaining.sort_unstable();
    assert_eq!(remaining, (0..20).collect::<Vec<u32>>());
    for a in &limited {
        assert_eq!(a.body["allowed"], false, "{:?}", a.body);
        assert_eq!(a.body["reason"], "KEY_RATE_LIMITED", "{:?}", a.body);
        assert_eq!(a.body["recorded"], false);
        let retry: u64 = header(a, "retry-after").parse().unwrap();
        assert!(retry >= 1, "{a:?}");
        assert_eq!(header(a, "ratelimit-remaining"), "0");
    }
    assert_eq!(app.state.usage.pending(), 20);

    // Limited: other operations run nothing; `authorize` answers the refusal.
    let a = app
        .gql("{ tenant { name } }", json!({}), Some(&secret))
        .await;
    assert_eq!(a.status, 429, "{:?}", a.body);
    assert_code(&a, "RATE_LIMITED", "graphql query");
    assert!(
        a.body["errors"][0]["extensions"]["retryAfter"].as_u64() >= Some(1),
        "{:?}",
        a.body
    );
    assert!(!header(&a, "retry-after").is_empty(), "{a:?}");
    let a = app
        .gql(
            "mutation { authorize { allowed reason retryAfter recorded } }",
            json!({}),
            Some(&secret),
        )
        .await;
    assert_ok(&a, "authorize when limited");
    let r = &a.body["data"]["authorize"];
    assert_eq!(r["allowed"], false);
    assert_eq!(r["reason"], "KEY_RATE_LIMITED");
    assert!(r["retryAfter"].as_i64() >= Some(1), "{:?}", a.body);
}

#[tokio::test]
async fn idempotency_keys_record_once_per_mode() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("idem@example.com", "Idem").await;
    let (_, live) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    let (test_id, test) = create_key(
        &app,
        &owner,
        json!({ "environment": "TEST", "scopes": ["USAGE_WRITE"] }),
    )
    .await;
    let body = json!({ "metric": "api_calls", "quantity": 3, "idempotencyKey": "req-1" });
    let first = v1(&app, &live, body.clone()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["recorded"], true);
    assert_eq!(first.body["duplicate"], false);
    let second = v1(&app, &live, body.clone()).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["recorded"], false);
    assert_eq!(second.body["duplicate"], true);
    // The same idempotency key in test mode is another event.
    let t = v1(&app, &test, body.clone()).await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    assert_eq!(t.body["environment"], "test");
    assert_eq!(t.body["recorded"], true);
    assert_eq!(t.body["duplicate"], false);
    // GraphQL sees the same duplicate.
    let g = app
        .gql(
            "mutation { authorize(input: { metric: \"api_calls\", quantity: 3, idempotencyKey: \"req-1\" }) { recorded duplicate environment } }",
            json!({}),
            Some(&test),
        )
        .await;
    assert_ok(&g, "graphql authorize");
    assert_eq!(g.body["data"]["authorize"]["duplicate"], true);
    assert_eq!(g.body["data"]["authorize"]["recorded"], false);
    assert_eq!(g.body["data"]["authorize"]["environment"], "TEST");

    // Another instance (its own in-memory memory of idempotency keys) records
    // the same key again; the database keeps one.
    let peer = app.peer(Limiter::local()).await;
    let p = v1(&peer, &live, body.clone()).await;
    assert_eq!(p.status, 200, "{:?}", p.body);
    peer.state.usage.flush(&peer.state.db).await.unwrap();
    drop(peer);

    app.state.usage.flush(&app.state.db).await.unwrap();
    let count = |env: &str| {
        format!(
            "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}' AND environment = '{env}' AND idempotency_key = 'req-1' AND quantity = 3"
        )
    };
    assert_eq!(app.db.count(&count("live")).await, 1);
    assert_eq!(app.db.count(&count("test")).await, 1);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM usage_events WHERE environment = 'test' AND api_key_id = '{test_id}'"
            ))
            .await,
        1
    );
}

#[tokio::test]
async fn keys_stay_in_their_own_tenant() {
    let app = TestApp::spawn().await;
    let (a_owner, _, a_tenant) = app.sign_up("alpha@example.com", "Alpha Corp").await;
    let (b_owner, _, b_tenant) = app.sign_up("beta@example.com", "Beta Corp").await;
    let all = [
        "TENANT_READ",
        "MEMBERS_READ",
        "KEYS_READ",
        "KEYS_WRITE",
        "AUDIT_READ",
        "BILLING_READ",
        "USAGE_READ",
        "USAGE_WRITE",
    ];
    let (a_id, a_key) = create_key(&app, &a_owner, json!({ "scopes": all })).await;
    let (b_id, b_key) = create_key(&app, &b_owner, json!({ "scopes": all })).await;

    let q = "{ tenant { id name slug members { edges { node { user { email } } } } apiKeys { edges { node { id } } } auditLog { edges { node { action } } } } }";
    let a = app.gql(q, json!({}), Some(&a_key)).await;
    assert_ok(&a, "own tenant");
    assert_eq!(a.body["data"]["tenant"]["id"], a_tenant.as_str());
    let text = a.body.to_string();
    for leak in ["Beta", "beta", b_id.as_str(), b_tenant.as_str()] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    let a = gql_with(
        &app,
        "{ tenant { name } }",
        &a_key,
        &[("x-tenant-id", &b_tenant)],
    )
    .await;
    assert_code(&a, "FORBIDDEN", "X-Tenant-ID of another tenant");
    assert!(!a.body.to_string().contains("Beta"));
    let a = gql_with(
        &app,
        "{ tenant { name } }",
        &a_key,
        &[("x-tenant-id", &a_tenant)],
    )
    .await;
    assert_ok(&a, "X-Tenant-ID of its own tenant");

    // Another tenant's key id is unknown, to its keys and to its owner.
    for token in [a_key.as_str(), a_owner.as_str()] {
        let r = app.gql(REVOKE, json!({ "id": b_id }), Some(token)).await;
        assert_code(&r, "NOT_FOUND", "revoke");
        let r = app
            .gql(
                UPDATE,
                json!({ "i": { "id": b_id, "scopes": [] } }),
                Some(token),
            )
            .await;
        assert_code(&r, "NOT_FOUND", "update");
        let r = app
            .gql(ROTATE, json!({ "id": b_id, "g": 0 }), Some(token))
            .await;
        assert_code(&r, "NOT_FOUND", "rotate");
    }
    let b = v1(&app, &b_key, json!({})).await;
    assert_eq!(b.status, 200, "{:?}", b.body);
    assert_eq!(b.body["tenant"]["id"], b_tenant.as_str());
    let b = app.gql(LIST, json!({}), Some(&b_owner)).await;
    assert_ok(&b, "b lists its keys");
    let edges = b.body["data"]["tenant"]["apiKeys"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], b_id.as_str());
    assert!(!b.body.to_string().contains(&a_id));
    // B's owner cannot act in A.
    let b = gql_with(&app, LIST, &b_owner, &[("x-tenant-id", &a_tenant)]).await;
    assert_ne!(b.code(), "<none>", "{:?}", b.body);
    assert!(!b.body.to_string().contains(&a_id));
}

#[tokio::test]
async fn last_use_is_shown_at_once_and_written_in_batches() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("lastuse@example.com", "Last Use").await;
    let (id, secret) = create_key(&app, &owner, json!({})).await;
    let l = app.gql(LIST, json!({}), Some(&owner)).await;
    assert!(
        l.body["data"]["tenant"]["apiKeys"]["edges"][0]["node"]["lastUsedAt"].is_null(),
        "{:?}",
        l.body
    );
    assert_eq!(v1(&app, &secret, json!({})).await.status, 200);
    let l = app.gql(LIST, json!({}), Some(&owner)).await;
    let node = &l.body["data"]["tenant"]["apiKeys"]["edges"][0]["node"];
    assert_eq!(node["id"], id.as_str());
    assert!(node["lastUsedAt"].is_string(), "{:?}", l.body);
    let written = format!(
        "SELECT count(*) AS n FROM api_keys WHERE id = '{id}' AND last_used_at IS NOT NULL"
    );
    assert_eq!(app.db.count(&written).await, 0);
    assert_eq!(
        app.state
            .api_keys
            .flush_last_used(&app.state.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.db.count(&written).await, 1);
}

#[tokio::test]
async fn bad_input_is_refused() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("input@example.com", "Input").await;
    let past = (chrono::Utc::now() - chrono::Duration::seconds(60)).to_rfc3339();
    for (input, what) in [
        (json!({ "name": "" }), "empty name"),
        (json!({ "name": "   " }), "blank name"),
        (json!({ "name": "x".repeat(101) }), "long name"),
        (
            json!({ "name": "k", "rateLimit": { "limit": 0, "periodSeconds": 60 } }),
            "limit 0",
        ),
        (
            json!({ "name": "k", "rateLimit": { "limit": 10, "periodSeconds": 86401 } }),
            "period past a day",
        ),
        (
            json!({ "name": "k", "expiresAt": past }),
            "expiry in the past",
        ),
    ] {
        let a = app.gql(CREATE, json!({ "i": input }), Some(&owner)).await;
        assert_code(&a, "BAD_USER_INPUT", what);
    }
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM api_keys WHERE tenant_id = '{tenant}'"
            ))
            .await,
        0
    );
    let (id, secret) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    let a = app
        .gql(
            "mutation { authorize(input: { metric: \"Bad Metric!\" }) { allowed } }",
            json!({}),
            Some(&secret),
        )
        .await;
    assert_code(&a, "BAD_USER_INPUT", "bad metric");
    let r = app
        .gql(ROTATE, json!({ "id": id, "g": -1 }), Some(&owner))
        .await;
    assert_code(&r, "BAD_USER_INPUT", "negative grace");
    for body in [
        json!({ "metric": "api_calls", "quantity": 0 }),
        json!({ "metric": "Bad Metric!" }),
        json!({ "idempotencyKey": "x" }),
        json!({ "nope": 1 }),
    ] {
        let a = v1(&app, &secret, body.clone()).await;
        assert_eq!(a.status, 400, "{body}: {:?}", a.body);
        assert_eq!(a.body["allowed"], false);
        assert_eq!(a.body["error"]["code"], "BAD_USER_INPUT", "{body}");
    }
    // Both headers at once.
    let req = app
        .client
        .post(format!("{}/v1/authorize", app.url))
        .header("authorization", format!("Bearer {secret}"))
        .header("x-api-key", &secret);
    assert_eq!(app.send(req).await.status, 400);
    // X-API-Key alone works; no key at all is 401.
    let req = app
        .client
        .post(format!("{}/v1/authorize", app.url))
        .header("x-api-key", &secret);
    assert_eq!(app.send(req).await.status, 200);
    let req = app.client.post(format!("{}/v1/authorize", app.url));
    assert_eq!(app.send(req).await.status, 401);
    app.state.usage.flush(&app.state.db).await.unwrap();
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'"
            ))
            .await,
        0
    );
}

#[tokio::test]
async fn a_key_cannot_lift_a_rate_limit() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("limits.owner@keys.test", "Limits Co").await;
    let (id, secret) = create_key(
        &app,
        &owner,
        json!({ "name": "writer", "scopes": ["KEYS_WRITE", "KEYS_READ"], "rateLimit": { "limit": 5, "periodSeconds": 60 } }),
    )
    .await;
    for rate in [json!(null), json!({ "limit": 1000, "periodSeconds": 60 })] {
        let a = app
            .gql(
                UPDATE,
                json!({ "i": { "id": id, "rateLimit": rate } }),
                Some(&secret),
            )
            .await;
        assert_code(&a, "FORBIDDEN", "a key changing its own rate limit");
    }
    // Its name it may change; the limit stays what the admin set.
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "name": "renamed" } }),
            Some(&secret),
        )
        .await;
    assert_ok(&a, "a key renaming itself");
    assert_eq!(a.body["data"]["updateApiKey"]["rateLimit"]["limit"], 5);
}
