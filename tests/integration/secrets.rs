//! No usable secret at rest: a dump of the whole database, taken after every
//! kind of token was issued (data export download links included), holds none of them; delivered mail keeps no body
//! and the SMTP dispatcher commits each message on its own; platform-wide
//! admin reads are audited out of every tenant's reach.

use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};

use crate::identity::mailed_token;
use crate::support::{Answer, PASSWORD, SECRET, TestApp};

fn data<'a>(a: &'a Answer, field: &str) -> &'a Value {
    assert!(
        a.body.get("errors").is_none_or(Value::is_null),
        "{field}: {:?}",
        a.body
    );
    &a.body["data"][field]
}

fn string(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// `pg_dump` of the test database (schema and data, as its owner).
async fn dump(app: &TestApp) -> String {
    // Beside the server binaries the cluster runs, else on PATH.
    let pg_dump =
        tenantgate::db::embedded::find_bin_dir(None, &tenantgate::config::executable_search_path())
            .map(|dir| dir.join("pg_dump"))
            .ok()
            .filter(|path| path.is_file())
            .unwrap_or_else(|| "pg_dump".into());
    let out = tokio::process::Command::new(pg_dump)
        .arg("--no-owner")
        .arg("--dbname")
        .arg(&app.db.url)
        .output()
        .await
        .expect("running pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("a UTF-8 dump")
}

#[tokio::test]
async fn a_database_dump_holds_no_token() {
    let app = TestApp::spawn().await;
    let email = "dump@example.com";
    // Every kind of token: access and refresh (sign-up, refresh), sign-in
    // link, password reset, email verification, invitation, API keys (created
    // and rotated).
    let a = app
        .gql(
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken } }",
            json!({ "i": { "email": email, "password": PASSWORD, "tenantName": "Dump" } }),
            None,
        )
        .await;
    let signed_up = data(&a, "signUp");
    let access = string(&signed_up["accessToken"]);
    let mut tokens = vec![access.clone(), string(&signed_up["refreshToken"])];
    let a = app
        .gql(
            "mutation($t: String) { refreshSession(refreshToken: $t) { accessToken refreshToken } }",
            json!({ "t": tokens[1] }),
            None,
        )
        .await;
    let refreshed = data(&a, "refreshSession");
    tokens.push(string(&refreshed["accessToken"]));
    tokens.push(string(&refreshed["refreshToken"]));
    for (mutation, prefix) in [("requestMagicLink", "tgm"), ("requestPasswordReset", "tgp")] {
        let a = app
            .gql(
                &format!("mutation($e: String!) {{ {mutation}(email: $e) }}"),
                json!({ "e": email }),
                None,
            )
            .await;
        data(&a, mutation);
        tokens.push(mailed_token(&app, email, prefix).await);
    }
    let a = app
        .gql(
            "mutation { requestEmailVerification }",
            json!({}),
            Some(&access),
        )
        .await;
    data(&a, "requestEmailVerification");
    let verification = mailed_token(&app, email, "tgv").await;
    // Inviting needs a confirmed address: spend the verification link.
    let a = app
        .gql(
            "mutation($t: String!) { verifyEmail(token: $t) { id } }",
            json!({ "t": verification }),
            None,
        )
        .await;
    data(&a, "verifyEmail");
    tokens.push(verification);
    let a = app
        .gql(
            "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id } }",
            json!({ "i": { "email": "invitee@example.com", "role": "MEMBER" } }),
            Some(&access),
        )
        .await;
    data(&a, "inviteMember");
    tokens.push(mailed_token(&app, "invitee@example.com", "tgi").await);
    let a = app
        .gql(
            "mutation { createApiKey(input: {name: \"dump\", scopes: [TENANT_READ]}) { secret apiKey { id displayPrefix } } }",
            json!({}),
            Some(&access),
        )
        .await;
    let created = data(&a, "createApiKey");
    let key_id = string(&created["apiKey"]["id"]);
    let display_prefix = string(&created["apiKey"]["displayPrefix"]);
    tokens.push(string(&created["secret"]));
    let a = app
        .gql(
            "mutation($id: ID!) { rotateApiKey(id: $id, gracePeriodSeconds: 3600) { secret } }",
            json!({ "id": key_id }),
            Some(&access),
        )
        .await;
    tokens.push(string(&data(&a, "rotateApiKey")["secret"]));
    // A data export's download link and its binding cookie.
    let a = app
        .gql(
            "mutation { requestDataExport { id } }",
            json!({}),
            Some(&access),
        )
        .await;
    let export = string(&data(&a, "requestDataExport")["id"]);
    while app.state.exports.run_once().await.unwrap() {}
    let a = app
        .gql(
            "query($id: ID!) { tenant { dataExport(id: $id) { downloadUrl } } }",
            json!({ "id": export }),
            Some(&access),
        )
        .await;
    let url = string(&data(&a, "tenant")["dataExport"]["downloadUrl"]);
    tokens.push(url.split("token=").nth(1).unwrap().to_owned());
    let cookie = a
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.split_once('='))
        .map(|(_, secret)| secret.to_owned())
        .expect("the download link's cookie");
    tokens.push(cookie);

    // Webhook signing secrets: made, and rotated (the previous one is kept,
    // sealed, for its 24 hours).
    let a = app
        .gql(
            "mutation { createWebhookEndpoint(input: { url: \"https://dump.example.com/hooks\" }) { secret endpoint { id } } }",
            json!({}),
            Some(&access),
        )
        .await;
    let made = data(&a, "createWebhookEndpoint");
    tokens.push(string(&made["secret"]));
    let a = app
        .gql(
            "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
            json!({ "id": made["endpoint"]["id"] }),
            Some(&access),
        )
        .await;
    tokens.push(string(&data(&a, "rotateWebhookSecret")["secret"]));
    let webhook_keys: Vec<String> = tokens
        .iter()
        .filter_map(|t| t.strip_prefix("whsec_"))
        .map(|b64| {
            use base64::Engine;
            hex::encode(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap(),
            )
        })
        .collect();

    // What must not be in the dump: each whole token, its secret part (after
    // the last '.' of opaque tokens and JWTs, after the environment prefix of
    // API keys), in text and as hex (how a dump shows bytea).
    let mut needles = Vec::new();
    for token in &tokens {
        needles.push(token.clone());
        let secret = match token.strip_prefix("tg_live_") {
            Some(random) => random,
            None => token.rsplit('.').next().unwrap(),
        };
        assert!(secret.len() >= 20, "{token}");
        needles.push(secret.to_owned());
    }
    needles.push(String::from_utf8(SECRET.to_vec()).unwrap());
    for needle in needles.clone() {
        needles.push(hex::encode(needle.as_bytes()));
    }
    needles.extend(webhook_keys);

    let dump = dump(&app).await;
    // The dump is real: it holds the rows the tokens were made for.
    for present in [
        email,
        "invitee@example.com",
        display_prefix.as_str(),
        "COPY public.email_outbox",
        "https://dump.example.com/hooks",
    ] {
        assert!(dump.contains(present), "the dump lacks {present}");
    }
    assert!(
        app.db
            .count("SELECT count(*) AS n FROM email_outbox WHERE sealed_body IS NOT NULL")
            .await
            >= 4,
        "the links are in the outbox (sealed)"
    );
    let found: Vec<&String> = needles
        .iter()
        .filter(|n| dump.contains(n.as_str()))
        .collect();
    assert!(found.is_empty(), "the dump holds token material: {found:?}");
}

