//! Data exports end to end: a tenant's archive holds every kind of its rows
//! and nothing of another tenant seeded alike, no secret or hash; the
//! manifest's counts and checksums match; download links work once, for
//! their user only (not another tenant's user, not a member who is not an
//! owner), and expire; expired archives are deleted; progress, the
//! subscription event and the owners' email; a second instance never runs
//! the same export and takes over one whose lease ran out; a person's
//! archive holds their entries of every tenant and nothing of others.

use std::collections::HashMap;
use std::io::Read;
use std::time::Duration;

use chrono::Utc;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tenantgate::usage::limits::Limiter;

use crate::keys::create_key;
use crate::matrix::{call, join, text};
use crate::support::{Answer, TestApp};
use crate::usage::RECORD;
use crate::usage_live::{connect, next, send};

const REQUEST: &str = "mutation { requestDataExport { id status progress kind } }";
const REQUEST_MINE: &str = "mutation { requestMyDataExport { id status progress kind } }";
const LIST: &str = "{ tenant { dataExports { nodes { id status progress sizeBytes checksum error expiresAt } } } }";
const URL: &str = "query($id: ID!) { tenant { dataExport(id: $id) { status downloadUrl } } }";
const MY_URL: &str = "query($id: ID!) { viewer { dataExport(id: $id) { status downloadUrl } } }";

