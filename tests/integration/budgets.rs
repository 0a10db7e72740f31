//! Budgets on what anonymous or cheap callers can make expensive: password
//! resets checked before any hashing, sign-in failures per (account, address),
//! failed API-key lookups per address (with misses cached apart), invitations
//! per inviter and per tenant, and client addresses from `X-Forwarded-For`.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};
use tenantgate::auth::api_keys::{self, Environment};
use tenantgate::auth::password_reset;
use tenantgate::auth::tokens::{self, Kind};
use uuid::Uuid;

use crate::identity::mailed_token;
use crate::support::{Answer, PASSWORD, TestApp};

const LOG_IN: &str = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }";
const RESET: &str = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { accessToken } }";
const INVITE: &str =
    "mutation($e: String!) { inviteMember(input: {email: $e, role: MEMBER}) { id } }";

/// POSTs an operation from client address `from` (the server trusts one proxy).
async fn gql_from(app: &TestApp, from: &str, query: &str, variables: Value) -> Answer {
    let req = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .header("x-forwarded-for", from)
        .body(json!({ "query": query, "variables": variables }).to_string());
    app.send(req).await
}

fn retry_after(a: &Answer) -> u64 {
    a.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retryAfter: {:?}", a.body))
}

#[tokio::test]
async fn password_resets_check_the_link_before_any_hashing() {
    let app = TestApp::spawn().await;
    app.sign_up("reset-owner@example.com", "Resets").await;
    let work = password_reset::password_work();
    // Well-formed links that name no live token, many at once, with a strong
    // password: each is refused by a read, none reaches the hashing slots, and
    // a sign-in meanwhile is answered.
    let fakes = (0..300).map(|_| {
        let token = tokens::mint(Kind::PasswordReset, Uuid::new_v4()).token;
        let app = &app;
        async move {
            app.gql(
                RESET,
                json!({ "t": token, "p": "another-long-passphrase-42" }),
                None,
            )
            .await
        }
    });
    let log_in = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        app.gql(
            LOG_IN,
            json!({ "i": { "email": "reset-owner@example.com", "password": PASSWORD } }),
            None,
        )
        .await
    };
    let (answers, logged_in) = tokio::join!(join_all(fakes), log_in);
    assert!(
        logged_in.body["data"]["logIn"]["accessToken"].is_string(),
        "{:?}",
        logged_in.body
    );
    for a in &answers {
        assert_eq!(a.code(), "UNAUTHENTICATED", "{:?}", a.body);
    }
    // Other tests of this binary may reset a password meanwhile (a handful).
    let spent = password_reset::password_work() - work;
    assert!(
        spent < 10,
        "{spent} refused resets checked or hashed a password"
    );

    // A valid link cannot be replayed with weak passwords for ever: 10 tries,
    // then RATE_LIMITED.
    app.gql(
        "mutation { requestPasswordReset(email: \"reset-owner@example.com\") }",
        json!({}),
        None,
    )
    .await;
    let token = mailed_token(&app, "reset-owner@example.com", "tgp").await;
    for _ in 0..10 {
        let weak = app
            .gql(RESET, json!({ "t": token, "p": "short" }), None)
            .await;
        assert_eq!(weak.code(), "BAD_USER_INPUT", "{:?}", weak.body);
    }
    let limited = app
        .gql(
            RESET,
            json!({ "t": token, "p": "another-long-passphrase-42" }),
            None,
        )
        .await;
    assert_eq!(limited.code(), "RATE_LIMITED", "{:?}", limited.body);
    assert!((1..=900).contains(&retry_after(&limited)));
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_owner_out() {
    let app = TestApp::spawn_behind_proxies(1).await;
    app.sign_up("locked@example.com", "Locked").await;
    let attempt = |password: &'static str| json!({ "i": { "email": "locked@example.com", "password": password } });
    let attacker = "203.0.113.66";
    for _ in 0..5 {
        let a = gql_from(&app, attacker, LOG_IN, attempt("wrong-password-1")).await;
        assert_eq!(a.code(), "UNAUTHENTICATED", "{:?}", a.body);
    }
    // The attacker's address is stopped for this account, even with the right
    // password...
    let limited = gql_from(&app, attacker, LOG_IN, attempt(PASSWORD)).await;
    assert_eq!(limited.code(), "RATE_LIMITED", "{:?}", limited.body);
    assert!((1..=900).contains(&retry_after(&limited)));
    assert_eq!(
        limited.headers["retry-after"].to_str().unwrap(),
        retry_after(&limited).to_string()
    );
    // ...while the owner, from another address, signs in.
    let owner = gql_from(&app, "198.51.100.7", LOG_IN, attempt(PASSWORD)).await;
    assert!(
        owner.body["data"]["logIn"]["accessToken"].is_string(),
        "{:?}",
        owner.body
    );
    // IPv4 clients seen as IPv4-mapped IPv6 are the same IPv4 client.
    let mapped = gql_from(&app, "::ffff:203.0.113.66", LOG_IN, attempt(PASSWORD)).await;
    assert_eq!(mapped.code(), "RATE_LIMITED", "{:?}", mapped.body);
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM sessions WHERE ip = '198.51.100.7'")
            .await,
        1
    );
}