/// An SMTP server that takes the first message at once and holds its answer
/// to every later one until `gate` gives a permit; each message's DATA goes to
/// the returned channel (sent before the answer).
async fn gated_smtp_server(
    listener: tokio::net::TcpListener,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let taken = std::sync::Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tx, gate, taken) = (tx.clone(), gate.clone(), taken.clone());
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
                            if taken.fetch_add(1, Ordering::SeqCst) > 0 {
                                gate.acquire().await.unwrap().forget();
                            }
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

async fn wait_for_count(app: &TestApp, sql: &str, want: i64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n = app.db.count(sql).await;
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {n}, not {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn smtp_commits_each_message_and_keeps_no_delivered_body() {
    let app = TestApp::spawn().await;
    let sealer = tenantgate::mail::Sealer::new(&app.state.keys);
    let mailer = tenantgate::mail::Mailer {
        log_bodies: false,
        public_url: app.url.clone(),
        sealer: sealer.clone(),
    };
    // Queued in this order (one statement each, so `now()` orders them): a
    // good message, one no server takes, two more good ones.
    let mut owner = app.db.owner().await;
    for to in [
        "first@example.com",
        "not an address",
        "second@example.com",
        "third@example.com",
    ] {
        let mail = tenantgate::mail::Mail {
            to: to.into(),
            subject: format!("for {to}"),
            body: format!("hello {to}: https://example.com/?token=tgm.x.secret-of-{to}"),
        };
        mailer.queue(&mut owner, mail).await.unwrap();
    }
    let sealed: i64 = app
        .db
        .count("SELECT count(*) AS n FROM email_outbox WHERE sealed_body IS NOT NULL AND position('secret-of'::bytea in sealed_body) = 0")
        .await;
    assert_eq!(sealed, 4, "bodies are stored sealed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let mut received = gated_smtp_server(listener, gate.clone()).await;
    let dispatcher = tenantgate::mail::Dispatcher::start(
        app.db.url.clone(),
        sealer,
        tenantgate::mail::SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "tenantgate <no-reply@example.com>".into(),
            poll: Duration::from_millis(100),
        },
    )
    .unwrap();
    let next = async |received: &mut tokio::sync::mpsc::UnboundedReceiver<String>| {
        tokio::time::timeout(Duration::from_secs(15), received.recv())
            .await
            .expect("no message delivered")
            .unwrap()
    };
    let first = next(&mut received).await;
    assert!(first.contains("To: first@example.com"), "{first}");
    assert!(first.contains("hello first@example.com"), "opened: {first}");
    // The server holds its answer to the second message: the first is already
    // committed as sent, without its body, and the bad one's failure too.
    let second = next(&mut received).await;
    assert!(second.contains("To: second@example.com"), "{second}");
    wait_for_count(
        &app,
        "SELECT count(*) AS n FROM email_outbox WHERE recipient = 'first@example.com' AND sent_at IS NOT NULL AND sealed_body IS NULL",
        1,
        "the first message committed while the next is in flight",
    )
    .await;
    wait_for_count(
        &app,
        "SELECT count(*) AS n FROM email_outbox WHERE recipient = 'not an address' AND sent_at IS NULL AND attempts = 1 AND last_error IS NOT NULL AND sealed_body IS NOT NULL",
        1,
        "the bad message's failure committed while the next is in flight",
    )
    .await;
    gate.add_permits(100);
    let third = next(&mut received).await;
    assert!(third.contains("To: third@example.com"), "{third}");
    wait_for_count(
        &app,
        "SELECT count(*) AS n FROM email_outbox WHERE sent_at IS NOT NULL AND sealed_body IS NULL",
        3,
        "every good message delivered, without its body",
    )
    .await;
    dispatcher.stop();
}

#[tokio::test]
async fn platform_wide_admin_reads_are_audited_out_of_tenants_reach() {
    let app = TestApp::spawn().await;
    let (staff, staff_id, staff_tenant) = app.sign_up("staff@example.com", "Staff Co").await;
    let (customer, customer_id, customer_tenant) =
        app.sign_up("customer@example.com", "Customer Co").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@example.com", true)
        .await
        .unwrap();
    let a = app
        .gql(
            "{ admin { users(search: \"example\") { email } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        data(&a, "admin")["users"].as_array().map(Vec::len),
        Some(2),
        "{:?}",
        a.body
    );
    let a = app
        .gql(
            "{ admin { stats { tenants users } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(data(&a, "admin")["stats"]["tenants"], 2);
    // The development outbox shows bodies, opened.
    app.gql(
        "mutation { requestMagicLink(email: \"customer@example.com\") }",
        json!({}),
        None,
    )
    .await;
    mailed_token(&app, "customer@example.com", "tgm").await;
    let a = app
        .gql(
            "{ admin { outbox(first: 5) { to body } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    let outbox = &data(&a, "admin")["outbox"][0];
    assert_eq!(outbox["to"], "customer@example.com");
    assert!(
        outbox["body"].as_str().unwrap_or("").contains("token=tgm."),
        "{outbox}"
    );
    for action in ["admin.users.list", "admin.stats.read", "admin.outbox.read"] {
        let n = app
            .db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE action = '{action}' AND tenant_id IS NULL
                 AND actor_type = 'platform_admin' AND actor_id = '{staff_id}'"
            ))
            .await;
        assert_eq!(n, 1, "{action} is in the platform's trail, by the admin");
    }
    // No tenant sees platform entries: not through the API, not under RLS.
    for (token, tenant, user) in [
        (&staff, &staff_tenant, &staff_id),
        (&customer, &customer_tenant, &customer_id),
    ] {
        let a = app
            .gql(
                "{ tenant { auditLog(first: 100) { nodes { action } } } }",
                json!({}),
                Some(token),
            )
            .await;
        let log = data(&a, "tenant")["auditLog"]["nodes"].to_string();
        assert!(!log.contains("admin."), "{log}");
        let scope =
            tenantgate::tenancy::Scope::tenant_user(tenant.parse().unwrap(), user.parse().unwrap());
        let visible = app
            .state
            .db
            .scoped(scope, |conn| {
                async move {
                    #[derive(diesel::QueryableByName)]
                    struct N {
                        #[diesel(sql_type = diesel::sql_types::BigInt)]
                        n: i64,
                    }
                    let n: N = diesel::sql_query(
                        "SELECT count(*) AS n FROM audit_log WHERE tenant_id IS NULL",
                    )
                    .get_result(conn)
                    .await?;
                    Ok(n.n)
                }
                .scope_boxed()
            })
            .await
            .unwrap();
        assert_eq!(visible, 0, "platform entries are out of a tenant's reach");
    }
}
