//! Sessions (sign-in, refresh rotation and reuse, sign-out), sign-in budgets,
//! links by email, invitations and members (with constant SQL round trips),
//! the platform-admin path, and the audit trail with its live feed.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Answer, PASSWORD, TestApp};

const LOG_IN: &str = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken refreshToken tenantId user { email } } }";
const REFRESH: &str =
    "mutation($t: String) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";
const VIEWER: &str = "{ viewer { user { email } role tenant { id name } } }";

async fn log_in(app: &TestApp, email: &str, password: &str) -> Answer {
    app.gql(
        LOG_IN,
        json!({ "i": { "email": email, "password": password } }),
        None,
    )
    .await
}

/// POSTs with extra headers.
async fn gql_with(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("content-type", "application/json")
        .body(json!({ "query": query, "variables": variables }).to_string());
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app.send(req).await
}

/// The newest token of `prefix` mailed to `to`, read from the outbox.
pub(crate) async fn mailed_token(app: &TestApp, to: &str, prefix: &str) -> String {
    let needle = format!("token={prefix}.");
    // Links are sent after the answer: wait for the mail to be queued.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let body = loop {
        let found = app
            .mail_bodies(to)
            .await
            .into_iter()
            .find(|body| body.contains(&needle));
        if let Some(body) = found {
            break body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {prefix} token mailed to {to}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let start = body.find(&needle).unwrap() + "token=".len();
    body[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_owned()
}

/// Invites `email` as `role` into the caller's tenant and accepts as a new
/// account; returns the invitee's session token.
pub(crate) async fn invite_and_join(
    app: &TestApp,
    owner_token: &str,
    email: &str,
    role: &str,
) -> String {
    let a = app
        .gql(
            "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id status } }",
            json!({ "i": { "email": email, "role": role } }),
            Some(owner_token),
        )
        .await;
    assert_eq!(
        a.body["data"]["inviteMember"]["status"], "PENDING",
        "{:?}",
        a.body
    );
    let token = mailed_token(app, email, "tgi").await;
    let a = app
        .gql(
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }",
            json!({ "i": { "token": token, "password": PASSWORD } }),
            None,
        )
        .await;
    a.body["data"]["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("accept failed: {:?}", a.body))
        .to_owned()
}

#[tokio::test]
async fn log_in_refresh_rotation_reuse_and_log_out() {
    let app = TestApp::spawn().await;
    app.sign_up("ses@example.com", "Sessions").await;
    let a = log_in(&app, "SES@example.com", PASSWORD).await;
    let session = &a.body["data"]["logIn"];
    let access = session["accessToken"].as_str().unwrap().to_owned();
    let refresh1 = session["refreshToken"].as_str().unwrap().to_owned();
    assert!(refresh1.starts_with("tgr."));
    assert!(session["tenantId"].is_string());
    // Only a hash of the refresh token is stored.
    let plain = app
        .db
        .count(&format!(
            "SELECT count(*) AS n FROM refresh_tokens WHERE encode(token_hash, 'escape') LIKE '%{}%'",
            &refresh1[refresh1.len() - 20..]
        ))
        .await;
    assert_eq!(plain, 0);
    // A refresh token is not an access token.
    assert_eq!(
        app.gql(VIEWER, json!({}), Some(&refresh1)).await.code(),
        "UNAUTHENTICATED"
    );

    // Rotation: the new token works, the old one is spent...
    let r = app.gql(REFRESH, json!({ "t": refresh1 }), None).await;
    let refresh2 = r.body["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let access2 = r.body["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(refresh1, refresh2);
    assert_eq!(
        app.gql(VIEWER, json!({}), Some(&access2)).await.body["data"]["viewer"]["user"]["email"],
        "ses@example.com"
    );
    // ...and presenting it again revokes the whole family, the new token included.
    // Presented again at once (two tabs, a retry): refused, the session lives on.
    let twin = app.gql(REFRESH, json!({ "t": refresh1 }), None).await;
    assert_eq!(twin.code(), "UNAUTHENTICATED");
    assert!(app.gql(VIEWER, json!({}), Some(&access2)).await.body["data"]["viewer"].is_object());
    // Presented again later: it leaked, and the whole family is revoked.
    let mut owner = app.db.owner().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut owner,
        "UPDATE refresh_tokens SET rotated_at = now() - interval '1 minute' WHERE rotated_at IS NOT NULL",
    )
    .await
    .unwrap();
    let reuse = app.gql(REFRESH, json!({ "t": refresh1 }), None).await;
    assert_eq!(reuse.code(), "UNAUTHENTICATED");
    assert!(reuse.body.to_string().contains("revoked"));
    assert_eq!(
        app.gql(REFRESH, json!({ "t": refresh2 }), None)
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(VIEWER, json!({}), Some(&access2)).await.code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(VIEWER, json!({}), Some(&access)).await.code(),
        "UNAUTHENTICATED"
    );

    // logOut ends one session at once; logOutEverywhere ends them all.
    let s1 = log_in(&app, "ses@example.com", PASSWORD).await.body["data"]["logIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let s2 = log_in(&app, "ses@example.com", PASSWORD).await.body["data"]["logIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = app.gql("mutation { logOut }", json!({}), Some(&s1)).await;
    assert_eq!(out.body["data"]["logOut"], true);
    assert_eq!(
        app.gql(VIEWER, json!({}), Some(&s1)).await.code(),
        "UNAUTHENTICATED"
    );
    assert!(app.gql(VIEWER, json!({}), Some(&s2)).await.body["data"]["viewer"].is_object());
    let all = app
        .gql("mutation { logOutEverywhere }", json!({}), Some(&s2))
        .await;
    assert!(all.body["data"]["logOutEverywhere"].as_i64().unwrap() >= 1);
    assert_eq!(
        app.gql(VIEWER, json!({}), Some(&s2)).await.code(),
        "UNAUTHENTICATED"
    );
    // Every session event is in the audit trail.
    let logged = app
        .db
        .count("SELECT count(*) AS n FROM audit_log WHERE action IN ('session.login', 'session.refresh', 'session.revoke', 'session.revoke_all')")
        .await;
    assert!(logged >= 5, "{logged}");
    let refreshed = app
        .db
        .count("SELECT count(*) AS n FROM audit_log WHERE action = 'session.refresh'")
        .await;
    assert_eq!(refreshed, 1, "one successful rotation, one entry");
}

#[tokio::test]
async fn browsers_get_the_refresh_token_as_a_strict_http_only_cookie() {
    let app = TestApp::spawn().await;
    app.sign_up("cookie@example.com", "Cookies").await;
    let origin = [("origin", app.url.as_str())];
    let a = gql_with(
        &app,
        LOG_IN,
        json!({ "i": { "email": "cookie@example.com", "password": PASSWORD } }),
        None,
        &origin,
    )
    .await;
    assert!(
        a.body["data"]["logIn"]["refreshToken"].is_null(),
        "{:?}",
        a.body
    );
    let cookie = a.headers["set-cookie"].to_str().unwrap().to_owned();
    for attr in [
        "tg_refresh=tgr.",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/graphql",
    ] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let value = cookie.split(';').next().unwrap().to_owned();
    let r = gql_with(
        &app,
        REFRESH,
        json!({}),
        None,
        &[("origin", app.url.as_str()), ("cookie", value.as_str())],
    )
    .await;
    assert!(
        r.body["data"]["refreshSession"]["accessToken"].is_string(),
        "{:?}",
        r.body
    );
    assert!(
        r.headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("tg_refresh=tgr.")
    );
}

#[tokio::test]
async fn sign_in_budgets_hold_against_repeats_and_aliases() {
    let app = TestApp::spawn().await;
    app.sign_up("budget@example.com", "Budget").await;
    // Aliases cannot multiply attempts: one session field per request.
    let doubled = app
        .gql(
            "mutation { a: logIn(input: {email: \"budget@example.com\", password: \"x\"}) { accessToken } \
                        b: logIn(input: {email: \"budget@example.com\", password: \"y\"}) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(doubled.code(), "BAD_USER_INPUT");
    let through_fragment = app
        .gql(
            "mutation { ...F ...G } fragment F on Mutation { logIn(input: {email: \"budget@example.com\", password: \"x\"}) { accessToken } } \
             fragment G on Mutation { signUp(input: {email: \"n@example.com\", password: \"x\", tenantName: \"x\"}) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(through_fragment.code(), "BAD_USER_INPUT");

    // Unknown emails and wrong passwords get the same answer.
    let unknown = log_in(&app, "nobody@example.com", PASSWORD).await;
    let wrong = log_in(&app, "budget@example.com", "wrong-password-1").await;
    assert_eq!(unknown.code(), "UNAUTHENTICATED");
    assert_eq!(wrong.code(), "UNAUTHENTICATED");
    assert_eq!(
        unknown.body["errors"][0]["message"],
        wrong.body["errors"][0]["message"]
    );
    // Five failures per account, then RATE_LIMITED, even with the right password.
    for _ in 0..4 {
        assert_eq!(
            log_in(&app, "budget@example.com", "wrong-password-1")
                .await
                .code(),
            "UNAUTHENTICATED"
        );
    }
    let limited = log_in(&app, "budget@example.com", PASSWORD).await;
    assert_eq!(limited.code(), "RATE_LIMITED", "{:?}", limited.body);
    let retry = limited.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // A field error keeps 200 (GraphQL-over-HTTP); the header says when to retry.
    assert_eq!(
        limited.headers["retry-after"].to_str().unwrap(),
        retry.to_string()
    );
    // Another account from the same address still works.
    app.sign_up("other@example.com", "Other").await;
    assert!(log_in(&app, "other@example.com", PASSWORD).await.body["data"]["logIn"].is_object());
}

#[tokio::test]
async fn magic_links_and_password_resets_are_single_use() {
    let app = TestApp::spawn().await;
    let (signed_up, _, _) = app.sign_up_unverified("link@example.com", "Links").await;
    // The same answer for unknown emails, and no mail for them.
    for email in ["link@example.com", "ghost@example.com"] {
        let a = app
            .gql(
                "mutation($e: String!) { requestMagicLink(email: $e) }",
                json!({ "e": email }),
                None,
            )
            .await;
        assert_eq!(a.body["data"]["requestMagicLink"], true);
    }
    let token = mailed_token(&app, "link@example.com", "tgm").await;
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM email_outbox WHERE recipient = 'ghost@example.com'")
            .await,
        0
    );
    let verify = "mutation($t: String!) { verifyMagicLink(token: $t) { accessToken user { email emailVerified } } }";
    let a = app.gql(verify, json!({ "t": token }), None).await;
    assert_eq!(
        a.body["data"]["verifyMagicLink"]["user"]["emailVerified"], true,
        "{:?}",
        a.body
    );
    assert_eq!(
        app.gql(verify, json!({ "t": token }), None).await.code(),
        "UNAUTHENTICATED"
    );
    // Only a hash of the token is stored.
    assert_eq!(
        app.db
            .count(&format!("SELECT count(*) AS n FROM email_tokens WHERE token_hash = convert_to('{token}', 'UTF8')"))
            .await,
        0
    );
    // The address was unverified: whoever registered it before loses it (the
    // password and the sign-up session); the link's session is the one that works.
    assert_eq!(
        log_in(&app, "link@example.com", PASSWORD).await.code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(VIEWER, json!({}), Some(&signed_up)).await.code(),
        "UNAUTHENTICATED"
    );
    let old = a.body["data"]["verifyMagicLink"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app.gql(VIEWER, json!({}), Some(&old)).await.body["data"]["viewer"].is_object());

    // Reset: the new password works; old sessions and other links do not.
    app.gql(
        "mutation { requestMagicLink(email: \"link@example.com\") }",
        json!({}),
        None,
    )
    .await;
    let spare_link = mailed_token(&app, "link@example.com", "tgm").await;
    app.gql(
        "mutation { requestPasswordReset(email: \"link@example.com\") }",
        json!({}),
        None,
    )
    .await;
    let token = mailed_token(&app, "link@example.com", "tgp").await;
    let weak = app
        .gql("mutation($t: String!) { resetPassword(token: $t, newPassword: \"short\") { accessToken } }", json!({ "t": token }), None)
        .await;
    assert_eq!(weak.code(), "BAD_USER_INPUT");
    let reset = app
        .gql("mutation($t: String!) { resetPassword(token: $t, newPassword: \"another-long-passphrase-42\") { accessToken } }", json!({ "t": token }), None)
        .await;
    assert!(
        reset.body["data"]["resetPassword"]["accessToken"].is_string(),
        "{:?}",
        reset.body
    );
    assert_eq!(
        app.gql(VIEWER, json!({}), Some(&old)).await.code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(verify, json!({ "t": spare_link }), None)
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    assert!(
        log_in(&app, "link@example.com", "another-long-passphrase-42")
            .await
            .body["data"]["logIn"]
            .is_object()
    );
}

#[tokio::test]
async fn members_invitations_and_constant_round_trips() {
    let app = TestApp::spawn().await;
    let (owner, _, tenant) = app.sign_up("team-owner@example.com", "Team").await;
    // A team larger than the free plan's.
    app.set_plan(&tenant, "pro").await;
    let members_query = "query($n: Int) { tenant { members(first: $n) { nodes { role user { email } } pageInfo { hasNextPage endCursor } } } }";
    let mut counts = Vec::new();
    for i in 0..12 {
        invite_and_join(&app, &owner, &format!("m{i}@example.com"), "MEMBER").await;
        if i == 1 || i == 11 {
            // Once unmeasured: the first run of a document teaches its
            // compiled read (`graphql::compiled`), so both measured runs are
            // answered the same way.
            app.gql(members_query, json!({ "n": i + 2 }), Some(&owner))
                .await;
            let before = app.state.db.statement_count();
            let a = app
                .gql(members_query, json!({ "n": i + 2 }), Some(&owner))
                .await;
            let nodes = a.body["data"]["tenant"]["members"]["nodes"]
                .as_array()
                .unwrap()
                .len();
            assert_eq!(nodes, i + 2, "{:?}", a.body);
            counts.push(app.state.db.statement_count() - before);
        }
    }
    assert_eq!(
        counts[0], counts[1],
        "SQL statements grew with the page size: {counts:?}"
    );

    // Paging with the cursor reaches everyone exactly once.
    let mut seen = std::collections::HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let a = app
            .gql(
                "query($a: String) { tenant { members(first: 5, after: $a) { nodes { user { email } } pageInfo { hasNextPage endCursor } } } }",
                json!({ "a": after }),
                Some(&owner),
            )
            .await;
        let page = &a.body["data"]["tenant"]["members"];
        for n in page["nodes"].as_array().unwrap() {
            assert!(seen.insert(n["user"]["email"].as_str().unwrap().to_owned()));
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 13);

    // A second invitation to a pending email, or to a member, is a CONFLICT.
    let invite = "mutation($e: String!) { inviteMember(input: {email: $e, role: VIEWER}) { id } }";
    app.gql(invite, json!({ "e": "pending@example.com" }), Some(&owner))
        .await;
    assert_eq!(
        app.gql(invite, json!({ "e": "pending@example.com" }), Some(&owner))
            .await
            .code(),
        "CONFLICT"
    );
    assert_eq!(
        app.gql(invite, json!({ "e": "m0@example.com" }), Some(&owner))
            .await
            .code(),
        "CONFLICT"
    );
    // An existing account must sign in to accept.
    app.sign_up("has-account@example.com", "Elsewhere").await;
    app.gql(
        invite,
        json!({ "e": "has-account@example.com" }),
        Some(&owner),
    )
    .await;
    let token = mailed_token(&app, "has-account@example.com", "tgi").await;
    let accept =
        "mutation($t: String!) { acceptInvitation(input: {token: $t}) { accessToken tenantId } }";
    assert_eq!(
        app.gql(accept, json!({ "t": token }), None).await.code(),
        "FORBIDDEN"
    );
    let theirs = log_in(&app, "has-account@example.com", PASSWORD).await.body["data"]["logIn"]["accessToken"].as_str().unwrap().to_owned();
    let joined = app.gql(accept, json!({ "t": token }), Some(&theirs)).await;
    assert_eq!(
        joined.body["data"]["acceptInvitation"]["tenantId"],
        tenant.as_str(),
        "{:?}",
        joined.body
    );
    // Now in two tenants: memberships lists both, switchTenant moves between them.
    let v = app
        .gql(
            "{ viewer { memberships { role tenant { name } } } }",
            json!({}),
            Some(&theirs),
        )
        .await;
    let names: Vec<&str> = v.body["data"]["viewer"]["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tenant"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Elsewhere", "Team"]);
    let switched = app
        .gql(
            "mutation($t: ID!) { switchTenant(tenantId: $t) { accessToken } }",
            json!({ "t": tenant }),
            Some(&theirs),
        )
        .await;
    let in_team = switched.body["data"]["switchTenant"]["accessToken"]
        .as_str()
        .unwrap();
    let v = app.gql(VIEWER, json!({}), Some(in_team)).await;
    assert_eq!(v.body["data"]["viewer"]["tenant"]["name"], "Team");
    assert_eq!(v.body["data"]["viewer"]["role"], "VIEWER");
    // Revoked invitations cannot be accepted.
    let inv = app
        .gql(invite, json!({ "e": "revoked@example.com" }), Some(&owner))
        .await;
    let id = inv.body["data"]["inviteMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = mailed_token(&app, "revoked@example.com", "tgi").await;
    app.gql(
        "mutation($id: ID!) { revokeInvitation(id: $id) { status } }",
        json!({ "id": id }),
        Some(&owner),
    )
    .await;
    let late = app
        .gql("mutation($t: String!) { acceptInvitation(input: {token: $t, password: \"correct-horse-battery-9\"}) { accessToken } }", json!({ "t": token }), None)
        .await;
    assert_eq!(late.code(), "NOT_FOUND");
}

#[tokio::test]
async fn roles_change_on_the_next_request_and_are_audited() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("boss@example.com", "Roles").await;
    let admin = invite_and_join(&app, &owner, "deputy@example.com", "ADMIN").await;
    let deputy_id = app
        .gql("{ viewer { user { id } } }", json!({}), Some(&admin))
        .await
        .body["data"]["viewer"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invite = "mutation { inviteMember(input: {email: \"x@example.com\", role: ADMIN}) { id } }";
    assert!(
        app.gql(invite, json!({}), Some(&admin)).await.body["data"]["inviteMember"].is_object()
    );
    // Demoted: the same token is refused on the very next request.
    let demote = app
        .gql(
            "mutation($u: ID!) { updateMemberRole(userId: $u, role: MEMBER) { role } }",
            json!({ "u": deputy_id }),
            Some(&owner),
        )
        .await;
    assert_eq!(
        demote.body["data"]["updateMemberRole"]["role"], "MEMBER",
        "{:?}",
        demote.body
    );
    let again = app
        .gql(
            "mutation { inviteMember(input: {email: \"y@example.com\", role: MEMBER}) { id } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(again.code(), "FORBIDDEN");
    // What the admin sent while an admin, and could not send now, is revoked.
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM invitations WHERE email = 'x@example.com' AND revoked_at IS NOT NULL")
            .await,
        1
    );
    // The change is in the audit log with before and after, and the log filters.
    let log = app
        .gql(
            "{ tenant { auditLog(first: 10, filter: {action: \"member.role_change\"}) { nodes { action actorLabel targetId before after requestId } } } }",
            json!({}),
            Some(&owner),
        )
        .await;
    let entry = &log.body["data"]["tenant"]["auditLog"]["nodes"][0];
    assert_eq!(entry["action"], "member.role_change", "{:?}", log.body);
    assert_eq!(entry["actorLabel"], "boss@example.com");
    assert_eq!(entry["targetId"], deputy_id.as_str());
    assert_eq!(entry["before"]["role"], "admin");
    assert_eq!(entry["after"]["role"], "member");
    assert!(entry["requestId"].is_string());
    assert_eq!(
        log.body["data"]["tenant"]["auditLog"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The trail is append-only for the runtime role.
    let db = tenantgate::db::Db::connect(&app.db.app_url, &Default::default()).unwrap();
    use scoped_futures::ScopedFutureExt;
    for sql in ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"] {
        let res = db
            .scoped(tenantgate::tenancy::Scope::anonymous(), |conn| {
                async move {
                    diesel_async::RunQueryDsl::execute(diesel::sql_query(sql), conn).await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await;
        let err = format!("{:?}", res.expect_err(sql));
        assert!(err.contains("permission denied"), "{err}");
    }
}

#[tokio::test]
async fn platform_admin_path_is_explicit_and_audited() {
    let app = TestApp::spawn().await;
    let (staff, _, _) = app.sign_up("staff@example.com", "Staff Co").await;
    let (customer, _, customer_tenant) = app.sign_up("customer@example.com", "Customer Co").await;
    let admin_query =
        "{ admin { tenants(first: 10) { nodes { id name } } stats { tenants users } } }";
    assert_eq!(
        app.gql(admin_query, json!({}), Some(&staff)).await.code(),
        "FORBIDDEN"
    );
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@example.com", true)
        .await
        .unwrap();
    let a = app.gql(admin_query, json!({}), Some(&staff)).await;
    let names: Vec<&str> = a.body["data"]["admin"]["tenants"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Customer Co") && names.contains(&"Staff Co"),
        "{:?}",
        a.body
    );
    assert_eq!(a.body["data"]["admin"]["stats"]["tenants"], 2);
    // Reading one tenant's details is written to that tenant's own trail.
    let one = app
        .gql("query($id: ID!) { admin { tenant(id: $id) { name members { nodes { user { email } } } } } }", json!({ "id": customer_tenant }), Some(&staff))
        .await;
    assert_eq!(
        one.body["data"]["admin"]["tenant"]["members"]["nodes"][0]["user"]["email"],
        "customer@example.com",
        "{:?}",
        one.body
    );
    let audited = app
        .db
        .count(&format!("SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{customer_tenant}' AND action = 'admin.tenant.read' AND actor_type = 'platform_admin'"))
        .await;
    assert_eq!(audited, 1);
    let members_read = app
        .db
        .count(&format!("SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{customer_tenant}' AND action = 'admin.tenant.members.read'"))
        .await;
    assert_eq!(
        members_read, 1,
        "the members read on the admin path is audited"
    );
    // Suspension: the customer's users are refused with the reason; then back.
    let s = app
        .gql(
            "mutation($id: ID!) { suspendTenant(id: $id, reason: \"unpaid invoices\") { status } }",
            json!({ "id": customer_tenant }),
            Some(&staff),
        )
        .await;
    assert_eq!(
        s.body["data"]["suspendTenant"]["status"], "SUSPENDED",
        "{:?}",
        s.body
    );
    let refused = app
        .gql("{ tenant { id } }", json!({}), Some(&customer))
        .await;
    assert_eq!(refused.code(), "FORBIDDEN");
    assert!(refused.body.to_string().contains("unpaid invoices"));
    // A tenant member cannot lift it.
    assert_eq!(
        app.gql(
            "mutation($id: ID!) { reactivateTenant(id: $id) { status } }",
            json!({ "id": customer_tenant }),
            Some(&customer)
        )
        .await
        .code(),
        "FORBIDDEN"
    );
    app.gql(
        "mutation($id: ID!) { reactivateTenant(id: $id) { status } }",
        json!({ "id": customer_tenant }),
        Some(&staff),
    )
    .await;
    assert!(
        app.gql(VIEWER, json!({}), Some(&customer)).await.body["data"]["viewer"]["tenant"]
            .is_object()
    );
    // Demoted: the admin path closes on the next request.
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@example.com", false)
        .await
        .unwrap();
    assert_eq!(
        app.gql(admin_query, json!({}), Some(&staff)).await.code(),
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn audit_events_stream_to_admins_over_websocket() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("live@example.com", "Live").await;
    let (other, _, _) = app.sign_up("elsewhere@example.com", "Elsewhere").await;
    let ws_url = app.url.replace("http://", "ws://") + "/graphql";
    let mut request = ws_url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {owner}") } }).to_string()))
        .await
        .unwrap();
    let ack = next_json(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
        .send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { auditEvents { action actorLabel } }" } }).to_string()))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Another tenant's change never reaches this subscriber; this tenant's does.
    app.gql(
        "mutation { updateTenant(input: {name: \"Elsewhere 2\"}) { name } }",
        json!({}),
        Some(&other),
    )
    .await;
    app.gql(
        "mutation { updateTenant(input: {name: \"Live 2\"}) { name } }",
        json!({}),
        Some(&owner),
    )
    .await;
    let event = next_json(&mut socket).await;
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(
        event["payload"]["data"]["auditEvents"]["action"],
        "tenant.update"
    );
    assert_eq!(
        event["payload"]["data"]["auditEvents"]["actorLabel"],
        "live@example.com"
    );

    // Only subscriptions run over the socket: queries and mutations go over HTTP.
    socket
        .send(Message::text(
            json!({ "id": "2", "type": "subscribe", "payload": { "query": "mutation { updateTenant(input: {name: \"Sneaky\"}) { name } }" } })
                .to_string(),
        ))
        .await
        .unwrap();
    let refused = next_json(&mut socket).await;
    assert!(refused["payload"]["data"].is_null(), "{refused}");
    assert!(
        refused.to_string().contains("only subscriptions"),
        "{refused}"
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM tenants WHERE name = 'Sneaky'")
            .await,
        0
    );

    // Signed out: the next entry ends the feed instead of reaching it.
    app.gql("mutation { logOut }", json!({}), Some(&owner))
        .await;
    let again = app
        .gql(
            "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }",
            json!({ "i": { "email": "live@example.com", "password": PASSWORD } }),
            None,
        )
        .await;
    let second = again.body["data"]["logIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql(
        "mutation { updateTenant(input: {name: \"Live 3\"}) { name } }",
        json!({}),
        Some(&second),
    )
    .await;
    let end = next_json(&mut socket).await;
    assert_eq!(end["type"], "complete", "{end}");
}

async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("no message within 10 s")
            .expect("socket closed")
            .expect("socket error");
        if let Message::Text(text) = msg {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "ping" {
                return value;
            }
        }
    }
}

/// A minimal SMTP server (enough for one client at a time): every message's
/// DATA goes to the returned channel.
async fn smtp_server(
    listener: tokio::net::TcpListener,
) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            let _ = tx.send(std::mem::take(body));
                            data = None;
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 test\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    rx
}

#[tokio::test]
async fn smtp_delivers_the_outbox_and_survives_an_outage() {
    let app = TestApp::spawn().await;
    app.sign_up("mailme@example.com", "Mail").await;
    // A message no server would take stands first in line: it must not hold up
    // the others.
    let mut owner = app.db.owner().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut owner,
        "INSERT INTO email_outbox (id, recipient, subject, sealed_body, created_at)
         VALUES (gen_random_uuid(), 'not an address', 'x', '\\x00', now() - interval '1 hour')",
    )
    .await
    .unwrap();
    // The SMTP server is down at first: a port with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dispatcher = tenantgate::mail::Dispatcher::start(
        app.db.url.clone(),
        tenantgate::mail::Sealer::new(&app.state.keys),
        tenantgate::mail::SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "tenantgate <no-reply@example.com>".into(),
            poll: std::time::Duration::from_millis(100),
        },
    )
    .unwrap();
    app.gql(
        "mutation { requestMagicLink(email: \"mailme@example.com\") }",
        json!({}),
        None,
    )
    .await;
    let unsent = "SELECT count(*) AS n FROM email_outbox WHERE recipient = 'mailme@example.com' AND sent_at IS NULL AND attempts > 0 AND last_error IS NOT NULL";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.db.count(unsent).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the failed send was not recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The server comes back: the same message goes out, once, and is marked sent.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let mut received = smtp_server(listener).await;
    let message = tokio::time::timeout(std::time::Duration::from_secs(15), received.recv())
        .await
        .expect("no message delivered after the outage")
        .unwrap();
    assert!(message.contains("tgm."), "{message}");
    assert!(message.contains("To: mailme@example.com"), "{message}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app
        .db
        .count("SELECT count(*) AS n FROM email_outbox WHERE sent_at IS NOT NULL")
        .await
        != 1
    {
        assert!(std::time::Instant::now() < deadline, "not marked sent");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let bad = app
        .db
        .count("SELECT count(*) AS n FROM email_outbox WHERE recipient = 'not an address' AND sent_at IS NULL AND attempts >= 1 AND last_error IS NOT NULL")
        .await;
    assert_eq!(bad, 1, "the bad message is kept with its error");
    dispatcher.stop();
}
