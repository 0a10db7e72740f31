//! Tenants found by their own domain: custom domains verified against a DNS
//! server the test runs (right, wrong and missing tokens, no answer), the
//! host picking the tenant (subdomains of the base domain, verified custom
//! domains only), and never widening anyone's access (a user or key of A on
//! B's address is refused); the daily re-check's rule.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::dns::DnsServer;
use crate::support::hosts::{
    BASE, custom_domain, eventually, gql_on, host_tenant, host_tenant_id, set_domain, spawn,
    verified_domain, verify,
};

#[tokio::test]
async fn custom_domains_are_verified_by_their_txt_record() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("owner@shop-a.test", "Shop A").await;
    let (b, _, _) = app.sign_up("owner@shop-b.test", "Shop B").await;

    // The free plan has no custom domains: PAYMENT_REQUIRED, nothing stored.
    let refused = set_domain(&app, &a, "shop.example.com").await;
    assert_eq!(refused.code(), "PAYMENT_REQUIRED", "{:?}", refused.body);
    assert!(custom_domain(&app, &a).await.is_null());

    app.set_plan(&a_tenant, "pro").await;
    for bad in [
        "10.0.0.1",
        "localhost",
        "printer.local",
        "https://shop.example.com",
        "acme.app.example.test",
        "app.example.test",
        "*.example.com",
        &format!("{}.com", "a".repeat(64)),
    ] {
        let refused = set_domain(&app, &a, bad).await;
        assert_eq!(
            refused.code(),
            "BAD_USER_INPUT",
            "{bad}: {:?}",
            refused.body
        );
        assert_eq!(
            refused.body["errors"][0]["extensions"]["field"], "domain",
            "{bad}"
        );
    }
    assert!(custom_domain(&app, &a).await.is_null(), "nothing stored");

    // A claim: pending, with the record to publish; it routes nothing yet.
    let set = set_domain(&app, &a, " Shop.Example.COM. ").await;
    let claim = set.body["data"]["setCustomDomain"].clone();
    assert_eq!(claim["domain"], "shop.example.com", "{:?}", set.body);
    assert_eq!(claim["status"], "PENDING");
    assert_eq!(claim["recordName"], "_tenantgate.shop.example.com");
    let token = claim["recordValue"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tg-verify-"), "{token}");
    // Claiming the same domain again keeps its token.
    let again = set_domain(&app, &a, "shop.example.com").await;
    assert_eq!(again.body["data"]["setCustomDomain"]["recordValue"], token);
    assert!(
        host_tenant(&app, "shop.example.com").await.body["data"]["hostTenant"].is_null(),
        "an unverified domain does not route"
    );

    // No record: failed, saying so.
    let failed = verify(&app, &a).await;
    let row = &failed.body["data"]["verifyCustomDomain"];
    assert_eq!(row["status"], "FAILED", "{:?}", failed.body);
    assert!(
        row["lastResult"]
            .as_str()
            .unwrap()
            .contains("no TXT record found at _tenantgate.shop.example.com"),
        "{row}"
    );
    // A wrong token: failed, with what the record holds.
    dns.set_txt(
        "_tenantgate.shop.example.com",
        &["tg-verify-somebody-elses"],
    );
    let failed = verify(&app, &a).await;
    let row = &failed.body["data"]["verifyCustomDomain"];
    assert_eq!(row["status"], "FAILED");
    assert!(
        row["lastResult"]
            .as_str()
            .unwrap()
            .contains("tg-verify-somebody-elses"),
        "{row}"
    );
    assert!(row["verifiedAt"].is_null());

    // The right token (beside another string): verified, and it routes.
    dns.set_txt(
        "_tenantgate.shop.example.com",
        &["v=spf1 -all", token.as_str()],
    );
    let ok = verify(&app, &a).await;
    let row = &ok.body["data"]["verifyCustomDomain"];
    assert_eq!(row["status"], "VERIFIED", "{:?}", ok.body);
    assert!(row["verifiedAt"].is_string());
    let host = host_tenant(&app, "shop.example.com:443").await;
    assert_eq!(host.body["data"]["hostTenant"]["id"], a_tenant.as_str());
    assert_eq!(host.body["data"]["hostTenant"]["name"], "Shop A");
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{a_tenant}' \
                 AND action IN ('tenant.custom_domain.set', 'tenant.custom_domain.verify')"
            ))
            .await,
        2
    );

    // Another tenant: a domain verified by A is CONFLICT, naming nobody; B
    // may still claim a domain A only claimed.
    app.db
        .count(&format!(
            "WITH v AS (UPDATE tenants SET plan_key = 'pro' WHERE id <> '{a_tenant}' RETURNING 1) \
             SELECT count(*) AS n FROM v"
        ))
        .await;
    let taken = set_domain(&app, &b, "shop.example.com").await;
    assert_eq!(taken.code(), "CONFLICT", "{:?}", taken.body);
    let message = taken.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains("Shop A") && !message.contains(&a_tenant),
        "{message}"
    );
    assert!(
        custom_domain(&app, &b).await.is_null(),
        "nothing stored for B"
    );
    // B cannot read A's domain, even naming A's tenant.
    let peek = app
        .send(
            app.client
                .post(format!("{}/graphql", app.url))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {b}"))
                .header("x-tenant-id", &a_tenant)
                .body(
                    json!({ "query": "{ tenant { customDomain { domain recordValue } } }" })
                        .to_string(),
                ),
        )
        .await;
    assert_eq!(peek.code(), "FORBIDDEN", "{:?}", peek.body);
    assert!(!peek.body.to_string().contains(&token));

    // The name servers do not answer: UNAVAILABLE, in bounded time, and the
    // domain stays verified.
    dns.set_silent(true);
    let started = std::time::Instant::now();
    let down = verify(&app, &a).await;
    assert_eq!(down.code(), "UNAVAILABLE", "{:?}", down.body);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    dns.set_silent(false);
    assert_eq!(custom_domain(&app, &a).await["status"], "VERIFIED");

    // Removing it: it stops routing at once.
    let removed = app
        .gql("mutation { removeCustomDomain }", json!({}), Some(&a))
        .await;
    assert_eq!(
        removed.body["data"]["removeCustomDomain"], true,
        "{:?}",
        removed.body
    );
    assert!(host_tenant(&app, "shop.example.com").await.body["data"]["hostTenant"].is_null());
    let nothing = verify(&app, &a).await;
    assert_eq!(nothing.code(), "NOT_FOUND");
}