/// One tenant seeded with a row of every kind an export holds.
struct Seeded {
    token: String,
    user: String,
    tenant: String,
    email: String,
    /// Strings of this tenant (ids, emails, references).
    marks: Vec<String>,
    /// Secrets and hashes of this tenant that no archive may hold.
    secrets: Vec<String>,
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) {
    conn.batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn ok(a: &Answer) -> &Value {
    assert!(
        a.body.get("errors").is_none_or(Value::is_null),
        "{:?}",
        a.body
    );
    &a.body["data"]
}

/// A tenant `name` with an owner, a member, a pending invitation, an API key
/// (created and rotated), usage, billing references and a quota alert.
async fn seed(app: &TestApp, conn: &mut AsyncPgConnection, name: &str) -> Seeded {
    let email = format!("owner@{name}.test");
    let (token, user, tenant) = app.sign_up(&email, &format!("{name} Works")).await;
    app.set_plan(&tenant, "pro").await;
    let member_email = format!("member@{name}.test");
    let (_, member) = join(app, conn, &token, &member_email, "MEMBER").await;
    let invitee = format!("invitee@{name}.test");
    let a = app
        .gql(
            "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id } }",
            json!({ "i": { "email": invitee, "role": "VIEWER" } }),
            Some(&token),
        )
        .await;
    let invitation = ok(&a)["inviteMember"]["id"].as_str().unwrap().to_owned();
    let invitation_token = crate::matrix::invitation_token(conn, &invitee).await;
    let (key_id, secret) = create_key(app, &token, json!({ "scopes": ["USAGE_WRITE"] })).await;
    crate::publishable::create_pk(app, &token, "LIVE").await;
    let origin = format!("https://{}.example.com", name.to_lowercase());
    assert!(no_errors_of(
        &crate::publishable::add_origin(app, &token, &origin).await
    ));
    // Raw events are stored a call (and month) to a row: calls of 3, 1 (20
    // days ago: most often last month) and 4 events, 8 in all.
    for (first, n, days_ago) in [(0, 3, 0), (3, 1, 20), (4, 4, 0)] {
        let events: Vec<Value> = (first..first + n)
            .map(|i| {
                json!({
                    "metric": "api_calls",
                    "quantity": 1 + i,
                    "occurredAt": (Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339(),
                    "idempotencyKey": format!("{name}-event-{i}"),
                    "properties": if i == 2 { json!({ "path": "/v1/things" }) } else { json!({}) },
                })
            })
            .collect();
        let a = app.gql(RECORD, json!({ "e": events }), Some(&secret)).await;
        assert_eq!(ok(&a)["recordUsage"]["recorded"], n, "{:?}", a.body);
    }
    exec(
        conn,
        &format!(
            "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES ('{tenant}', 'cus_{name}');
             INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, status,
                                        price_id, stripe_created)
               VALUES ('{tenant}', 'sub_{name}', 'cus_{name}', 'active', 'price_{name}', now());
             INSERT INTO invoices (stripe_invoice_id, tenant_id, status, total, currency, stripe_created)
               VALUES ('in_{name}', '{tenant}', 'paid', 1200, 'eur', now());
             INSERT INTO quota_alerts (tenant_id, metric, period, threshold, used, quota)
               VALUES ('{tenant}', 'api_calls', date_trunc('month', now())::date, 80, 80, 100);
             INSERT INTO tenant_domains (tenant_id, domain, token, verified_at)
               VALUES ('{tenant}', '{lower}.example.net', 'tg-verify-{name}-domaintoken0123456789abcdefghij', now());
             INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types, secret_sealed)
               VALUES (gen_random_uuid(), '{tenant}', 'https://hooks.{lower}.example.net/in', '{name} hook',
                       ARRAY['member.joined'], '\\xfeedc0ffee{lower_hex}'::bytea);",
            lower = name.to_lowercase(),
            lower_hex = hex::encode(name.to_lowercase()),
        ),
    )
    .await;
    let mut secrets = vec![
        secret.clone(),
        invitation_token.clone(),
        format!("tg-verify-{name}-domaintoken0123456789abcdefghij"),
        format!("feedc0ffee{}", hex::encode(name.to_lowercase())),
    ];
    for sql in [
        format!("SELECT encode(secret_hash, 'hex') FROM api_keys WHERE id = '{key_id}'"),
        format!("SELECT encode(token_hash, 'hex') FROM invitations WHERE id = '{invitation}'"),
        format!("SELECT password_hash FROM users WHERE id = '{user}'"),
        format!("SELECT password_hash FROM users WHERE id = '{member}'"),
        format!(
            "SELECT encode(token_hash, 'hex') FROM refresh_tokens WHERE user_id = '{user}' LIMIT 1"
        ),
        format!(
            "SELECT encode(token_hash, 'hex') FROM email_tokens WHERE user_id = '{user}' LIMIT 1"
        ),
    ] {
        let found = text(conn, &format!("SELECT coalesce(({sql}), '') AS s")).await;
        if !found.is_empty() {
            secrets.push(found);
        }
    }
    // The secret's random part alone, too.
    secrets.push(secret[secret.len() - 20..].to_owned());
    Seeded {
        marks: vec![
            tenant.clone(),
            user.clone(),
            member.clone(),
            email.clone(),
            member_email,
            invitee,
            invitation,
            key_id,
            format!("cus_{name}"),
            format!("sub_{name}"),
            format!("in_{name}"),
            format!("{name}-event-0"),
            format!("{name} Works"),
        ],
        token,
        user,
        tenant,
        email,
        secrets,
    }
}

/// Runs the worker until nothing is queued.
async fn work(app: &TestApp) {
    while app.state.exports.run_once().await.expect("the worker runs") {}
}