#[tokio::test]
async fn forwarded_for_that_is_missing_or_does_not_parse_is_a_400() {
    let app = TestApp::spawn_behind_proxies(1).await;
    let query = json!({ "query": "{ __typename }" }).to_string();
    for (accept, xff) in [
        ("application/json", Some("not-an-address")),
        (
            "application/graphql-response+json",
            Some("203.0.113.7, 999.0.0.1"),
        ),
        ("application/json", None),
    ] {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.url))
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(query.clone());
        if let Some(xff) = xff {
            req = req.header("x-forwarded-for", xff);
        }
        let a = app.send(req).await;
        assert_eq!(a.status, 400, "{xff:?}: {:?}", a.body);
        assert_eq!(a.code(), "BAD_USER_INPUT", "{:?}", a.body);
    }
    let fine = gql_from(&app, "203.0.113.7", "{ __typename }", json!({})).await;
    assert_eq!(fine.status, 200, "{:?}", fine.body);

    let key = api_keys::mint(Environment::Live).secret;
    let v1 = app
        .send(
            app.client
                .post(format!("{}/v1/authorize", app.url))
                .header("authorization", format!("Bearer {key}"))
                .header("x-forwarded-for", "garbage"),
        )
        .await;
    assert_eq!(v1.status, 400, "{:?}", v1.body);
    assert_eq!(v1.body["error"]["code"], "BAD_USER_INPUT");

    let ws = app
        .send(
            app.client
                .get(format!("{}/graphql", app.url))
                .header("connection", "upgrade")
                .header("upgrade", "websocket")
                .header("sec-websocket-version", "13")
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
                .header("sec-websocket-protocol", "graphql-transport-ws")
                .header("x-forwarded-for", "garbage"),
        )
        .await;
    assert_eq!(ws.status, 400, "{:?}", ws.body);
    assert_eq!(ws.code(), "BAD_USER_INPUT");
}

/// `POST /v1/authorize` with `secret` from `from`.
async fn v1_from(app: &TestApp, from: &str, secret: &str) -> Answer {
    let req = app
        .client
        .post(format!("{}/v1/authorize", app.url))
        .header("authorization", format!("Bearer {secret}"))
        .header("x-forwarded-for", from);
    app.send(req).await
}