#[tokio::test]
async fn verification_lookups_have_a_budget_per_tenant() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("owner@budget.test", "Budget").await;
    app.set_plan(&a_tenant, "pro").await;
    let set = set_domain(&app, &a, "budget.example.com").await;
    assert!(set.body["errors"].is_null(), "{:?}", set.body);
    for _ in 0..20 {
        assert!(verify(&app, &a).await.body["errors"].is_null());
    }
    let before = dns.queries();
    let refused = verify(&app, &a).await;
    assert_eq!(refused.code(), "RATE_LIMITED", "{:?}", refused.body);
    assert_eq!(dns.queries(), before, "no lookup past the budget");
}

#[tokio::test]
async fn hosts_pick_the_tenant_and_never_widen_access() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("ada@acme-host.test", "Acme").await;
    let (b, _, b_tenant) = app.sign_up("grace@globex-host.test", "Globex").await;
    let slug = |token: String| {
        let app = &app;
        async move {
            let a = app
                .gql("{ tenant { slug } }", json!({}), Some(&token))
                .await;
            a.body["data"]["tenant"]["slug"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (a_slug, b_slug) = (slug(a.clone()).await, slug(b.clone()).await);
    let (a_host, b_host) = (format!("{a_slug}.{BASE}"), format!("{b_slug}.{BASE}"));

    // Anonymous: the subdomain names the tenant, with its public look.
    let found = host_tenant(&app, &a_host.to_uppercase()).await;
    assert_eq!(
        found.body["data"]["hostTenant"]["id"],
        a_tenant.as_str(),
        "{:?}",
        found.body
    );
    assert_eq!(found.body["data"]["hostTenant"]["name"], "Acme");
    let unknown = host_tenant(&app, &format!("nobody-here.{BASE}")).await;
    assert_eq!(unknown.code(), "NOT_FOUND", "{:?}", unknown.body);
    assert_eq!(unknown.status, 404);
    let deeper = host_tenant(&app, &format!("x.{a_host}")).await;
    assert_eq!(deeper.code(), "NOT_FOUND");
    for portal in [BASE, "127.0.0.1", "localhost:8080", "tenantgate"] {
        let none = host_tenant(&app, portal).await;
        assert!(none.body["errors"].is_null(), "{portal}: {:?}", none.body);
        assert!(none.body["data"]["hostTenant"].is_null(), "{portal}");
    }
    // A name outside the base domain that routes nowhere is not the portal.
    let elsewhere = host_tenant(&app, "elsewhere.example.org").await;
    assert_eq!(elsewhere.code(), "NOT_FOUND", "{:?}", elsewhere.body);

    // A user on their own tenant's host acts in it.
    let mine = gql_on(&app, &a_host, "{ tenant { id } }", json!({}), Some(&a), &[]).await;
    assert_eq!(
        mine.body["data"]["tenant"]["id"],
        a_tenant.as_str(),
        "{:?}",
        mine.body
    );
    // On another tenant's host: that tenant, of which they are no member.
    let theirs = gql_on(
        &app,
        &b_host,
        "{ tenant { id members { edges { node { role } } } } }",
        json!({}),
        Some(&a),
        &[],
    )
    .await;
    assert_eq!(theirs.code(), "FORBIDDEN", "{:?}", theirs.body);
    assert!(!theirs.body.to_string().contains(&b_tenant));
    let viewer = gql_on(
        &app,
        &b_host,
        "{ viewer { user { email } } }",
        json!({}),
        Some(&a),
        &[],
    )
    .await;
    assert_eq!(
        viewer.body["data"]["viewer"]["user"]["email"],
        "ada@acme-host.test"
    );
    // A conflicting X-Tenant-ID is refused, whichever tenant it names.
    for requested in [&b_tenant, &a_tenant] {
        let clash = gql_on(
            &app,
            &b_host,
            "{ tenant { id } }",
            json!({}),
            Some(&a),
            &[("x-tenant-id", requested)],
        )
        .await;
        assert_eq!(clash.code(), "FORBIDDEN", "{:?}", clash.body);
    }
    let same = gql_on(
        &app,
        &a_host,
        "{ tenant { id } }",
        json!({}),
        Some(&a),
        &[("x-tenant-id", &a_tenant)],
    )
    .await;
    assert_eq!(same.body["data"]["tenant"]["id"], a_tenant.as_str());
    // Without trusted proxies, X-Forwarded-Host is the client's claim: ignored.
    let claimed = gql_on(
        &app,
        "127.0.0.1",
        "{ tenant { id } }",
        json!({}),
        Some(&a),
        &[("x-forwarded-host", &b_host)],
    )
    .await;
    assert_eq!(claimed.body["data"]["tenant"]["id"], a_tenant.as_str());

    // API keys: their own tenant's host (or none) only.
    let key = app
        .gql(
            "mutation { createApiKey(input: {name: \"k\", scopes: [TENANT_READ]}) { secret } }",
            json!({}),
            Some(&a),
        )
        .await;
    let secret = key.body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = gql_on(
        &app,
        &a_host,
        "{ tenant { id } }",
        json!({}),
        Some(&secret),
        &[],
    )
    .await;
    assert_eq!(
        own.body["data"]["tenant"]["id"],
        a_tenant.as_str(),
        "{:?}",
        own.body
    );
    let other = gql_on(
        &app,
        &b_host,
        "{ tenant { id } }",
        json!({}),
        Some(&secret),
        &[],
    )
    .await;
    assert_eq!(other.code(), "FORBIDDEN", "{:?}", other.body);
    assert!(!other.body.to_string().contains(&b_tenant));
    // Custom domains are signed-in admins' and owners' only: keys are refused.
    for op in [
        "{ tenant { customDomain { domain } } }",
        "mutation { setCustomDomain(domain: \"keys.example.com\") { domain } }",
        "mutation { verifyCustomDomain { status } }",
        "mutation { removeCustomDomain }",
    ] {
        let refused = app.gql(op, json!({}), Some(&secret)).await;
        assert_eq!(refused.code(), "FORBIDDEN", "{op}: {:?}", refused.body);
    }
    for (host, status) in [(a_host.as_str(), 200), (b_host.as_str(), 403)] {
        let res = app
            .client
            .post(format!("{}/v1/authorize", app.url))
            .header("host", host)
            .header("authorization", format!("Bearer {secret}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{host}");
    }
}

#[tokio::test]
async fn trusted_proxies_name_the_host() {
    let dns = DnsServer::start().await;
    let addr = dns.addr;
    let app = TestApp::spawn_tuned(move |s| {
        s.trusted_proxies = 1;
        s.domains.base_domain = Some(BASE.into());
        s.domains.dns_servers = vec![addr];
    })
    .await;
    let (a, _, a_tenant) = app.sign_up("ada@proxied.test", "Proxied").await;
    let slug = app
        .gql("{ tenant { slug } }", json!({}), Some(&a))
        .await
        .body["data"]["tenant"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let host = format!("{slug}.{BASE}");
    let via_proxy = gql_on(
        &app,
        "10.0.0.5:8080",
        "{ hostTenant { id } }",
        json!({}),
        None,
        &[
            ("x-forwarded-for", "192.0.2.1"),
            ("x-forwarded-host", &host),
        ],
    )
    .await;
    assert_eq!(
        via_proxy.body["data"]["hostTenant"]["id"],
        a_tenant.as_str(),
        "{:?}",
        via_proxy.body
    );
}

#[tokio::test]
async fn verified_domains_are_rechecked_and_unverified_after_72_hours() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("owner@recheck.test", "Recheck").await;
    let token = verified_domain(&app, &dns, &a, &a_tenant, "recheck.example.com").await;
    let domains = &app.state.domains;
    let db = &app.state.db;
    let now = chrono::Utc::now();
    let run =
        |at: chrono::DateTime<chrono::Utc>| tenantgate::domains::recheck::run(domains, db, at);

    // Checked moments ago: not due.
    assert_eq!(run(now).await.unwrap().looked, 0);
    // A day on, the record is still there: stays verified.
    let day = chrono::Duration::hours(25);
    assert_eq!(
        run(now + day).await.unwrap(),
        tenantgate::domains::recheck::Rechecked {
            looked: 1,
            unverified: 0
        }
    );
    // The record goes; the next day's look notes since when.
    dns.remove("_tenantgate.recheck.example.com");
    let gone_at = now + day * 2;
    assert_eq!(run(gone_at).await.unwrap().unverified, 0);
    let row = custom_domain(&app, &a).await;
    assert_eq!(row["status"], "VERIFIED");
    assert!(row["missingSince"].is_string(), "{row}");
    // The name servers not answering never counts against the domain.
    dns.set_silent(true);
    assert_eq!(run(gone_at + day).await.unwrap().unverified, 0);
    dns.set_silent(false);
    assert_eq!(custom_domain(&app, &a).await["status"], "VERIFIED");
    // Missing for 72 hours: un-verified, audited, owners emailed; no routing.
    let done = run(gone_at + day * 3).await.unwrap();
    assert_eq!(done.unverified, 1);
    let row = custom_domain(&app, &a).await;
    assert_eq!(row["status"], "FAILED", "{row}");
    assert!(host_tenant(&app, "recheck.example.com").await.body["data"]["hostTenant"].is_null());
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{a_tenant}' \
                 AND action = 'tenant.custom_domain.unverified' AND actor_type = 'system'"
            ))
            .await,
        1
    );
    let mail = app.mail_bodies("owner@recheck.test").await;
    assert!(
        mail.iter()
            .any(|m| m.contains("no longer routes to your tenant")),
        "{mail:?}"
    );
    // Publishing it again and verifying restores it.
    dns.set_txt("_tenantgate.recheck.example.com", &[&token]);
    assert_eq!(
        verify(&app, &a).await.body["data"]["verifyCustomDomain"]["status"],
        "VERIFIED"
    );
}

