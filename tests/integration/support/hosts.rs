//! Test support for tenants by domain: a server whose base domain is
//! [`BASE`] and whose TXT lookups go to a test DNS server, requests sent as if
//! to another host, custom domains claimed and verified in one call, and
//! waiting (with a deadline) for what other instances learn by NOTIFY.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::dns::DnsServer;
use super::{Answer, TestApp};

/// The base domain of [`spawn`]'s servers.
pub const BASE: &str = "app.example.test";

/// What `customDomain` answers with.
pub const DOMAIN_FIELDS: &str =
    "domain status recordName recordValue verifiedAt lastCheckedAt lastResult missingSince";

/// A server on base domain [`BASE`] that looks TXT records up on `dns`.
pub async fn spawn(dns: &DnsServer) -> TestApp {
    let addr = dns.addr;
    TestApp::spawn_tuned(move |s| {
        s.domains.base_domain = Some(BASE.into());
        s.domains.dns_servers = vec![addr];
        s.domains.dns_timeout = Duration::from_millis(700);
    })
    .await
}

/// A second instance over `app`'s database with the same base domain and
/// DNS server (its own pool, routing index and LISTEN connection).
pub async fn peer(app: &TestApp, dns: &DnsServer) -> TestApp {
    let addr = dns.addr;
    let db = super::TestDb {
        url: app.db.url.clone(),
        app_url: app.db.app_url.clone(),
        name: String::new(),
    };
    let pool = tenantgate::db::Db::connect(&db.app_url, &Default::default()).expect("pool");
    TestApp::serve_tuned(
        db,
        pool,
        tenantgate::config::Environment::Development,
        tenantgate::usage::limits::Limiter::local(),
        move |s| {
            s.domains.base_domain = Some(BASE.into());
            s.domains.dns_servers = vec![addr];
        },
    )
    .await
}

/// POSTs an operation as if sent to `host`, with extra headers.
pub async fn gql_on(
    app: &TestApp,
    host: &str,
    query: &str,
    variables: Value,
    bearer: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("host", host)
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(json!({ "query": query, "variables": variables }).to_string());
    if let Some(bearer) = bearer {
        req = req.header("authorization", format!("Bearer {bearer}"));
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.send(req).await
}

/// The active tenant's `customDomain` (errors fail the test).
pub async fn custom_domain(app: &TestApp, token: &str) -> Value {
    let a = app
        .gql(
            &format!("{{ tenant {{ customDomain {{ {DOMAIN_FIELDS} }} }} }}"),
            json!({}),
            Some(token),
        )
        .await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    a.body["data"]["tenant"]["customDomain"].clone()
}

/// `setCustomDomain(domain:)` as `token`.
pub async fn set_domain(app: &TestApp, token: &str, domain: &str) -> Answer {
    app.gql(
        &format!("mutation($d: String!) {{ setCustomDomain(domain: $d) {{ {DOMAIN_FIELDS} }} }}"),
        json!({ "d": domain }),
        Some(token),
    )
    .await
}

/// `verifyCustomDomain` as `token`.
pub async fn verify(app: &TestApp, token: &str) -> Answer {
    app.gql(
        &format!("mutation {{ verifyCustomDomain {{ {DOMAIN_FIELDS} }} }}"),
        json!({}),
        Some(token),
    )
    .await
}

/// `hostTenant` as an anonymous caller on `host`.
pub async fn host_tenant(app: &TestApp, host: &str) -> Answer {
    gql_on(
        app,
        host,
        "{ hostTenant { id name displayName logoUrl primaryColor accentColor } }",
        json!({}),
        None,
        &[],
    )
    .await
}

/// The id `hostTenant` names on `host` (`Null` when none).
pub async fn host_tenant_id(app: &TestApp, host: &str) -> Value {
    host_tenant(app, host).await.body["data"]["hostTenant"]["id"].clone()
}

/// Puts `tenant` (whose owner is `token`) on the pro plan, claims `domain`,
/// publishes its token on `dns` and verifies it; returns the token.
pub async fn verified_domain(
    app: &TestApp,
    dns: &DnsServer,
    token: &str,
    tenant: &str,
    domain: &str,
) -> String {
    app.set_plan(tenant, "pro").await;
    let set = set_domain(app, token, domain).await;
    let record = set.body["data"]["setCustomDomain"]["recordValue"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", set.body))
        .to_owned();
    dns.set_txt(&format!("_tenantgate.{domain}"), &[&record]);
    let ok = verify(app, token).await;
    assert_eq!(
        ok.body["data"]["verifyCustomDomain"]["status"], "VERIFIED",
        "{:?}",
        ok.body
    );
    record
}

/// Asks `probe` until it answers `wanted`, for at most 5 seconds (then fails
/// the test, saying `what`): for what another instance learns by NOTIFY.
pub async fn eventually<F, Fut>(what: &str, wanted: Value, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Value>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = probe().await;
        if found == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {found} after 5 s, wanted {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