/// A minted link: the URL and its binding cookie (`name=value`).
async fn mint(
    app: &TestApp,
    token: &str,
    tenant: Option<&str>,
    query: &str,
    id: &str,
) -> (String, String) {
    let a = call(app, Some(token), tenant, query, json!({ "id": id })).await;
    let data = ok(&a);
    let node = if data["tenant"].is_null() {
        &data["viewer"]["dataExport"]
    } else {
        &data["tenant"]["dataExport"]
    };
    let url = node["downloadUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("no downloadUrl: {:?}", a.body))
        .to_owned();
    let cookie = a
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tg_export_"))
        .expect("a binding cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (url, cookie)
}

/// GETs a download with optional cookie and bearer: (status, code, bytes).
async fn get(
    app: &TestApp,
    url: &str,
    cookie: Option<&str>,
    bearer: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let mut req = app.client.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(b) = bearer {
        req = req.header("authorization", format!("Bearer {b}"));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = res.bytes().await.unwrap().to_vec();
    let code = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| {
            v["errors"][0]["extensions"]["code"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or(disposition);
    (status, code, bytes)
}

/// The archive's files, decompressed, by name.
fn unzip(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP archive");
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).unwrap();
            let mut out = Vec::new();
            file.read_to_end(&mut out).unwrap();
            (file.name().unwrap().to_string(), out)
        })
        .collect()
}

/// Checks the manifest against the files: counts, sizes, SHA-256.
fn check_manifest(files: &HashMap<String, Vec<u8>>) -> Value {
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("manifest.json");
    assert_eq!(manifest["format"], "tenantgate-export");
    assert_eq!(manifest["format_version"], 1);
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len() + 1, files.len(), "every file is listed");
    for entry in listed {
        let name = entry["name"].as_str().unwrap();
        let content = &files[name];
        assert_eq!(
            entry["sha256"],
            hex::encode(Sha256::digest(content)),
            "{name}"
        );
        assert_eq!(entry["bytes"], content.len(), "{name}");
        let lines = content
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        assert_eq!(entry["rows"], lines, "{name}");
        for line in content.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            serde_json::from_slice::<Value>(line).expect("each line is JSON");
        }
    }
    manifest
}