#[tokio::test]
async fn sockets_follow_the_host_too() {
    use crate::usage_live::{next, send};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("ada@socket-host.test", "Socket A").await;
    let (b, _, _) = app.sign_up("grace@socket-host.test", "Socket B").await;
    let slug = app
        .gql("{ tenant { slug } }", json!({}), Some(&b))
        .await
        .body["data"]["tenant"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let open = |host: String, payload: Value| {
        let url = app.url.replace("http://", "ws://") + "/graphql";
        async move {
            let mut request = url.into_client_request().unwrap();
            let headers = request.headers_mut();
            headers.insert(
                "sec-websocket-protocol",
                "graphql-transport-ws".parse().unwrap(),
            );
            headers.insert("host", host.parse().unwrap());
            let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
            send(
                &mut socket,
                json!({ "type": "connection_init", "payload": payload }),
            )
            .await;
            next(&mut socket, Duration::from_secs(10)).await.unwrap()
        }
    };
    let b_host = format!("{slug}.{BASE}");
    // A's token naming A's tenant on B's address: refused at connection_init.
    let clash = open(
        b_host.clone(),
        json!({ "Authorization": format!("Bearer {a}"), "X-Tenant-ID": a_tenant }),
    )
    .await;
    assert_ne!(clash["type"], "connection_ack", "{clash}");
    // An unknown subdomain: refused too.
    let unknown = open(
        format!("nobody-here.{BASE}"),
        json!({ "Authorization": format!("Bearer {b}") }),
    )
    .await;
    assert_ne!(unknown["type"], "connection_ack", "{unknown}");
    // B on B's own address: accepted.
    let own = open(b_host, json!({ "Authorization": format!("Bearer {b}") })).await;
    assert_eq!(own["type"], "connection_ack", "{own}");
}

/// Shifts the tenant's domain timestamps `hours` into the past (time passing).
async fn age_domain(app: &TestApp, tenant: &str, hours: i64) {
    app.db
        .count(&format!(
            "WITH v AS (UPDATE tenant_domains SET \
             verified_at = verified_at - interval '{hours} hours', \
             last_checked_at = last_checked_at - interval '{hours} hours', \
             missing_since = missing_since - interval '{hours} hours' \
             WHERE tenant_id = '{tenant}' RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
}

#[tokio::test]
async fn pressing_verify_never_keeps_a_domain_whose_record_is_gone() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("owner@keeper.test", "Keeper").await;
    let token = verified_domain(&app, &dns, &a, &a_tenant, "keeper.example.com").await;
    // The record goes; the former holder presses Verify every 23 hours.
    dns.remove("_tenantgate.keeper.example.com");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let row = verify(&app, &a).await;
        assert!(row.body["errors"].is_null(), "{:?}", row.body);
        statuses.push(row.body["data"]["verifyCustomDomain"]["status"].clone());
        age_domain(&app, &a_tenant, 23).await;
    }
    // Missing for 0, 23, 46, 69 hours: verified; for 92: no more.
    assert_eq!(
        statuses,
        ["VERIFIED", "VERIFIED", "VERIFIED", "VERIFIED", "FAILED"],
        "un-verified once missing for 72 hours"
    );
    assert!(host_tenant(&app, "keeper.example.com").await.body["data"]["hostTenant"].is_null());
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{a_tenant}' \
                 AND action = 'tenant.custom_domain.unverified'"
            ))
            .await,
        1
    );

    // The re-check's schedule is not the tenant's to push back: a domain
    // whose record is missing is due at every run, however fresh its last look.
    dns.set_txt("_tenantgate.keeper.example.com", &[&token]);
    assert_eq!(
        verify(&app, &a).await.body["data"]["verifyCustomDomain"]["status"],
        "VERIFIED"
    );
    dns.remove("_tenantgate.keeper.example.com");
    verify(&app, &a).await;
    age_domain(&app, &a_tenant, 69).await;
    verify(&app, &a).await; // checked just now, missing for 69 hours
    let later = chrono::Utc::now() + chrono::Duration::hours(4);
    let done = tenantgate::domains::recheck::run(&app.state.domains, &app.state.db, later)
        .await
        .unwrap();
    assert_eq!(done.unverified, 1, "{done:?}");
    assert_eq!(custom_domain(&app, &a).await["status"], "FAILED");
}

