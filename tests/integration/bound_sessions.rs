//! Sessions signed in on a tenant's custom domain are bound to that tenant:
//! they never read the user's other tenants, never use platform-admin powers,
//! keep the binding through refreshes, and the same user signed in on the
//! portal's own address (or a subdomain of the base domain) is unaffected.

use serde_json::{Value, json};

use crate::support::dns::DnsServer;
use crate::support::hosts::{BASE, gql_on, spawn, verified_domain};
use crate::support::{PASSWORD, TestApp};

const DOMAIN: &str = "portal.bound.example";
pub(crate) const LOG_IN: &str =
    "mutation($i: LogInInput!) { logIn(input: $i) { accessToken refreshToken tenantId } }";
pub(crate) const REFRESH: &str =
    "mutation($t: String) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";
const ADMIN: &str = "{ admin { stats { users } } }";
const VIEWER: &str = "{ viewer { isPlatformAdmin memberships { tenant { id } } } }";

/// Signs `email` in on `host`: (access token, refresh token, tenant id).
pub(crate) async fn log_in_on(app: &TestApp, host: &str, email: &str) -> (String, String, Value) {
    let a = gql_on(
        app,
        host,
        LOG_IN,
        json!({ "i": { "email": email, "password": PASSWORD } }),
        None,
        &[],
    )
    .await;
    let p = &a.body["data"]["logIn"];
    assert!(p["accessToken"].is_string(), "{:?}", a.body);
    (
        p["accessToken"].as_str().unwrap().to_owned(),
        p["refreshToken"].as_str().unwrap().to_owned(),
        p["tenantId"].clone(),
    )
}

/// `{ tenant { id } }` on the portal's own address, naming `tenant`.
async fn tenant_as(app: &TestApp, token: &str, tenant: &str) -> (Value, String) {
    let a = gql_on(
        app,
        "127.0.0.1",
        "{ tenant { id } }",
        json!({}),
        Some(token),
        &[("x-tenant-id", tenant)],
    )
    .await;
    (a.body["data"]["tenant"]["id"].clone(), a.code().to_owned())
}

