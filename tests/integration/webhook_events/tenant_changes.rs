//! `tenant.updated` for the tenant's settings changed outside
//! `updateTenant`: a platform admin's `setTenantPlan`, the allowed origins
//! of its publishable keys, and its custom domain (set, verified,
//! un-verified by the daily re-check, removed), each with what changed and
//! never the domain's token; the other tenant hears nothing.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Event, events, ok, since};
use crate::plans::{SET_PLAN, platform_admin};
use crate::publishable::add_origin;
use crate::support::TestApp;
use crate::support::dns::DnsServer;

const REMOVE_ORIGIN: &str = "mutation($o: String!) { removeAllowedOrigin(origin: $o) }";
const SET_DOMAIN: &str =
    "mutation($d: String!) { setCustomDomain(domain: $d) { domain status recordValue } }";
const VERIFY: &str = "mutation { verifyCustomDomain { status } }";
const REMOVE_DOMAIN: &str = "mutation { removeCustomDomain }";

fn updated(e: &[Event]) -> Vec<&Event> {
    e.iter().filter(|e| e.kind == "tenant.updated").collect()
}

/// The one `tenant.updated` among `e`, changing `field`.
fn one_change<'a>(e: &'a [Event], field: &str) -> &'a Value {
    let u = updated(e);
    assert_eq!(u.len(), 1, "{e:?}");
    assert_eq!(u[0].data["changed"], json!([field]), "{e:?}");
    assert!(u[0].data["name"].is_string() && u[0].data["slug"].is_string());
    &u[0].data
}

#[tokio::test]
async fn plans_and_origins_changes_are_told_as_tenant_updated() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("owner@told.test", "Told").await;
    let (_, _, other) = app.sign_up("owner@quiet-told.test", "Quiet").await;
    let staff = platform_admin(&app, "staff@told.test").await;

    let seen = events(&app, &tenant).await.len();
    let a = app
        .gql(SET_PLAN, json!({ "t": tenant, "p": "pro" }), Some(&staff))
        .await;
    ok(&a, "setTenantPlan");
    let e = since(&app, &tenant, seen).await;
    let d = one_change(&e, "plan");
    assert_eq!(d["plan"], "pro");
    assert_eq!(d["previous"], json!({ "plan": "free" }));
    assert_eq!(d["tenantId"], tenant.as_str());

    let seen = seen + e.len();
    ok(
        &add_origin(&app, &owner, "https://Shop.Example.com/").await,
        "addAllowedOrigin",
    );
    let e = since(&app, &tenant, seen).await;
    let d = one_change(&e, "allowedOrigins");
    assert_eq!(d["allowedOrigins"], json!(["https://shop.example.com"]));
    assert_eq!(d["previous"], json!({ "allowedOrigins": [] }));

    // A refused change (already allowed) tells nothing.
    let seen = seen + e.len();
    let a = add_origin(&app, &owner, "https://shop.example.com").await;
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);
    assert!(since(&app, &tenant, seen).await.is_empty());

    ok(
        &app.gql(
            REMOVE_ORIGIN,
            json!({ "o": "https://shop.example.com" }),
            Some(&owner),
        )
        .await,
        "removeAllowedOrigin",
    );
    let e = since(&app, &tenant, seen).await;
    let d = one_change(&e, "allowedOrigins");
    assert_eq!(d["allowedOrigins"], json!([]));
    assert_eq!(
        d["previous"],
        json!({ "allowedOrigins": ["https://shop.example.com"] })
    );
    assert!(updated(&events(&app, &other).await).is_empty());
}

#[tokio::test]
async fn custom_domain_changes_are_told_as_tenant_updated_without_the_token() {
    let dns = DnsServer::start().await;
    let addr = dns.addr;
    let app = TestApp::spawn_tuned(move |s| {
        s.domains.base_domain = Some("app.example.test".into());
        s.domains.dns_servers = vec![addr];
        s.domains.dns_timeout = Duration::from_millis(700);
    })
    .await;
    let (owner, _, tenant) = app.sign_up("owner@domain-told.test", "Domain").await;
    let (_, _, other) = app.sign_up("owner@domain-quiet.test", "Quiet").await;
    app.set_plan(&tenant, "pro").await;

    let mut seen = events(&app, &tenant).await.len();
    let mut next = async |field: &str| -> Value {
        let e = since(&app, &tenant, seen).await;
        seen += e.len();
        one_change(&e, field).clone()
    };
    let set = app
        .gql(SET_DOMAIN, json!({ "d": "told.example.com" }), Some(&owner))
        .await;
    let token = ok(&set, "setCustomDomain")["setCustomDomain"]["recordValue"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = next("customDomain").await;
    assert_eq!(
        d["customDomain"],
        json!({ "domain": "told.example.com", "status": "pending", "verifiedAt": null })
    );
    assert_eq!(d["previous"], json!({ "customDomain": null }));

    dns.set_txt("_tenantgate.told.example.com", &[&token]);
    let v = app.gql(VERIFY, json!({}), Some(&owner)).await;
    assert_eq!(ok(&v, "verify")["verifyCustomDomain"]["status"], "VERIFIED");
    let d = next("customDomain").await;
    assert_eq!(d["customDomain"]["status"], "verified");
    assert!(d["customDomain"]["verifiedAt"].is_string(), "{d}");
    assert_eq!(d["previous"]["customDomain"]["status"], "pending");

    // The record gone for 72 hours: the re-check un-verifies it.
    dns.remove("_tenantgate.told.example.com");
    let now = chrono::Utc::now();
    let run = |at| tenantgate::domains::recheck::run(&app.state.domains, &app.state.db, at);
    run(now + chrono::Duration::hours(25)).await.unwrap();
    assert_eq!(
        run(now + chrono::Duration::hours(25 + 73))
            .await
            .unwrap()
            .unverified,
        1
    );
    let d = next("customDomain").await;
    assert_eq!(d["customDomain"]["status"], "failed");
    assert_eq!(d["customDomain"]["verifiedAt"], Value::Null);
    assert_eq!(d["previous"]["customDomain"]["status"], "verified");

    ok(
        &app.gql(REMOVE_DOMAIN, json!({}), Some(&owner)).await,
        "removeCustomDomain",
    );
    let d = next("customDomain").await;
    assert_eq!(d["customDomain"], Value::Null);
    assert_eq!(d["previous"]["customDomain"]["domain"], "told.example.com");

    let all = events(&app, &tenant).await;
    assert!(
        all.iter().all(|e| !e.data.to_string().contains(&token)),
        "no event holds the token"
    );
    assert!(updated(&events(&app, &other).await).is_empty());
}