#[tokio::test]
async fn long_notes_are_cut_to_fit_and_never_stall_the_recheck() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("owner@longnote.test", "Long note").await;
    let domain = format!("{}example.com", format!("{}.", "l".repeat(50)).repeat(4));
    verified_domain(&app, &dns, &a, &a_tenant, &domain).await;
    let record = format!("_tenantgate.{domain}");
    // Long wrong strings at a long name: a note past the column's 500.
    let wrong = "w".repeat(120);
    dns.set_txt(&record, &[&wrong, &wrong, &wrong]);
    let row = verify(&app, &a).await;
    assert!(row.body["errors"].is_null(), "{:?}", row.body);
    let note = row.body["data"]["verifyCustomDomain"]["lastResult"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        note.chars().count() <= 500 && note.contains("www"),
        "{note}"
    );
    // The daily re-check records it too, and goes on.
    let later = chrono::Utc::now() + chrono::Duration::hours(25);
    let done = tenantgate::domains::recheck::run(&app.state.domains, &app.state.db, later)
        .await
        .unwrap();
    assert_eq!(done.looked, 1);
    let due_again = tenantgate::domains::recheck::run(&app.state.domains, &app.state.db, later)
        .await
        .unwrap();
    assert_eq!(due_again.looked, 1, "missing: due at every run");
}

