//! A custom host that routes to no tenant (never claimed, not verified,
//! removed) is not the portal: nothing there starts or carries a session.

use serde_json::{Value, json};

use crate::bound_sessions::{LOG_IN, REFRESH, log_in_on};
use crate::support::PASSWORD;
use crate::support::dns::DnsServer;
use crate::support::hosts::{gql_on, spawn, verified_domain};

#[tokio::test]
async fn a_custom_host_that_routes_nowhere_starts_and_carries_no_session() {
    const CLAIMED: &str = "portal.unrouted.example";
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (ada, ada_id, acme) = app.sign_up("ada@unrouted.test", "Unrouted Acme").await;
    let sessions = async || {
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM sessions WHERE user_id = '{ada_id}'"
            ))
            .await
    };
    let refused_everywhere = async |host: &str, refresh: Option<&str>| {
        let before = sessions().await;
        let log_in = gql_on(
            &app,
            host,
            LOG_IN,
            json!({ "i": { "email": "ada@unrouted.test", "password": PASSWORD } }),
            None,
            &[],
        )
        .await;
        assert_eq!(log_in.code(), "NOT_FOUND", "{host}: {:?}", log_in.body);
        let sign_up = gql_on(
            &app,
            host,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            json!({ "i": { "email": "new@unrouted.test", "password": PASSWORD, "tenantName": "New" } }),
            None,
            &[],
        )
        .await;
        assert_eq!(sign_up.code(), "NOT_FOUND", "{host}: {:?}", sign_up.body);
        if let Some(refresh) = refresh {
            // The host-only cookie a browser keeps for the domain, sent back.
            let cookie = format!("{}={refresh}", tenantgate::auth::REFRESH_COOKIE);
            let r = gql_on(&app, host, REFRESH, json!({}), None, &[("cookie", &cookie)]).await;
            assert_eq!(r.code(), "NOT_FOUND", "{host}: {:?}", r.body);
            let r = gql_on(&app, host, REFRESH, json!({ "t": refresh }), None, &[]).await;
            assert_eq!(r.code(), "NOT_FOUND", "{host}: {:?}", r.body);
        }
        assert_eq!(sessions().await, before, "{host}: a session was started");
        // Nor the web app, the playground or the file endpoints.
        for path in [
            "/",
            "/auth/sign-in",
            "/playground",
            "/v1/exports/x/download",
        ] {
            let res = app
                .client
                .get(format!("{}{path}", app.url))
                .header("host", host)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "{host}{path}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
        }
    };
    // A name never claimed, and one claimed but not verified.
    refused_everywhere("made-up.unrouted.example", None).await;
    app.set_plan(&acme, "pro").await;
    let set = crate::support::hosts::set_domain(&app, &ada, CLAIMED).await;
    assert!(set.body["errors"].is_null(), "{:?}", set.body);
    refused_everywhere(CLAIMED, None).await;
    // Verified: a bound session; then removed: its cookie is refused there.
    verified_domain(&app, &dns, &ada, &acme, CLAIMED).await;
    let (_, refresh, _) = log_in_on(&app, CLAIMED, "ada@unrouted.test").await;
    let removed = app
        .gql("mutation { removeCustomDomain }", json!({}), Some(&ada))
        .await;
    assert!(removed.body["errors"].is_null(), "{:?}", removed.body);
    refused_everywhere(CLAIMED, Some(&refresh)).await;
    // The portal's own names keep working: its address, localhost, names
    // without a dot.
    for host in ["127.0.0.1", "localhost", "tenantgate"] {
        log_in_on(&app, host, "ada@unrouted.test").await;
        let res = app
            .client
            .get(format!("{}/", app.url))
            .header("host", host)
            .send()
            .await
            .unwrap();
        // (The tests' server may have no web app built: 503, not refused.)
        assert_ne!(res.status(), 404, "{host}");
    }
}
