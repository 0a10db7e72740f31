//! Publishable keys and origins: the key's format and checksum, the origin
//! validation table, CORS answered per tenant (preflights and responses), the
//! check's quota answer, revocation and a removed origin reaching another
//! instance at once, the budgets, and cross-tenant refusals. What a
//! publishable key cannot reach and the leaked secret-key guard:
//! `publishable_reach.rs`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenantgate::usage::limits::Limiter;

use crate::keys::{assert_code, assert_ok, create_key, header, wait_live};
use crate::support::widget::{CREATE, SHOP, Widget};
pub(crate) use crate::support::widget::{add_origin, create_pk};
use crate::support::{Answer, TestApp};

const REVOKE: &str = "mutation($id: ID!) { revokePublishableKey(id: $id) { id revokedAt } }";
const REMOVE: &str = "mutation($o: String!) { removeAllowedOrigin(origin: $o) }";
const LIST: &str = "{ tenant { publishableKeys { id key revokedAt } allowedOrigins { origin } } }";

/// A call of `/v1/public/{key}/{op}` with `method` from `origin`.
pub(crate) async fn public(
    app: &TestApp,
    method: reqwest::Method,
    key: &str,
    op: &str,
    origin: Option<&str>,
) -> Answer {
    let mut req = app
        .client
        .request(method.clone(), format!("{}/v1/public/{key}/{op}", app.url));
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    if method == reqwest::Method::OPTIONS {
        req = req
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type");
    }
    if method == reqwest::Method::POST {
        req = req
            .header("content-type", "application/json")
            .body(json!({}).to_string());
    }
    app.send(req).await
}

pub(crate) fn acao(a: &Answer) -> &str {
    header(a, "access-control-allow-origin")
}

#[tokio::test]
async fn keys_have_a_checksum_are_shown_again_and_are_bounded() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("pk-format@example.com", "Format").await;
    let (id, live) = create_pk(&app, &owner, "LIVE").await;
    let (_, test) = create_pk(&app, &owner, "TEST").await;
    assert!(
        live.starts_with("tg_pk_live_") && live.len() == 51,
        "{live}"
    );
    assert!(
        test.starts_with("tg_pk_test_") && test.len() == 51,
        "{test}"
    );
    // Not a secret: shown again in the list (Stripe does the same).
    let l = app.gql(LIST, json!({}), Some(&owner)).await;
    assert_ok(&l, "list");
    let keys = l.body["data"]["tenant"]["publishableKeys"]
        .as_array()
        .unwrap();
    assert!(
        keys.iter()
            .any(|k| k["key"] == live.as_str() && k["id"] == id.as_str())
    );

    // A typo is refused before any lookup: no statement runs.
    add_origin(&app, &owner, "https://shop.example.com").await;
    wait_live(&app).await;
    let mut typo = live.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let before = app.state.db.statement_count();
    let a = public(
        &app,
        reqwest::Method::GET,
        &typo,
        "branding",
        Some("https://shop.example.com"),
    )
    .await;
    assert_eq!(a.status, 401, "{:?}", a.body);
    assert_code(&a, "UNAUTHENTICATED", "typo");
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("typos")
    );
    assert_eq!(app.state.db.statement_count(), before, "a typo ran SQL");
    // A secret key is not a publishable key either.
    let (_, secret) = create_key(&app, &owner, json!({})).await;
    let a = public(
        &app,
        reqwest::Method::GET,
        &secret,
        "branding",
        Some("https://shop.example.com"),
    )
    .await;
    assert_code(&a, "UNAUTHENTICATED", "secret as publishable");

    // Bad names; at most 10 that are not revoked.
    for bad in ["", "   ", &"n".repeat(101)] {
        let a = app
            .gql(CREATE, json!({ "i": { "name": bad } }), Some(&owner))
            .await;
        assert_code(&a, "BAD_USER_INPUT", "bad name");
    }
    for _ in 2..10 {
        create_pk(&app, &owner, "LIVE").await;
    }
    let a = app
        .gql(CREATE, json!({ "i": { "name": "eleventh" } }), Some(&owner))
        .await;
    assert_code(&a, "CONFLICT", "eleventh key");
    assert_ok(
        &app.gql(REVOKE, json!({ "id": id }), Some(&owner)).await,
        "revoke",
    );
    create_pk(&app, &owner, "LIVE").await;
    // Revoking twice is no error and no second audit entry.
    assert_ok(
        &app.gql(REVOKE, json!({ "id": id }), Some(&owner)).await,
        "again",
    );
    let n = app
        .db
        .count("SELECT count(*) AS n FROM audit_log WHERE action = 'publishable_key.revoke'")
        .await;
    assert_eq!(n, 1);
    let n = app
        .db
        .count("SELECT count(*) AS n FROM audit_log WHERE action = 'publishable_key.create'")
        .await;
    assert_eq!(n, 11);
}