#[tokio::test]
async fn sessions_signed_in_on_a_custom_domain_act_only_in_its_tenant() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (ada, ada_id, acme) = app.sign_up("ada@bound.test", "Bound Acme").await;
    let (_, _, globex) = app.sign_up("grace@bound.test", "Bound Globex").await;
    verified_domain(&app, &dns, &ada, &acme, DOMAIN).await;
    // Ada also belongs to Globex, and is a platform admin.
    app.db
        .count(&format!(
            "WITH v AS (INSERT INTO memberships (tenant_id, user_id, role) \
             VALUES ('{globex}', '{ada_id}', 'member') RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    tenantgate::admin::set_platform_admin(&app.db.url, "ada@bound.test", true)
        .await
        .unwrap();

    // Signed in on Acme's custom domain: bound to Acme.
    let (bound, refresh, tenant) = log_in_on(&app, DOMAIN, "ada@bound.test").await;
    assert_eq!(tenant, acme.as_str());
    let check_bound = async |token: &str| {
        // Its own tenant works, on the domain and on the portal's address.
        assert_eq!(tenant_as(&app, token, &acme).await.0, acme.as_str());
        let own = gql_on(
            &app,
            DOMAIN,
            "{ tenant { id } }",
            json!({}),
            Some(token),
            &[],
        )
        .await;
        assert_eq!(
            own.body["data"]["tenant"]["id"],
            acme.as_str(),
            "{:?}",
            own.body
        );
        // The other tenant: FORBIDDEN, nothing of it read.
        let (other, code) = tenant_as(&app, token, &globex).await;
        assert!(other.is_null());
        assert_eq!(code, "FORBIDDEN");
        let switched = app
            .gql(
                "mutation($t: ID!) { switchTenant(tenantId: $t) { accessToken } }",
                json!({ "t": globex }),
                Some(token),
            )
            .await;
        assert_eq!(switched.code(), "FORBIDDEN", "{:?}", switched.body);
        // No platform-admin powers, and only Acme listed.
        let admin = app.gql(ADMIN, json!({}), Some(token)).await;
        assert_eq!(admin.code(), "FORBIDDEN", "{:?}", admin.body);
        let viewer = app.gql(VIEWER, json!({}), Some(token)).await;
        assert_eq!(viewer.body["data"]["viewer"]["isPlatformAdmin"], false);
        assert_eq!(
            viewer.body["data"]["viewer"]["memberships"],
            json!([{ "tenant": { "id": acme } }])
        );
        // Nor what concerns every tenant of the person.
        let export = app
            .gql(
                "mutation { requestMyDataExport { id } }",
                json!({}),
                Some(token),
            )
            .await;
        assert_eq!(export.code(), "FORBIDDEN", "{:?}", export.body);
    };
    check_bound(&bound).await;

    // A refresh (on the portal's own address) keeps the binding.
    let r = app.gql(REFRESH, json!({ "t": refresh }), None).await;
    let refreshed = r.body["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .to_owned();
    check_bound(&refreshed).await;
    // The binding is stored, and the runtime role cannot clear it.
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM sessions WHERE user_id = '{ada_id}' \
                 AND bound_tenant_id = '{acme}'"
            ))
            .await,
        1
    );
    let mut runtime =
        <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(
            &app.db.app_url,
        )
        .await
        .unwrap();
    let cleared = diesel_async::SimpleAsyncConnection::batch_execute(
        &mut runtime,
        &format!(
            "SET ROLE tenantgate_app; UPDATE sessions SET bound_tenant_id = NULL \
             WHERE user_id = '{ada_id}'"
        ),
    )
    .await;
    let err = cleared.expect_err("the runtime role may not change a binding");
    assert!(err.to_string().contains("permission denied"), "{err}");

    // The same user on the portal's address, or on Acme's subdomain of the
    // base domain (ours): unbound, everything as before.
    for host in ["127.0.0.1".to_owned(), format!("bound-acme.{BASE}")] {
        let (free, _, _) = log_in_on(&app, &host, "ada@bound.test").await;
        assert_eq!(
            tenant_as(&app, &free, &globex).await.0,
            globex.as_str(),
            "{host}"
        );
        let admin = app.gql(ADMIN, json!({}), Some(&free)).await;
        assert!(admin.body["errors"].is_null(), "{host}: {:?}", admin.body);
        let viewer = app.gql(VIEWER, json!({}), Some(&free)).await;
        assert_eq!(viewer.body["data"]["viewer"]["isPlatformAdmin"], true);
        assert_eq!(
            viewer.body["data"]["viewer"]["memberships"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}

#[tokio::test]
async fn a_custom_domain_binds_sessions_of_links_and_sign_ups_too() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (ada, _, acme) = app.sign_up("ada@links-bound.test", "Links Acme").await;
    verified_domain(&app, &dns, &ada, &acme, DOMAIN).await;
    // A sign-up on the domain: its session is bound to Acme, so the new
    // tenant is not reachable with it (sign in on the portal for that).
    let a = gql_on(
        &app,
        DOMAIN,
        "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken tenant { id } } }",
        json!({ "i": { "email": "new@links-bound.test", "password": PASSWORD, "tenantName": "Newco" } }),
        None,
        &[],
    )
    .await;
    let token = a.body["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", a.body))
        .to_owned();
    let newco = a.body["data"]["signUp"]["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(tenant_as(&app, &token, &newco).await.1, "FORBIDDEN");
    // A magic link asked for on the domain points back at it (on the
    // portal's address, at the portal), and followed there it is bound too.
    let ask = async |host: &str| {
        let before = app.mail_bodies("ada@links-bound.test").await.len();
        gql_on(
            &app,
            host,
            "mutation($e: String!) { requestMagicLink(email: $e) }",
            json!({ "e": "ada@links-bound.test" }),
            None,
            &[],
        )
        .await;
        // Links are queued after the answer: wait for this one.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let mut bodies = app.mail_bodies("ada@links-bound.test").await;
            if bodies.len() > before {
                break bodies.remove(0);
            }
            assert!(std::time::Instant::now() < deadline, "no link mailed");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let portal = ask("127.0.0.1").await;
    assert!(portal.contains(&format!("{}/auth/", app.url)), "{portal}");
    let mailed = ask(DOMAIN).await;
    assert!(
        mailed.contains(&format!("http://{DOMAIN}/auth/")),
        "{mailed}"
    );
    let token = crate::identity::mailed_token(&app, "ada@links-bound.test", "tgm").await;
    let v = gql_on(
        &app,
        DOMAIN,
        "mutation($t: String!) { verifyMagicLink(token: $t) { accessToken } }",
        json!({ "t": token }),
        None,
        &[],
    )
    .await;
    let linked = v.body["data"]["verifyMagicLink"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", v.body))
        .to_owned();
    let admin = app.gql(ADMIN, json!({}), Some(&linked)).await;
    assert_eq!(admin.code(), "FORBIDDEN");
    let viewer = app.gql(VIEWER, json!({}), Some(&linked)).await;
    assert_eq!(
        viewer.body["data"]["viewer"]["memberships"],
        json!([{ "tenant": { "id": acme } }])
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM sessions WHERE bound_tenant_id IS NOT NULL")
            .await,
        2
    );
}

#[tokio::test]
async fn bound_sessions_never_read_or_download_the_personal_export_or_another_tenants() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (ada, ada_id, acme) = app.sign_up("ada@export-bound.test", "Export Acme").await;
    let (_, _, globex) = app
        .sign_up("grace@export-bound.test", "Export Globex")
        .await;
    verified_domain(&app, &dns, &ada, &acme, DOMAIN).await;
    app.db
        .count(&format!(
            "WITH v AS (INSERT INTO memberships (tenant_id, user_id, role) \
             VALUES ('{globex}', '{ada_id}', 'owner') RETURNING 1) SELECT count(*) AS n FROM v"
        ))
        .await;
    // On the portal (unbound): a personal export and one of each tenant.
    let on_portal = async |query: &str, vars: Value, tenant: &str| {
        let a = gql_on(
            &app,
            "127.0.0.1",
            query,
            vars,
            Some(&ada),
            &[("x-tenant-id", tenant)],
        )
        .await;
        assert!(a.body["errors"].is_null(), "{:?}", a.body);
        a.body["data"].clone()
    };
    let id_of = |d: Value, field: &str| d[field]["id"].as_str().unwrap().to_owned();
    let personal = id_of(
        on_portal("mutation { requestMyDataExport { id } }", json!({}), &acme).await,
        "requestMyDataExport",
    );
    let mut tenant_exports = Vec::new();
    for tenant in [&acme, &globex] {
        let d = on_portal("mutation { requestDataExport { id } }", json!({}), tenant).await;
        tenant_exports.push(id_of(d, "requestDataExport"));
    }
    while app.state.exports.run_once().await.expect("the worker runs") {}
    const MINE: &str = "query($id: ID!) { viewer { dataExport(id: $id) { downloadUrl } } }";
    const THEIRS: &str = "query($id: ID!) { tenant { dataExport(id: $id) { downloadUrl } } }";
    let url = |d: Value| {
        let node = if d["tenant"].is_null() {
            &d["viewer"]["dataExport"]
        } else {
            &d["tenant"]["dataExport"]
        };
        node["downloadUrl"].as_str().unwrap().to_owned()
    };
    let personal_url = url(on_portal(MINE, json!({ "id": personal }), &acme).await);
    let acme_url = url(on_portal(THEIRS, json!({ "id": tenant_exports[0] }), &acme).await);
    let globex_url = url(on_portal(THEIRS, json!({ "id": tenant_exports[1] }), &globex).await);

    // Bound to Acme: no personal export listed or read, none downloaded, nor
    // Globex's; Acme's own still is.
    let (bound, _, _) = log_in_on(&app, DOMAIN, "ada@export-bound.test").await;
    for (query, vars) in [
        ("{ viewer { dataExports { nodes { id } } } }", json!({})),
        (MINE, json!({ "id": personal })),
    ] {
        let a = gql_on(&app, DOMAIN, query, vars, Some(&bound), &[]).await;
        assert_eq!(a.code(), "FORBIDDEN", "{query}: {:?}", a.body);
    }
    let download = async |url: &str| {
        app.client
            .get(url)
            .header("authorization", format!("Bearer {bound}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(download(&personal_url).await, 403, "the personal export");
    assert_eq!(download(&globex_url).await, 403, "another tenant's export");
    assert_eq!(download(&acme_url).await, 200, "its own tenant's export");
    // The refused links were not used up: Ada on the portal still opens them.
    for url in [&personal_url, &globex_url] {
        let res = app
            .client
            .get(url)
            .header("authorization", format!("Bearer {ada}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{url}");
    }
}

#[tokio::test]
async fn invitations_accepted_by_a_bound_session_stay_in_its_tenant() {
    const ACCEPT: &str =
        "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }";
    const INVITE: &str = "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id } }";
    const BOB: &str = "bob@invite-bound.test";
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (ada, _, acme) = app.sign_up("ada@invite-bound.test", "Invite Acme").await;
    let (grace, _, _) = app
        .sign_up("grace@invite-bound.test", "Invite Globex")
        .await;
    verified_domain(&app, &dns, &ada, &acme, DOMAIN).await;
    // Bob signs up on Acme's domain: his session is bound to Acme.
    let a = gql_on(
        &app,
        DOMAIN,
        "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } tenant { id } } }",
        json!({ "i": { "email": BOB, "password": PASSWORD, "tenantName": "Bobco" } }),
        None,
        &[],
    )
    .await;
    let bob = a.body["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", a.body))
        .to_owned();
    let bob_id = a.body["data"]["signUp"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // All tokens mailed to Bob, once there are `n`.
    let tokens = async |n: usize| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let found: Vec<String> = app
                .mail_bodies(BOB)
                .await
                .iter()
                .filter_map(|b| {
                    let start = b.find("token=tgi.")? + "token=".len();
                    b[start..]
                        .split(char::is_whitespace)
                        .next()
                        .map(str::to_owned)
                })
                .collect();
            if found.len() >= n {
                break found;
            }
            assert!(std::time::Instant::now() < deadline, "no invitation mailed");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let invite = async |owner: &str| {
        let i = app
            .gql(
                INVITE,
                json!({ "i": { "email": BOB, "role": "MEMBER" } }),
                Some(owner),
            )
            .await;
        assert!(i.body["errors"].is_null(), "{:?}", i.body);
    };
    // Globex's invitation, accepted with the bound session on the portal's
    // address: refused, no session made.
    invite(&grace).await;
    let globex_token = tokens(1).await.remove(0);
    let sessions = async || {
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM sessions WHERE user_id = '{bob_id}'"
            ))
            .await
    };
    let before = sessions().await;
    let refused = app
        .gql(
            ACCEPT,
            json!({ "i": { "token": globex_token } }),
            Some(&bob),
        )
        .await;
    assert_eq!(refused.code(), "FORBIDDEN", "{:?}", refused.body);
    assert_eq!(sessions().await, before);
    // Acme's, the same way: accepted, and the new session is bound to Acme.
    invite(&ada).await;
    let acme_token = tokens(2)
        .await
        .into_iter()
        .find(|t| *t != globex_token)
        .unwrap();
    let accepted = app
        .gql(ACCEPT, json!({ "i": { "token": acme_token } }), Some(&bob))
        .await;
    let joined = accepted.body["data"]["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", accepted.body))
        .to_owned();
    assert_eq!(sessions().await, before + 1);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM sessions WHERE user_id = '{bob_id}' \
                 AND bound_tenant_id IS DISTINCT FROM '{acme}'"
            ))
            .await,
        0,
        "every session of Bob's is bound to Acme"
    );
    let bobco = a.body["data"]["signUp"]["tenant"]["id"].as_str().unwrap();
    assert_eq!(tenant_as(&app, &joined, bobco).await.1, "FORBIDDEN");
    assert_eq!(tenant_as(&app, &joined, &acme).await.0, acme.as_str());
}