#[tokio::test]
async fn resolver_failures_tell_tenants_nothing_of_the_servers_network() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("owner@resolver.test", "Resolver").await;
    app.set_plan(&a_tenant, "pro").await;
    // Private networks' names are refused before any lookup.
    for private in ["db.corp", "nas.lan", "router.home", "api.default.svc"] {
        let refused = set_domain(&app, &a, private).await;
        assert_eq!(refused.code(), "BAD_USER_INPUT", "{private}");
    }
    let set = set_domain(&app, &a, "resolver.example.com").await;
    assert!(set.body["errors"].is_null(), "{:?}", set.body);
    dns.refuse("_tenantgate.resolver.example.com");
    let failed = verify(&app, &a).await;
    assert_eq!(failed.code(), "UNAVAILABLE", "{:?}", failed.body);
    let message = failed.body["errors"][0]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "the DNS lookup of the verification record failed; try again later"
    );
    let note = custom_domain(&app, &a).await["lastResult"].clone();
    assert_eq!(note, message, "the stored note says no more");
}

#[tokio::test]
async fn reserved_and_lookalike_slugs_are_never_taken() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    // A tenant named like the service's own address gets a suffixed slug.
    let (a, _, _) = app.sign_up("owner@reserved.test", "Admin").await;
    let slug = app
        .gql("{ tenant { slug } }", json!({}), Some(&a))
        .await
        .body["data"]["tenant"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(slug.starts_with("admin-"), "{slug}");
    for taken in ["login", "www", "api", "xn--pple-43d", "ab--cd"] {
        let refused = app
            .gql(
                "mutation($s: String!) { updateTenant(input: {slug: $s}) { slug } }",
                json!({ "s": taken }),
                Some(&a),
            )
            .await;
        assert_eq!(
            refused.code(),
            "BAD_USER_INPUT",
            "{taken}: {:?}",
            refused.body
        );
    }
    let unknown = host_tenant(&app, &format!("login.{BASE}")).await;
    assert_eq!(unknown.code(), "NOT_FOUND");
}

/// Waits until `downgrade.example.com` routes to `wanted` (the change is
/// announced by NOTIFY).
async fn routed(app: &TestApp, what: &str, wanted: Value) {
    eventually(what, wanted, || {
        host_tenant_id(app, "downgrade.example.com")
    })
    .await;
}

#[tokio::test]
async fn custom_domains_route_only_for_active_tenants_on_a_plan_with_them() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (a, _, a_tenant) = app.sign_up("owner@downgrade.test", "Downgrade").await;
    verified_domain(&app, &dns, &a, &a_tenant, "downgrade.example.com").await;
    routed(&app, "verified", json!(a_tenant)).await;
    // Downgraded off custom domains: it stops routing; back on, it routes.
    app.set_plan(&a_tenant, "free").await;
    routed(&app, "a downgrade stops routing", Value::Null).await;
    app.set_plan(&a_tenant, "pro").await;
    routed(&app, "upgraded again", json!(a_tenant)).await;
    // Suspended (or pending deletion, the same filter): no routing either.
    app.db
        .count(&format!(
            "WITH v AS (UPDATE tenants SET status = 'suspended' WHERE id = '{a_tenant}' \
             RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    routed(&app, "suspended", Value::Null).await;
}