fn rows(files: &HashMap<String, Vec<u8>>, name: &str) -> Vec<Value> {
    files[name]
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_tenant_archive_holds_every_kind_of_its_rows_and_nothing_else() {
    // Pages of 2 rows: every kind is read over several pages (the keyset).
    let app = TestApp::spawn_tuned(|s| s.exports.page_rows = 2).await;
    let mut conn = app.db.owner().await;
    let a = seed(&app, &mut conn, "alpha").await;
    let b = seed(&app, &mut conn, "beta").await;
    // B asks too (its export must not mix with A's).
    ok(&app.gql(REQUEST, json!({}), Some(&b.token)).await);
    let asked = app.gql(REQUEST, json!({}), Some(&a.token)).await;
    let export = ok(&asked)["requestDataExport"].clone();
    assert_eq!(export["status"], "QUEUED");
    assert_eq!(export["kind"], "TENANT");
    let id = export["id"].as_str().unwrap().to_owned();
    // One at a time.
    let again = app.gql(REQUEST, json!({}), Some(&a.token)).await;
    assert_eq!(again.code(), "CONFLICT", "{:?}", again.body);
    work(&app).await;
    let listed = app.gql(LIST, json!({}), Some(&a.token)).await;
    let nodes = ok(&listed)["tenant"]["dataExports"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(nodes.len(), 1, "only A's export: {nodes:?}");
    let node = &nodes[0];
    assert_eq!(node["status"], "READY", "{node}");
    assert_eq!(node["progress"], 100);
    let (url, cookie) = mint(&app, &a.token, None, URL, &id).await;
    assert!(!url.contains(&a.token), "no bearer token in the URL");
    let (status, disposition, bytes) = get(&app, &url, Some(&cookie), None).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(
        disposition.starts_with("attachment; filename=\"tenantgate-export-tenant-"),
        "{disposition}"
    );
    assert_eq!(node["sizeBytes"], json!(bytes.len() as f64));
    assert_eq!(node["checksum"], hex::encode(Sha256::digest(&bytes)));
    let files = unzip(&bytes);
    let manifest = check_manifest(&files);
    assert_eq!(manifest["tenant_id"], a.tenant.as_str());
    assert_eq!(manifest["export_id"], id.as_str());
    // Every kind, with A's rows.
    for (file, at_least) in [
        ("tenant.jsonl", 1),
        ("members.jsonl", 2),
        ("invitations.jsonl", 2),
        ("api_keys.jsonl", 1),
        ("publishable_keys.jsonl", 1),
        ("allowed_origins.jsonl", 1),
        ("custom_domain.jsonl", 1),
        ("webhook_endpoints.jsonl", 1),
        ("plan.jsonl", 1),
        ("billing_customer.jsonl", 1),
        ("subscription.jsonl", 1),
        ("invoices.jsonl", 1),
        ("quota_alerts.jsonl", 1),
        ("usage_events.jsonl", 3),
        ("usage_rollups.jsonl", 1),
        ("audit_log.jsonl", 3),
    ] {
        assert!(files.contains_key(file), "{file} missing");
        assert!(
            rows(&files, file).len() >= at_least,
            "{file}: {:?}",
            rows(&files, file)
        );
    }
    // Every raw event once, read over pages of 2 that cut through calls, in
    // (month, call, position) order, as it was sent.
    let events = rows(&files, "usage_events.jsonl");
    let mut keys: Vec<&str> = events
        .iter()
        .map(|e| e["idempotency_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 8, "{events:?}");
    let order: Vec<(String, String, i64)> = events
        .iter()
        .map(|e| {
            (
                e["month"].as_str().unwrap().to_owned(),
                e["batch_id"].as_str().unwrap().to_owned(),
                e["position"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "lines in key order");
    let third = events
        .iter()
        .find(|e| e["idempotency_key"] == "alpha-event-2")
        .unwrap();
    assert_eq!(third["quantity"], 3, "{third}");
    assert_eq!(third["properties"]["path"], "/v1/things", "{third}");
    assert_eq!(third["metric"], "api_calls", "{third}");
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys,
        (0..8)
            .map(|i| format!("alpha-event-{i}"))
            .collect::<Vec<_>>(),
        "each of A's events once"
    );
    let members = rows(&files, "members.jsonl");
    assert!(
        members
            .iter()
            .any(|m| m["user"]["email"] == a.email.as_str()),
        "{members:?}"
    );
    assert_eq!(rows(&files, "plan.jsonl")[0]["key"], "pro");
    let domain = &rows(&files, "custom_domain.jsonl")[0];
    assert_eq!(domain["status"], "verified", "{domain}");
    assert!(domain["verified_at"].is_string() && domain.get("token").is_none());
    let hook = &rows(&files, "webhook_endpoints.jsonl")[0];
    assert_eq!(hook["event_types"], json!(["member.joined"]), "{hook}");
    assert_eq!(hook["enabled"], true);
    assert!(hook.get("secret_sealed").is_none(), "{hook}");
    let all: Vec<u8> = files.values().flatten().copied().collect();
    for mark in &a.marks {
        assert!(
            contains(&all, mark),
            "A's {mark} is missing from A's archive"
        );
    }
    for mark in &b.marks {
        assert!(!contains(&all, mark), "B's {mark} is in A's archive");
    }
    for secret in a.secrets.iter().chain(&b.secrets) {
        assert!(
            !contains(&all, secret),
            "a secret or hash is in the archive: {secret}"
        );
        assert!(
            !contains(&bytes, secret),
            "a secret or hash is in the archive's bytes"
        );
    }
    for column in [
        "password_hash",
        "secret_hash",
        "previous_hash",
        "token_hash",
    ] {
        assert!(!contains(&all, column), "{column} is in the archive");
    }
    // The owners were emailed, without a download link.
    let mail = app.mail_bodies(&a.email).await;
    let ready = mail
        .iter()
        .find(|m| m.contains("data export") || m.contains("export of your workspace"))
        .expect("the owner is emailed");
    assert!(!ready.contains("/v1/exports/"), "{ready}");
    // A member who is not an owner sees none of it.
    let (member_token, _) = join(&app, &mut conn, &a.token, "late@alpha.test", "ADMIN").await;
    let denied = app.gql(LIST, json!({}), Some(&member_token)).await;
    assert_eq!(denied.code(), "FORBIDDEN", "{:?}", denied.body);
    let denied = app.gql(REQUEST, json!({}), Some(&member_token)).await;
    assert_eq!(denied.code(), "FORBIDDEN", "{:?}", denied.body);
    // Another tenant's owner cannot read A's export by id.
    let other = call(&app, Some(&b.token), None, URL, json!({ "id": id })).await;
    assert!(
        ok(&other)["tenant"]["dataExport"].is_null(),
        "{:?}",
        other.body
    );
}

#[tokio::test]
async fn download_links_work_once_for_their_owner_only_and_expire() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.owner().await;
    let a = seed(&app, &mut conn, "gamma").await;
    let b = seed(&app, &mut conn, "delta").await;
    let asked = app.gql(REQUEST, json!({}), Some(&a.token)).await;
    let id = ok(&asked)["requestDataExport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    work(&app).await;
    let (url, cookie) = mint(&app, &a.token, None, URL, &id).await;
    // No proof, another tenant's owner (token or cookie of their own): refused.
    let (status, code, _) = get(&app, &url, None, None).await;
    assert_eq!((status, code.as_str()), (403, "FORBIDDEN"));
    let (status, code, _) = get(&app, &url, None, Some(&b.token)).await;
    assert_eq!((status, code.as_str()), (403, "FORBIDDEN"));
    let (status, code, _) = get(&app, &url, Some("tg_export_x=forged"), None).await;
    assert_eq!((status, code.as_str()), (403, "FORBIDDEN"));
    // Unknown links and exports.
    let unknown = url.replace(&id, &uuid::Uuid::new_v4().to_string());
    assert_eq!(get(&app, &unknown, Some(&cookie), None).await.0, 404);
    let tampered = format!("{}x", &url[..url.len() - 1]);
    assert_eq!(get(&app, &tampered, Some(&cookie), None).await.0, 404);
    // Its user: once.
    let (status, _, bytes) = get(&app, &url, Some(&cookie), None).await;
    assert_eq!(status, 200);
    assert!(bytes.starts_with(b"PK"));
    let (status, code, _) = get(&app, &url, Some(&cookie), None).await;
    assert_eq!((status, code.as_str()), (410, "GONE"));
    // With the same user's access token instead of the cookie.
    let (url, _) = mint(&app, &a.token, None, URL, &id).await;
    assert_eq!(get(&app, &url, None, Some(&a.token)).await.0, 200);
    // No longer an owner when downloading: refused.
    let (url, cookie) = mint(&app, &a.token, None, URL, &id).await;
    exec(
        &mut conn,
        &format!(
            "UPDATE memberships SET role = 'owner' WHERE tenant_id = '{0}' AND user_id <> '{1}';
             UPDATE memberships SET role = 'admin' WHERE tenant_id = '{0}' AND user_id = '{1}'",
            a.tenant, a.user
        ),
    )
    .await;
    let (status, code, _) = get(&app, &url, Some(&cookie), None).await;
    assert_eq!((status, code.as_str()), (403, "FORBIDDEN"));
    exec(
        &mut conn,
        &format!(
            "UPDATE memberships SET role = 'owner' WHERE tenant_id = '{}' AND user_id = '{}'",
            a.tenant, a.user
        ),
    )
    .await;
    assert_eq!(
        get(&app, &url, Some(&cookie), None).await.0,
        200,
        "unspent by the refusal"
    );
    // A link past its time.
    let (url, cookie) = mint(&app, &a.token, None, URL, &id).await;
    exec(
        &mut conn,
        "UPDATE data_export_links SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
    )
    .await;
    let (status, code, _) = get(&app, &url, Some(&cookie), None).await;
    assert_eq!((status, code.as_str()), (410, "GONE"));
    // The export past its expiry: refused, then its archive deleted.
    let (url, cookie) = mint(&app, &a.token, None, URL, &id).await;
    exec(
        &mut conn,
        &format!(
            "UPDATE data_exports SET expires_at = now() - interval '1 second' WHERE id = '{id}'"
        ),
    )
    .await;
    let (status, code, _) = get(&app, &url, Some(&cookie), None).await;
    assert_eq!((status, code.as_str()), (410, "GONE"));
    assert_eq!(app.state.exports.expire_due().await.unwrap(), 1);
    let key = format!("tenants/{}/{id}.zip", a.tenant);
    assert!(
        app.state
            .exports
            .storage()
            .open(&key)
            .await
            .unwrap()
            .is_none(),
        "deleted"
    );
    let listed = call(&app, Some(&a.token), None, URL, json!({ "id": id })).await;
    let node = &ok(&listed)["tenant"]["dataExport"];
    assert_eq!(node["status"], "EXPIRED");
    assert!(node["downloadUrl"].is_null());
    // The budget: five a day.
    exec(
        &mut conn,
        &format!(
            "INSERT INTO data_exports (id, tenant_id, requested_by, status)
             SELECT gen_random_uuid(), '{}', '{}', 'expired' FROM generate_series(1, 4)",
            a.tenant, a.user
        ),
    )
    .await;
    let limited = app.gql(REQUEST, json!({}), Some(&a.token)).await;
    assert_eq!(limited.code(), "RATE_LIMITED", "{:?}", limited.body);
    assert!(
        limited.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("5 exports a day")
    );
}

#[tokio::test]
async fn progress_and_readiness_reach_subscribers() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.owner().await;
    let a = seed(&app, &mut conn, "epsilon").await;
    let b = seed(&app, &mut conn, "zeta").await;
    let subscribe = |token: String| {
        let app = &app;
        async move {
            let mut socket =
                connect(app, json!({ "Authorization": format!("Bearer {token}") })).await;
            let ack = next(&mut socket, Duration::from_secs(10)).await.unwrap();
            assert_eq!(ack["type"], "connection_ack", "{ack}");
            send(
                &mut socket,
                json!({ "id": "1", "type": "subscribe", "payload": {
                    "query": "subscription { dataExportUpdated { id status progress kind } }" } }),
            )
            .await;
            socket
        }
    };
    let mut a_socket = subscribe(a.token.clone()).await;
    let mut b_socket = subscribe(b.token.clone()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = app.gql(REQUEST, json!({}), Some(&a.token)).await;
    let id = ok(&asked)["requestDataExport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    work(&app).await;
    let mut seen = Vec::new();
    while let Some(m) = next(&mut a_socket, Duration::from_secs(5)).await {
        assert_eq!(m["type"], "next", "{m}");
        let e = &m["payload"]["data"]["dataExportUpdated"];
        assert_eq!(e["id"], id.as_str());
        seen.push(e["status"].as_str().unwrap().to_owned());
        if e["status"] == "READY" {
            assert_eq!(e["progress"], 100);
            break;
        }
    }
    // Subscribers re-read the export when told, so a step that passes faster
    // than the read (QUEUED, under load) folds into the next; order holds.
    let order = ["QUEUED", "RUNNING", "READY"];
    let rank = |s: &String| order.iter().position(|o| o == s).unwrap();
    assert!(
        seen.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("READY"), "{seen:?}");
    // Another tenant's owner hears nothing of it.
    assert!(
        next(&mut b_socket, Duration::from_millis(500))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_second_instance_never_runs_the_same_export_and_takes_over_a_dead_ones() {
    let app = TestApp::spawn().await;
    let peer = app.peer(Limiter::local()).await;
    let mut conn = app.db.owner().await;
    let a = seed(&app, &mut conn, "eta").await;
    ok(&app.gql(REQUEST, json!({}), Some(&a.token)).await);
    let (one, two) = tokio::join!(app.state.exports.run_once(), peer.state.exports.run_once());
    let ran = [one.unwrap(), two.unwrap()];
    assert_eq!(
        ran.iter().filter(|r| **r).count(),
        1,
        "exactly one ran it: {ran:?}"
    );
    // An instance claimed the next one and died: its lease holds, then runs out.
    exec(
        &mut conn,
        &format!("DELETE FROM data_exports WHERE tenant_id = '{}'", a.tenant),
    )
    .await;
    let asked = app.gql(REQUEST, json!({}), Some(&a.token)).await;
    let id = ok(&asked)["requestDataExport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    exec(
        &mut conn,
        &format!(
            "UPDATE data_exports SET status = 'running', attempts = 1, leased_by = gen_random_uuid(),
                    leased_until = now() + interval '1 hour' WHERE id = '{id}'"
        ),
    )
    .await;
    assert!(
        !app.state.exports.run_once().await.unwrap(),
        "a live lease is respected"
    );
    exec(
        &mut conn,
        &format!(
            "UPDATE data_exports SET leased_until = now() - interval '1 second' WHERE id = '{id}'"
        ),
    )
    .await;
    assert!(peer.state.exports.run_once().await.unwrap(), "taken over");
    let status = text(
        &mut conn,
        &format!("SELECT status || '/' || attempts AS s FROM data_exports WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(status, "ready/2");
    drop(peer);
}

#[tokio::test]
async fn a_personal_archive_holds_their_entries_of_every_tenant_only() {
    let app = TestApp::spawn_tuned(|s| s.exports.page_rows = 3).await;
    let mut conn = app.db.owner().await;
    let a = seed(&app, &mut conn, "theta").await;
    let b = seed(&app, &mut conn, "iota").await;
    // A's owner is also an admin of B, and acts there.
    exec(
        &mut conn,
        &format!(
            "INSERT INTO memberships (tenant_id, user_id, role) VALUES ('{}', '{}', 'admin')",
            b.tenant, a.user
        ),
    )
    .await;
    let renamed = call(
        &app,
        Some(&a.token),
        Some(&b.tenant),
        "mutation { updateTenant(input: { name: \"Iota Renamed\" }) { name } }",
        json!({}),
    )
    .await;
    ok(&renamed);
    let asked = app.gql(REQUEST_MINE, json!({}), Some(&a.token)).await;
    let export = ok(&asked)["requestMyDataExport"].clone();
    assert_eq!(export["kind"], "PERSONAL");
    let id = export["id"].as_str().unwrap().to_owned();
    // Not in the tenant's list, and not another user's to read.
    let listed = app.gql(LIST, json!({}), Some(&a.token)).await;
    assert_eq!(ok(&listed)["tenant"]["dataExports"]["nodes"], json!([]));
    let other = call(&app, Some(&b.token), None, MY_URL, json!({ "id": id })).await;
    assert!(ok(&other)["viewer"]["dataExport"].is_null());
    work(&app).await;
    let (url, cookie) = mint(&app, &a.token, None, MY_URL, &id).await;
    let (status, _, _) = get(&app, &url, None, Some(&b.token)).await;
    assert_eq!(status, 403, "another user is refused");
    let (status, _, bytes) = get(&app, &url, Some(&cookie), None).await;
    assert_eq!(status, 200);
    let files = unzip(&bytes);
    let manifest = check_manifest(&files);
    assert_eq!(manifest["kind"], "person");
    let user = rows(&files, "user.jsonl");
    assert_eq!(user.len(), 1);
    assert_eq!(user[0]["email"], a.email.as_str());
    let memberships = rows(&files, "memberships.jsonl");
    assert_eq!(memberships.len(), 2, "{memberships:?}");
    assert!(!rows(&files, "sessions.jsonl").is_empty());
    let audit = rows(&files, "audit_log.jsonl");
    assert!(
        audit.iter().all(|e| e["actor_id"] == a.user.as_str()),
        "only their own entries"
    );
    for tenant in [&a.tenant, &b.tenant] {
        assert!(
            audit.iter().any(|e| e["tenant_id"] == tenant.as_str()),
            "an entry of {tenant}: {audit:?}"
        );
    }
    let all: Vec<u8> = files.values().flatten().copied().collect();
    for mark in [&b.user, &b.email, &a.secrets[0], &b.secrets[0]] {
        assert!(!contains(&all, mark), "{mark} is in the personal archive");
    }
    for secret in a.secrets.iter().chain(&b.secrets) {
        assert!(
            !contains(&all, secret),
            "a secret or hash is in the archive"
        );
    }
    let mail = app.mail_bodies(&a.email).await;
    assert!(
        mail.iter()
            .any(|m| m.contains("export of your personal data")),
        "emailed"
    );
    // The erasure's entry points remove files and rows.
    assert!(
        app.state
            .exports
            .erase_person(uuid::Uuid::parse_str(&a.user).unwrap())
            .await
            .unwrap()
            >= 1
    );
    let key = format!("users/{}/{id}.zip", a.user);
    assert!(
        app.state
            .exports
            .storage()
            .open(&key)
            .await
            .unwrap()
            .is_none()
    );
    // A tenant's go only while it is pending deletion.
    let t = uuid::Uuid::parse_str(&a.tenant).unwrap();
    assert!(
        app.state.exports.erase_tenant(t).await.is_err(),
        "refused while active"
    );
    exec(
        &mut conn,
        &format!(
            "UPDATE tenants SET status = 'pending_deletion', \
             purge_after = now() + interval '14 days' WHERE id = '{t}'"
        ),
    )
    .await;
    app.state.exports.erase_tenant(t).await.unwrap();
}

#[tokio::test]
async fn owners_take_their_data_away_while_the_tenant_awaits_deletion() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.owner().await;
    let a = seed(&app, &mut conn, "leaving").await;
    let slug = crate::erasure::slug(&app, &a.token).await;
    let d = app
        .gql(crate::erasure::DELETE, json!({ "s": slug }), Some(&a.token))
        .await;
    assert_eq!(
        d.body["data"]["deleteTenant"]["status"], "PENDING_DELETION",
        "{:?}",
        d.body
    );
    // Other changes are refused meanwhile; asking for the archive is not.
    let asked = app.gql(REQUEST, json!({}), Some(&a.token)).await;
    let id = ok(&asked)["requestDataExport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    work(&app).await;
    let (url, cookie) = mint(&app, &a.token, None, URL, &id).await;
    let (status, _, bytes) = get(&app, &url, Some(&cookie), None).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let files = unzip(&bytes);
    let tenant = rows(&files, "tenant.jsonl");
    assert_eq!(tenant[0]["status"], "pending_deletion");
}

#[tokio::test]
async fn download_links_per_export_and_user_are_bounded() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.owner().await;
    let a = seed(&app, &mut conn, "links").await;
    let asked = app.gql(REQUEST, json!({}), Some(&a.token)).await;
    let id = ok(&asked)["requestDataExport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    work(&app).await;
    for _ in 0..50 {
        mint(&app, &a.token, None, URL, &id).await;
    }
    let a51 = call(&app, Some(&a.token), None, URL, json!({ "id": id })).await;
    assert_eq!(a51.code(), "RATE_LIMITED", "{:?}", a51.body);
    let links = crate::matrix::text(
        &mut conn,
        &format!("SELECT count(*)::text AS s FROM data_export_links WHERE export_id = '{id}'"),
    )
    .await;
    assert_eq!(links, "50");
}

#[tokio::test]
async fn malformed_download_links_are_unknown_links_with_a_code() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::new_v4();
    for query in ["token=%ZZ", "token=a&token=b", "", "other=1"] {
        let url = format!("{}/v1/exports/{id}/download?{query}", app.url);
        let (status, code, _) = get(&app, &url, None, None).await;
        assert_eq!((status, code.as_str()), (404, "NOT_FOUND"), "{query}");
    }
}

fn no_errors_of(a: &crate::support::Answer) -> bool {
    a.status == 200 && a.body.get("errors").is_none()
}