#[tokio::test]
async fn origins_are_validated_normalised_bounded_and_audited() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("origins@example.com", "Origins").await;
    for (input, stored) in [
        ("https://App.Example.COM/", "https://app.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        (
            "https://shop.example.com:8443",
            "https://shop.example.com:8443",
        ),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://localhost:5173", "http://localhost:5173"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
    ] {
        let a = add_origin(&app, &owner, input).await;
        assert_ok(&a, input);
        assert_eq!(
            a.body["data"]["addAllowedOrigin"]["origin"], stored,
            "{input}"
        );
    }
    let before = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM allowed_origins WHERE tenant_id = '{tenant}'"
        ))
        .await;
    for bad in [
        "*",
        "https://*.example.com",
        "https://app.example.com/path",
        "https://app.example.com?x=1",
        "http://app.example.com",
        "ftp://app.example.com",
        "app.example.com",
        "https://user@app.example.com",
        "javascript:alert(1)",
        "",
    ] {
        let a = add_origin(&app, &owner, bad).await;
        assert_code(&a, "BAD_USER_INPUT", bad);
        assert_eq!(
            a.body["errors"][0]["extensions"]["field"], "origin",
            "{bad}"
        );
    }
    // Already there (as typed differently): CONFLICT.
    assert_code(
        &add_origin(&app, &owner, "HTTPS://APP.EXAMPLE.COM").await,
        "CONFLICT",
        "duplicate",
    );
    let after = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM allowed_origins WHERE tenant_id = '{tenant}'"
        ))
        .await;
    assert_eq!(before, after, "a refused origin changed the list");
    // Removing, as typed or normalised; NOT_FOUND when absent.
    let r = app
        .gql(
            REMOVE,
            json!({ "o": "https://APP.example.com" }),
            Some(&owner),
        )
        .await;
    assert_ok(&r, "remove");
    assert_eq!(
        r.body["data"]["removeAllowedOrigin"],
        "https://app.example.com"
    );
    assert_code(
        &app.gql(
            REMOVE,
            json!({ "o": "https://app.example.com" }),
            Some(&owner),
        )
        .await,
        "NOT_FOUND",
        "removed twice",
    );
    let audited = app
        .db
        .count("SELECT count(*) AS n FROM audit_log WHERE action IN ('allowed_origin.add', 'allowed_origin.remove')")
        .await;
    assert_eq!(audited, 7);
    // At most 50.
    for i in after..50 {
        assert_ok(
            &add_origin(&app, &owner, &format!("https://o{i}.example.com")).await,
            "fill",
        );
    }
    assert_ok(
        &add_origin(&app, &owner, "https://last.example.com").await,
        "fiftieth",
    );
    assert_code(
        &add_origin(&app, &owner, "https://too-many.example.com").await,
        "CONFLICT",
        "fifty-first",
    );
}