async fn wait_live(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !app.state.api_keys.is_live() {
        assert!(Instant::now() < deadline, "the key cache never went live");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn unknown_keys_are_cached_apart_and_budgeted_per_address() {
    let app = TestApp::spawn_behind_proxies(1).await;
    wait_live(&app).await;
    let (owner, _, tenant) = app.sign_up("keys-budget@example.com", "KeyBudget").await;
    let created = gql_from_token(
        &app,
        "203.0.113.1",
        &owner,
        "mutation { createApiKey(input: {name: \"k\", scopes: [TENANT_READ]}) { secret } }",
    )
    .await;
    let real = created.body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", created.body))
        .to_owned();
    let a = "203.0.113.9";
    // The real key, cached, keeps working from an address past its budget.
    // (Its creation is announced too: use it until a call is a cache hit, so
    // that announcement has been handled.)
    tokio::time::sleep(Duration::from_millis(200)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (hits, _) = app.state.api_keys.stats();
        assert_eq!(v1_from(&app, a, &real).await.status, 200);
        if app.state.api_keys.stats().0 > hits {
            break;
        }
        assert!(Instant::now() < deadline, "the key was never cached");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A made-up key with a valid checksum is looked up once; asking again is
    // answered from the cache of misses.
    let fake = api_keys::mint(Environment::Live).secret;
    assert_eq!(v1_from(&app, a, &fake).await.status, 401);
    let (_, misses) = app.state.api_keys.stats();
    assert_eq!(v1_from(&app, a, &fake).await.status, 401);
    assert_eq!(
        app.state.api_keys.stats().1,
        misses,
        "a cached miss was looked up again"
    );

    // 20 failed lookups a minute per address (two spent above), then 429 (a
    // slow machine may see one back every 3 s meanwhile: allow a few more).
    for _ in 0..18 {
        let fake = api_keys::mint(Environment::Live).secret;
        let r = v1_from(&app, a, &fake).await;
        assert_eq!(r.status, 401, "{:?}", r.body);
    }
    let mut tries = 0;
    let limited = loop {
        let fake = api_keys::mint(Environment::Live).secret;
        let r = v1_from(&app, a, &fake).await;
        if r.status != 401 || tries == 5 {
            break r;
        }
        tries += 1;
    };
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert_eq!(limited.body["error"]["code"], "RATE_LIMITED");
    let wait = limited.body["error"]["retryAfter"].as_u64().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        limited.headers["retry-after"].to_str().unwrap(),
        wait.to_string()
    );
    // Refused before any lookup, over GraphQL too (429 with either media type).
    let (_, misses) = app.state.api_keys.stats();
    let fake = api_keys::mint(Environment::Live).secret;
    for accept in ["application/json", "application/graphql-response+json"] {
        let g = app
            .send(
                app.client
                    .post(format!("{}/graphql", app.url))
                    .header("content-type", "application/json")
                    .header("accept", accept)
                    .header("authorization", format!("Bearer {fake}"))
                    .header("x-forwarded-for", a)
                    .body(json!({ "query": "{ __typename }" }).to_string()),
            )
            .await;
        assert_eq!(g.status, 429, "{:?}", g.body);
        assert_eq!(g.code(), "RATE_LIMITED");
        assert!(
            g.body["errors"][0]["extensions"]["retryAfter"]
                .as_u64()
                .is_some()
        );
        assert!(g.headers.contains_key("retry-after"));
    }
    assert_eq!(
        app.state.api_keys.stats().1,
        misses,
        "a refused address was looked up"
    );
    assert_eq!(v1_from(&app, a, &real).await.status, 200);
    // Another address has its own budget.
    assert_eq!(v1_from(&app, "198.51.100.3", &fake).await.status, 401);

    // A key created after its hash was looked up works at once: the creation
    // is announced and the remembered miss dropped.
    let later = api_keys::mint(Environment::Live);
    let b = "198.51.100.4";
    assert_eq!(v1_from(&app, b, &later.secret).await.status, 401);
    app.db
        .count(&format!(
            "WITH k AS (INSERT INTO api_keys (id, tenant_id, name, environment, display_prefix, \
             secret_hash, scopes) VALUES ('{}', '{tenant}', 'later', 'live', '{}', '\\x{}', \
             '{{tenant:read}}') RETURNING 1) SELECT count(*) AS n FROM k",
            Uuid::now_v7(),
            later.display_prefix,
            hex(&later.hash),
        ))
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = v1_from(&app, b, &later.secret).await;
        if r.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new key never worked: {:?}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn gql_from_token(app: &TestApp, from: &str, token: &str, query: &str) -> Answer {
    let req = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("x-forwarded-for", from)
        .body(json!({ "query": query }).to_string());
    app.send(req).await
}

#[tokio::test]
async fn invitations_need_a_confirmed_inviter_and_have_budgets() {
    let app = TestApp::spawn().await;
    let (unconfirmed, _, _) = app
        .sign_up_unverified("unconfirmed@example.com", "Unconfirmed")
        .await;
    let a = app
        .gql(
            INVITE,
            json!({ "e": "someone@example.com" }),
            Some(&unconfirmed),
        )
        .await;
    assert_eq!(a.code(), "FORBIDDEN", "{:?}", a.body);
    let invitations = "SELECT count(*) AS n FROM invitations";
    assert_eq!(app.db.count(invitations).await, 0);
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM email_outbox WHERE recipient = 'someone@example.com'")
            .await,
        0
    );

    let (owner, _, tenant) = app.sign_up("inviter@example.com", "Inviter").await;
    // Room for every invitation: the budget is the limit under test.
    app.set_plan(&tenant, "enterprise").await;
    for i in 0..20 {
        let a = app
            .gql(
                INVITE,
                json!({ "e": format!("guest{i}@example.com") }),
                Some(&owner),
            )
            .await;
        assert!(
            a.body["data"]["inviteMember"]["id"].is_string(),
            "{i}: {:?}",
            a.body
        );
        if i == 0 {
            // A refused invitation (already invited) costs nothing.
            let again = app
                .gql(INVITE, json!({ "e": "guest0@example.com" }), Some(&owner))
                .await;
            assert_eq!(again.code(), "CONFLICT", "{:?}", again.body);
        }
    }
    let limited = app
        .gql(INVITE, json!({ "e": "guest20@example.com" }), Some(&owner))
        .await;
    assert_eq!(limited.code(), "RATE_LIMITED", "{:?}", limited.body);
    assert!((1..=3600).contains(&retry_after(&limited)));
    assert_eq!(app.db.count(invitations).await, 20);

    // The tenant's daily budget binds whoever sends: spend it (as 100 sends
    // by many admins would), and a fresh inviter of that tenant is refused.
    app.db
        .count(&format!(
            "WITH f AS (UPDATE login_failures SET failures = 100 \
             WHERE key = 'invite:tenant:{tenant}' RETURNING 1) SELECT count(*) AS n FROM f"
        ))
        .await;
    app.db
        .count("WITH f AS (DELETE FROM login_failures WHERE key LIKE 'invite:user:%' RETURNING 1) SELECT count(*) AS n FROM f")
        .await;
    let limited = app
        .gql(INVITE, json!({ "e": "guest21@example.com" }), Some(&owner))
        .await;
    assert_eq!(limited.code(), "RATE_LIMITED", "{:?}", limited.body);
    assert!(retry_after(&limited) > 3600, "{:?}", limited.body);
    assert_eq!(app.db.count(invitations).await, 20);
}

#[tokio::test]
async fn a_concurrent_burst_of_unknown_keys_cannot_outrun_its_budget() {
    use tenantgate::auth::key_failures::{LOOKUPS_IN_FLIGHT, RATE};
    let app = TestApp::spawn_behind_proxies(1).await;
    wait_live(&app).await;
    let (_, before) = app.state.api_keys.stats();
    let burst = (0..200).map(|_| {
        let fake = api_keys::mint(Environment::Live).secret;
        let app = &app;
        async move { v1_from(app, "198.51.100.200", &fake).await.status }
    });
    let statuses = join_all(burst).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    let (_, after) = app.state.api_keys.stats();
    let lookups = after - before;
    assert!(
        lookups <= u64::from(RATE.limit) + LOOKUPS_IN_FLIGHT as u64,
        "{lookups} database lookups for a burst from one address"
    );
}

#[tokio::test]
async fn many_addresses_cannot_lock_the_owner_out_of_places_they_signed_in_from() {
    use tenantgate::auth::throttle::{ACCOUNT, ACCOUNT_PAIR};
    let app = TestApp::spawn_behind_proxies(1).await;
    app.sign_up("target@example.com", "Target").await;
    let attempt = |password: &'static str| json!({ "i": { "email": "target@example.com", "password": password } });
    let home = "2001:db8:aaaa:1::7";
    let owner = gql_from(&app, home, LOG_IN, attempt(PASSWORD)).await;
    assert!(
        owner.body["data"]["logIn"]["accessToken"].is_string(),
        "{:?}",
        owner.body
    );
    // Attackers in as many /64s as it takes spend the account's ceiling.
    let networks = (ACCOUNT.max / ACCOUNT_PAIR.max) as usize + 1;
    for n in 0..networks {
        let from = format!("2001:db8:bad:{n:x}::1");
        for _ in 0..ACCOUNT_PAIR.max {
            gql_from(&app, &from, LOG_IN, attempt("wrong-password-1")).await;
        }
    }
    // A network that never signed in to the account is now refused...
    let fresh = gql_from(&app, "203.0.113.200", LOG_IN, attempt(PASSWORD)).await;
    assert_eq!(fresh.code(), "RATE_LIMITED", "{:?}", fresh.body);
    // ...but the owner at home (another address of the same /64) signs in.
    let again = gql_from(&app, "2001:db8:aaaa:1::8", LOG_IN, attempt(PASSWORD)).await;
    assert!(
        again.body["data"]["logIn"]["accessToken"].is_string(),
        "{:?}",
        again.body
    );
}

#[tokio::test]
async fn flooding_a_victims_links_does_not_lock_them_out() {
    use tenantgate::auth::throttle::EMAILS;
    let app = TestApp::spawn_behind_proxies(1).await;
    app.sign_up("victim@example.com", "Victim").await;
    let login = json!({ "i": { "email": "victim@example.com", "password": PASSWORD } });
    let home = "198.51.100.50";
    let a = gql_from(&app, home, LOG_IN, login).await;
    assert!(
        a.body["data"]["logIn"]["accessToken"].is_string(),
        "{:?}",
        a.body
    );
    let link = "mutation($e: String!) { requestMagicLink(email: $e) }";
    let reset = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    // Case and space variants count as the victim's address.
    for n in 0..=EMAILS.max {
        let from = format!("203.0.113.{}", n / 3 + 1);
        gql_from(&app, &from, link, json!({ "e": " VICTIM@example.com" })).await;
    }
    let refused = gql_from(
        &app,
        "203.0.113.99",
        link,
        json!({ "e": "victim@example.com" }),
    )
    .await;
    assert_eq!(refused.code(), "RATE_LIMITED", "{:?}", refused.body);
    // The victim, from where they sign in, still gets a link; and a reset has
    // its own budget.
    let own = gql_from(&app, home, link, json!({ "e": "victim@example.com" })).await;
    assert_eq!(own.body["data"]["requestMagicLink"], true, "{:?}", own.body);
    let other = gql_from(
        &app,
        "203.0.113.99",
        reset,
        json!({ "e": "victim@example.com" }),
    )
    .await;
    assert_eq!(
        other.body["data"]["requestPasswordReset"], true,
        "{:?}",
        other.body
    );
}