#[tokio::test]
async fn cors_is_answered_per_tenant() {
    let app = TestApp::spawn().await;
    let (a_owner, _, _) = app.sign_up("cors-a@example.com", "Cors A").await;
    let (b_owner, _, _) = app.sign_up("cors-b@example.com", "Cors B").await;
    let (_, a_key) = create_pk(&app, &a_owner, "LIVE").await;
    let (_, b_key) = create_pk(&app, &b_owner, "LIVE").await;
    assert_ok(
        &add_origin(&app, &a_owner, "https://a.example.com").await,
        "a origin",
    );
    assert_ok(
        &add_origin(&app, &b_owner, "https://b.example.com").await,
        "b origin",
    );
    use reqwest::Method;

    // A's origin, A's key: granted, preflight and response.
    let p = public(
        &app,
        Method::OPTIONS,
        &a_key,
        "check",
        Some("https://a.example.com"),
    )
    .await;
    assert_eq!(p.status, 204, "{:?}", p.body);
    assert_eq!(acao(&p), "https://a.example.com");
    assert_eq!(header(&p, "vary"), "Origin");
    assert!(header(&p, "access-control-allow-methods").contains("POST"));
    assert!(
        header(&p, "access-control-allow-headers")
            .to_lowercase()
            .contains("content-type")
    );
    assert_eq!(header(&p, "access-control-max-age"), "600");
    assert!(header(&p, "access-control-allow-credentials").is_empty());
    let c = public(
        &app,
        Method::POST,
        &a_key,
        "check",
        Some("https://a.example.com"),
    )
    .await;
    assert_eq!(c.status, 200, "{:?}", c.body);
    assert_eq!(acao(&c), "https://a.example.com");
    assert_eq!(header(&c, "vary"), "Origin");
    assert_eq!(c.body["allowed"], true);
    assert_eq!(c.body["reason"], "OK");
    assert_eq!(c.body["tenant"]["name"], "Cors A");
    // Nothing of the secret-key answer: no key id, scopes or tenant id.
    for field in ["keyId", "scopes", "remaining"] {
        assert!(c.body.get(field).is_none(), "{field} in {:?}", c.body);
    }
    assert!(c.body["tenant"].get("id").is_none());
    let b = public(
        &app,
        Method::GET,
        &a_key,
        "branding",
        Some("https://a.example.com"),
    )
    .await;
    assert_eq!(b.status, 200, "{:?}", b.body);
    assert_eq!(acao(&b), "https://a.example.com");
    assert_eq!(b.body["tenant"]["name"], "Cors A");
    assert!(
        b.body["branding"]
            .as_object()
            .unwrap()
            .contains_key("logoUrl")
    );

    // A's origin with B's key, B's origin with A's key, a stranger, no Origin,
    // an origin that only looks alike: 403, no CORS grant at all.
    for (key, origin) in [
        (&b_key, Some("https://a.example.com")),
        (&a_key, Some("https://b.example.com")),
        (&a_key, Some("https://evil.example")),
        (&a_key, Some("https://a.example.com.evil.example")),
        (&a_key, Some("http://a.example.com")),
        (&a_key, Some("null")),
        (&a_key, None),
    ] {
        for (method, op) in [
            (Method::OPTIONS, "check"),
            (Method::POST, "check"),
            (Method::GET, "branding"),
            (Method::OPTIONS, "branding"),
        ] {
            let r = public(&app, method.clone(), key, op, origin).await;
            assert_eq!(r.status, 403, "{method} {op} from {origin:?}: {:?}", r.body);
            assert_code(&r, "FORBIDDEN", "refused origin");
            assert!(acao(&r).is_empty(), "{origin:?} got a CORS grant");
            assert_eq!(header(&r, "vary"), "Origin");
        }
    }
    // The tenant suspended: the check says so (the page can read it).
    app.db
        .count("WITH v AS (UPDATE tenants SET status = 'suspended' WHERE name = 'Cors A' RETURNING 1) SELECT count(*) AS n FROM v")
        .await;
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let c = public(
            &app,
            Method::POST,
            &a_key,
            "check",
            Some("https://a.example.com"),
        )
        .await;
        if c.body["reason"] == "TENANT_INACTIVE" {
            assert_eq!(c.body["allowed"], false);
            assert_eq!(acao(&c), "https://a.example.com");
            let b = public(
                &app,
                Method::GET,
                &a_key,
                "branding",
                Some("https://a.example.com"),
            )
            .await;
            assert_eq!(b.status, 403, "{:?}", b.body);
            assert!(
                b.body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("suspended")
            );
            assert_eq!(acao(&b), "https://a.example.com");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the suspension never showed: {:?}",
            c.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn revocation_and_a_removed_origin_reach_another_instance_at_once() {
    let app = TestApp::spawn().await;
    let b = app.peer(Limiter::local()).await;
    let Widget {
        owner,
        key_id: id,
        key,
        ..
    } = app.widget("pk-peer@example.com", "Peer").await;
    wait_live(&app).await;
    wait_live(&b).await;
    let origin = SHOP;
    use reqwest::Method;
    let ok = |a: &Answer| a.status == 200;
    // Cached on the peer.
    for _ in 0..2 {
        assert!(ok(
            &public(&b, Method::GET, &key, "branding", Some(origin)).await
        ));
    }
    assert_ok(
        &app.gql(REMOVE, json!({ "o": origin }), Some(&owner)).await,
        "remove",
    );
    let at = Instant::now();
    loop {
        let a = public(&b, Method::GET, &key, "branding", Some(origin)).await;
        if a.status == 403 {
            assert!(acao(&a).is_empty());
            break;
        }
        assert!(
            at.elapsed() < Duration::from_secs(2),
            "the removal never reached the peer"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!("origin removal reached the peer in {:?}", at.elapsed());
    assert_ok(&add_origin(&app, &owner, origin).await, "origin again");
    let at = Instant::now();
    while public(&b, Method::GET, &key, "branding", Some(origin))
        .await
        .status
        != 200
    {
        assert!(
            at.elapsed() < Duration::from_secs(2),
            "the origin never came back"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_ok(
        &app.gql(REVOKE, json!({ "id": id }), Some(&owner)).await,
        "revoke",
    );
    let at = Instant::now();
    loop {
        let a = public(&b, Method::GET, &key, "branding", Some(origin)).await;
        if a.status == 401 {
            assert_code(&a, "UNAUTHENTICATED", "revoked");
            break;
        }
        assert!(
            at.elapsed() < Duration::from_secs(2),
            "the revocation never reached the peer"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!("revocation reached the peer in {:?}", at.elapsed());
    // A rename reaches the peer's branding too.
    let (_, key2) = create_pk(&app, &owner, "LIVE").await;
    let a = public(&b, Method::GET, &key2, "branding", Some(origin)).await;
    assert_eq!(a.body["tenant"]["name"], "Peer");
    assert_ok(
        &app.gql(
            "mutation { updateTenant(input: { name: \"Peer Two\" }) { name } }",
            json!({}),
            Some(&owner),
        )
        .await,
        "rename",
    );
    let at = Instant::now();
    while public(&b, Method::GET, &key2, "branding", Some(origin))
        .await
        .body["tenant"]["name"]
        != "Peer Two"
    {
        assert!(
            at.elapsed() < Duration::from_secs(2),
            "the rename never reached the peer"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    drop(b);
}

#[tokio::test]
async fn publishable_keys_have_budgets_per_address_and_unknown_keys_cost() {
    let app = TestApp::spawn().await;
    let Widget {
        key_id: id, key, ..
    } = app.widget("pk-budget@example.com", "Budget").await;
    let origin = SHOP;
    use reqwest::Method;
    use tenantgate::http::public::{CLIENT_RATE, DEFAULT_KEY_RATE};
    for i in 0..CLIENT_RATE.limit {
        let a = public(&app, Method::GET, &key, "branding", Some(origin)).await;
        assert_eq!(a.status, 200, "call {i}: {:?}", a.body);
    }
    // Far past the address's budget (which refills 2 a second): refused
    // before the key's budget is touched (600 more calls would take half of
    // it).
    let mut admitted = 0;
    for _ in 0..600 {
        let a = public(&app, Method::GET, &key, "branding", Some(origin)).await;
        if a.status == 200 {
            admitted += 1;
            continue;
        }
        assert_eq!(a.status, 429, "{:?}", a.body);
        assert_code(&a, "RATE_LIMITED", "past the address budget");
        assert!(!header(&a, "retry-after").is_empty());
    }
    assert!(admitted < 100, "{admitted} calls past the address budget");
    let left = app
        .state
        .usage
        .check_bucket(
            &format!("pk:{id}"),
            tenantgate::auth::api_keys::Rate {
                limit: DEFAULT_KEY_RATE,
                period_seconds: 60,
            },
        )
        .await
        .unwrap()
        .remaining;
    assert!(
        left + CLIENT_RATE.limit + admitted + 1 >= DEFAULT_KEY_RATE,
        "one address spent the key's budget: {left} left of {}",
        DEFAULT_KEY_RATE
    );
    // Preflights and made-up keys from that address are refused before any
    // lookup (they share its budget).
    let made_up =
        tenantgate::auth::publishable::mint(tenantgate::auth::api_keys::Environment::Live);
    for (method, key) in [
        (Method::OPTIONS, &key),
        (Method::OPTIONS, &made_up),
        (Method::GET, &made_up),
    ] {
        let a = public(&app, method.clone(), key, "branding", Some(origin)).await;
        assert_eq!(a.status, 429, "{method}: {:?}", a.body);
        assert_code(&a, "RATE_LIMITED", "preflight past the address budget");
    }
}

/// Made-up publishable keys spend their own failed-lookup budget: a page
/// making its visitors' browsers call them does not lock the address out of
/// secret-key lookups.
#[tokio::test]
async fn unknown_publishable_keys_spend_their_own_budget() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("pk-fail@example.com", "Fail").await;
    let origin = "https://shop.example.com";
    use reqwest::Method;
    let mut limited = false;
    for _ in 0..tenantgate::auth::key_failures::RATE.limit + 5 {
        let made_up =
            tenantgate::auth::publishable::mint(tenantgate::auth::api_keys::Environment::Live);
        let a = public(&app, Method::GET, &made_up, "branding", Some(origin)).await;
        if a.status == 429 {
            assert_code(&a, "RATE_LIMITED", "unknown keys");
            limited = true;
            break;
        }
        assert_code(&a, "UNAUTHENTICATED", "unknown key");
    }
    assert!(limited, "unknown keys were never limited");
    // Secret keys from the same address are still looked up: an unknown
    // one is UNAUTHENTICATED (not RATE_LIMITED), a real one works.
    let unknown = tenantgate::auth::api_keys::mint(tenantgate::auth::api_keys::Environment::Live);
    let a = crate::keys::v1(&app, &unknown.secret, json!({ "metric": "api_calls" })).await;
    assert_eq!(a.status, 401, "{:?}", a.body);
    assert_eq!(a.body["error"]["code"], "UNAUTHENTICATED", "{:?}", a.body);
    let (_, secret) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    let a = crate::keys::v1(&app, &secret, json!({ "metric": "api_calls" })).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

#[tokio::test]
async fn another_tenant_cannot_see_or_change_keys_and_origins() {
    let app = TestApp::spawn().await;
    let (a_owner, _, a_tenant) = app.sign_up("iso-pk-a@example.com", "Iso A").await;
    let (b_owner, _, _) = app.sign_up("iso-pk-b@example.com", "Iso B").await;
    let (a_id, a_key) = create_pk(&app, &a_owner, "LIVE").await;
    assert_ok(
        &add_origin(&app, &a_owner, "https://a.example.com").await,
        "origin",
    );
    let before = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM publishable_keys WHERE tenant_id = '{a_tenant}' AND revoked_at IS NULL"
        ))
        .await;
    // B revokes A's key by id: NOT_FOUND, nothing changed.
    assert_code(
        &app.gql(REVOKE, json!({ "id": a_id }), Some(&b_owner)).await,
        "NOT_FOUND",
        "cross-tenant revoke",
    );
    assert_code(
        &app.gql(
            REMOVE,
            json!({ "o": "https://a.example.com" }),
            Some(&b_owner),
        )
        .await,
        "NOT_FOUND",
        "cross-tenant remove",
    );
    let after = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM publishable_keys WHERE tenant_id = '{a_tenant}' AND revoked_at IS NULL"
        ))
        .await;
    assert_eq!(before, after);
    let origins = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM allowed_origins WHERE tenant_id = '{a_tenant}'"
        ))
        .await;
    assert_eq!(origins, 1);
    // B's lists show none of A's; B acting in A's tenant is refused.
    let l = app.gql(LIST, json!({}), Some(&b_owner)).await;
    assert_ok(&l, "b list");
    assert!(!l.body.to_string().contains(&a_key));
    assert!(!l.body.to_string().contains("a.example.com"));
    let req = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {b_owner}"))
        .header("x-tenant-id", &a_tenant)
        .body(json!({ "query": LIST }).to_string());
    let a = app.send(req).await;
    assert_code(&a, "FORBIDDEN", "acting in A");
    assert!(!a.body.to_string().contains(&a_key));
    // A secret key of A, with keys:write even, cannot manage them.
    let (_, secret) = create_key(
        &app,
        &a_owner,
        json!({ "scopes": ["KEYS_READ", "KEYS_WRITE", "TENANT_READ"] }),
    )
    .await;
    assert_code(
        &app.gql(LIST, json!({}), Some(&secret)).await,
        "FORBIDDEN",
        "key reads",
    );
    assert_code(
        &app.gql(CREATE, json!({ "i": { "name": "by key" } }), Some(&secret))
            .await,
        "FORBIDDEN",
        "key creates",
    );
    assert_code(
        &add_origin(&app, &secret, "https://k.example.com").await,
        "FORBIDDEN",
        "key adds an origin",
    );
}

#[tokio::test]
async fn the_check_answers_the_quota_and_records_nothing() {
    let app = TestApp::spawn().await;
    app.db
        .count(
            "WITH v AS (UPDATE plans SET monthly_quotas = '{\"api_calls\": 2}' \
             WHERE key = 'free' RETURNING 1) SELECT count(*) AS n FROM v",
        )
        .await;
    app.state.plans.invalidate();
    let Widget {
        owner,
        tenant,
        key: live,
        ..
    } = app.widget("pk-quota@example.com", "Quota").await;
    let origin = SHOP;
    let (_, test) = create_pk(&app, &owner, "TEST").await;
    let check = |key: String, body: Value| {
        let req = app
            .client
            .post(format!("{}/v1/public/{key}/check", app.url))
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(body.to_string());
        app.send(req)
    };
    // Asking again and again spends nothing of the quota.
    for _ in 0..5 {
        let a = check(live.clone(), json!({ "metric": "api_calls" })).await;
        assert_eq!(a.body["allowed"], true, "{:?}", a.body);
    }
    app.state.usage.flush(&app.state.db).await.unwrap();
    let sql = format!("SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{tenant}'");
    assert_eq!(app.db.count(&sql).await, 0, "a check recorded usage");
    // Read only: no quota counter was made, let alone changed.
    let tenant_id: uuid::Uuid = tenant.parse().unwrap();
    let counter = || {
        app.state
            .usage
            .quotas()
            .known_used(tenant_id, "api_calls", chrono::Utc::now())
    };
    assert_eq!(counter().await, None, "a check touched the quota counter");
    // Used up by the backend: the check says so.
    let (_, secret) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    for _ in 0..2 {
        let a = crate::keys::v1(&app, &secret, json!({ "metric": "api_calls" })).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    let a = check(live.clone(), json!({ "metric": "api_calls" })).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["allowed"], false);
    assert_eq!(a.body["reason"], "QUOTA_EXCEEDED");
    assert_eq!(
        counter().await,
        Some(2),
        "the counter after a refused check"
    );
    // No metric: only whether the tenant is active; a test key never counts.
    assert_eq!(check(live.clone(), json!({})).await.body["allowed"], true);
    assert_eq!(
        check(test.clone(), json!({ "metric": "api_calls" }))
            .await
            .body["allowed"],
        true
    );
    // Bad input: coded, with the field.
    for (body, field) in [
        (json!({ "metric": "no_such_metric" }), Some("metric")),
        (json!({ "metric": "" }), Some("metric")),
        (json!({ "other": 1 }), None),
    ] {
        let a = check(live.clone(), body.clone()).await;
        assert_eq!(a.status, 400, "{body}: {:?}", a.body);
        assert_code(&a, "BAD_USER_INPUT", &body.to_string());
        assert_eq!(
            a.body["errors"][0]["extensions"]["field"].as_str(),
            field,
            "{body}"
        );
        assert_eq!(acao(&a), origin, "the page may read why");
    }
    let req = app
        .client
        .post(format!("{}/v1/public/{live}/check", app.url))
        .header("origin", origin)
        .body("{not json");
    assert_code(&app.send(req).await, "BAD_USER_INPUT", "not JSON");
    // At most 1 KB is read: a larger body is refused, coded, readable.
    let big = json!({ "metric": "api_calls", "pad": "x".repeat(2000) }).to_string();
    let req = app
        .client
        .post(format!("{}/v1/public/{live}/check", app.url))
        .header("origin", origin)
        .header("content-type", "application/json")
        .body(big);
    let a = app.send(req).await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_code(&a, "BAD_USER_INPUT", "a body past 1 KB");
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1024 bytes"),
        "{:?}",
        a.body
    );
}

/// The lookup function restores the caller's tenant context (it used to
/// leave it empty).
#[tokio::test]
async fn the_lookup_restores_the_callers_tenant_context() {
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("pk-ctx@example.com", "Ctx").await;
    let (_, key) = create_pk(&app, &owner, "LIVE").await;
    let mut conn = app.db.owner().await;
    conn.batch_execute(&format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{tenant}', true); \
         SELECT * FROM tg_publishable_key_lookup('{key}');"
    ))
    .await
    .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        s: String,
    }
    let after: Setting =
        diesel::sql_query("SELECT coalesce(current_setting('app.tenant_id', true), '') AS s")
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        after.s, tenant,
        "the caller's tenant context after a lookup"
    );
    conn.batch_execute("ROLLBACK").await.unwrap();
}

/// An origin change drops the tenant's publishable keys only: its cached
/// secret keys stay cached.
#[tokio::test]
async fn an_origin_change_leaves_secret_keys_cached() {
    let app = TestApp::spawn().await;
    wait_live(&app).await;
    let (owner, _, _) = app.sign_up("pk-keep@example.com", "Keep").await;
    let (_, secret) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    let call = || crate::keys::v1(&app, &secret, json!({ "metric": "api_calls" }));
    // The key's creation notice arrives first (it drops the key).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(call().await.status, 200);
    assert_eq!(call().await.status, 200);
    // The announcement of the origin reaches this instance.
    let (_, misses) = app.state.api_keys.stats();
    for i in 0..3 {
        assert_ok(
            &add_origin(&app, &owner, &format!("https://s{i}.example.com")).await,
            "origin",
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(call().await.status, 200);
    assert_eq!(
        app.state.api_keys.stats().1,
        misses,
        "an origin change dropped the tenant's secret keys"
    );
}

/// Revokes at once audit once; keys revoked long ago leave the list.
#[tokio::test]
async fn concurrent_revokes_audit_once_and_old_revoked_keys_are_not_listed() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("pk-revoke@example.com", "Revoke").await;
    let (id, _) = create_pk(&app, &owner, "LIVE").await;
    let answers = futures_util::future::join_all(
        (0..8).map(|_| app.gql(REVOKE, json!({ "id": id }), Some(&owner))),
    )
    .await;
    for a in &answers {
        assert_ok(a, "revokePublishableKey");
        assert!(a.body["data"]["revokePublishableKey"]["revokedAt"].is_string());
    }
    let sql = format!(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'publishable_key.revoke' \
         AND tenant_id = '{tenant}'"
    );
    assert_eq!(
        app.db.count(&sql).await,
        1,
        "concurrent revokes audited twice"
    );
    let listed = |a: &Answer| {
        a.body["data"]["tenant"]["publishableKeys"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(listed(&app.gql(LIST, json!({}), Some(&owner)).await), 1);
    app.db
        .count(&format!(
            "WITH v AS (UPDATE publishable_keys SET revoked_at = now() - interval '31 days' \
             WHERE id = '{id}' RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    assert_eq!(
        listed(&app.gql(LIST, json!({}), Some(&owner)).await),
        0,
        "a key revoked 31 days ago is still listed"
    );
}

/// A revoked, unknown or mistyped key called from a page gets a 401 the
/// page can read (its preflight lets the call through): the widget can say
/// why it stopped. It tells nothing of the tenant, one message for revoked
/// and unknown; an `Origin` that is not well-formed gets no grant.
#[tokio::test]
async fn a_dead_key_gives_the_page_a_readable_401() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let Widget {
        owner,
        key_id: id,
        key,
        ..
    } = app.widget("pk-dead@example.com", "Deadkey Works").await;
    let origin = SHOP;
    assert_ok(
        &app.gql(REVOKE, json!({ "id": id }), Some(&owner)).await,
        "revoke",
    );
    let unknown =
        tenantgate::auth::publishable::mint(tenantgate::auth::api_keys::Environment::Live);
    let mut said = Vec::new();
    for dead in [&key, &unknown] {
        // Its own site's page, and any other well-formed origin.
        for from in [origin, "https://elsewhere.example", "http://localhost:5173"] {
            let p = public(&app, Method::OPTIONS, dead, "check", Some(from)).await;
            assert_eq!(p.status, 204, "{from}: {:?}", p.body);
            assert_eq!(acao(&p), from);
            assert_eq!(
                header(&p, "access-control-max-age"),
                "600",
                "cached like a live key's grant (review 12)"
            );
            for (method, op) in [(Method::POST, "check"), (Method::GET, "branding")] {
                let a = public(&app, method, dead, op, Some(from)).await;
                assert_eq!(a.status, 401, "{op} from {from}: {:?}", a.body);
                assert_code(&a, "UNAUTHENTICATED", "dead key");
                assert_eq!(acao(&a), from, "readable by the page");
                let text = a.body.to_string();
                assert!(!text.contains("Deadkey"), "nothing of the tenant: {text}");
                said.push(a.body["errors"][0]["message"].clone());
            }
        }
    }
    said.dedup();
    assert_eq!(said.len(), 1, "revoked and unknown read the same: {said:?}");
    assert!(
        said[0]
            .as_str()
            .unwrap()
            .contains("revoked, or never issued")
    );
    // A mistyped key says so, readably too.
    let typo = format!("{}x", &unknown[..unknown.len() - 1]);
    let a = public(&app, Method::GET, &typo, "branding", Some(origin)).await;
    assert_eq!((a.status, acao(&a)), (401, origin), "{:?}", a.body);
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("typos")
    );
    // Origins no browser sends as such get no grant at all.
    for odd in [
        "null",
        "https://shop.example.com/",
        "HTTPS://SHOP.EXAMPLE.COM",
        "x",
    ] {
        let a = public(&app, Method::GET, &key, "branding", Some(odd)).await;
        assert_eq!(a.status, 401, "{odd}: {:?}", a.body);
        assert!(acao(&a).is_empty(), "{odd} got a grant");
        let p = public(&app, Method::OPTIONS, &key, "check", Some(odd)).await;
        assert_eq!(p.status, 401, "{odd}: {:?}", p.body);
        assert!(acao(&p).is_empty(), "{odd} got a grant");
    }
}

/// `--publishable-key-rate` sets the key's budget (every address together).
#[tokio::test]
async fn the_key_budget_is_a_setting() {
    use reqwest::Method;
    let app = TestApp::spawn_tuned(|s| s.publishable_key_rate = 3).await;
    let Widget { key, .. } = app.widget("pk-rate@example.com", "Rate").await;
    let origin = SHOP;
    for i in 0..3 {
        let a = public(&app, Method::GET, &key, "branding", Some(origin)).await;
        assert_eq!(a.status, 200, "call {i}: {:?}", a.body);
    }
    let a = public(&app, Method::GET, &key, "branding", Some(origin)).await;
    assert_eq!(a.status, 429, "{:?}", a.body);
    assert_code(&a, "RATE_LIMITED", "past the key's budget");
    assert_eq!(acao(&a), origin, "readable by the page");
}
