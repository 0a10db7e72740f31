//! In production, deliveries to loopback, private, link-local and metadata
//! addresses are refused at delivery time, after DNS (a name resolving to
//! loopback too), and the refusal is the attempt's error; nothing is sent.
//! Names are resolved by the tests' DNS server (a private address, an
//! AAAA-only name), and listeners count every TCP connection made to them:
//! none may reach them, redirects included (never followed).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tenantgate::config::Environment;
use tenantgate::db::PoolOptions;
use tenantgate::webhooks::EventType;

use super::delivery::emit;
use super::{create, deliveries};
use crate::support::TestApp;
use crate::support::dns::DnsServer;

#[tokio::test]
async fn production_refuses_private_addresses_after_dns() {
    let app = TestApp::spawn_with(Environment::Production, PoolOptions::default()).await;
    let listener = Counted::start("127.0.0.1:0", None).await.unwrap();
    let port = listener.port.to_string();
    let (token, _, tenant) = app.sign_up("owner@ssrf.test", "Ssrf").await;
    // A name is judged after DNS: localhost passes creation, not delivery.
    let (id, _) = create(
        &app,
        &token,
        json!({ "url": format!("https://localhost:{port}/ok") }),
    )
    .await;
    // Literal addresses are refused at creation (api.rs); stored anyway (as
    // an older row might be), they are refused at delivery too.
    let literal = [
        "https://127.0.0.1:{port}/",
        "https://10.1.2.3/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]:{port}/",
        "https://[::ffff:127.0.0.1]:{port}/",
        "https://[fd00:ec2::254]/",
    ];
    let mut ids = vec![id];
    for (i, url) in literal.iter().enumerate() {
        let (e, _) = create(
            &app,
            &token,
            json!({ "url": format!("https://hooks{i}.example.com/") }),
        )
        .await;
        let url = url.replace("{port}", &port);
        let changed = app
            .db
            .count(&format!(
                "WITH v AS (UPDATE webhook_endpoints SET url = '{url}' WHERE id = '{e}' RETURNING 1) \
                 SELECT count(*) AS n FROM v"
            ))
            .await;
        assert_eq!(changed, 1);
        ids.push(e);
    }
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), ids.len());
    for (i, e) in ids.iter().enumerate() {
        let d = &deliveries(&app, &token, e).await[0];
        let error = d["attempts"][0]["error"].as_str().unwrap_or_default();
        assert!(error.contains("refused"), "endpoint {i}: {error:?}");
        assert_eq!(d["attempts"][0]["statusCode"], json!(null));
        assert_eq!(d["status"], json!("PENDING"), "retried on the schedule");
    }
    let first = deliveries(&app, &token, &ids[0]).await[0]["attempts"][0]["error"].clone();
    // Exactly the generic refusal: what a name resolves to stays in the
    // server's log (an internal name's address is not the tenant's to see).
    let first = first.as_str().unwrap();
    assert!(
        first.ends_with("refused: the host resolves to a non-public address"),
        "{first}"
    );
    assert!(
        !first.contains("127.0.0.1") && !first.contains("::1") && !first.contains("loopback"),
        "{first}"
    );
    assert_eq!(listener.accepts(), 0, "no connection reached the listener");
}

/// A listener that counts the TCP connections it accepts (and answers
/// `answer`, if any, to each).
struct Counted {
    port: u16,
    accepts: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Counted {
    async fn start(at: &str, answer: Option<String>) -> Option<Self> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(at).await.ok()?;
        let port = listener.local_addr().unwrap().port();
        let accepts = Arc::new(AtomicUsize::new(0));
        let count = accepts.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                if let Some(answer) = answer.clone() {
                    let mut buf = vec![0u8; 8192];
                    let _ = socket.read(&mut buf).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
            }
        });
        Some(Self {
            port,
            accepts,
            task,
        })
    }

    fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn names_resolving_to_private_or_ipv6_only_loopback_addresses_are_refused_unconnected() {
    let dns = DnsServer::start().await;
    // Loopback not allowed: the production rule.
    let app = TestApp::spawn_tuned(|s| s.webhooks.dns_servers = vec![dns.addr]).await;
    let v4 = Counted::start("127.0.0.1:0", None).await.unwrap();
    // IPv6 loopback, where the machine has it (else the v4 listener stands in).
    let v6 = Counted::start("[::1]:0", None).await;
    let v6_port = v6.as_ref().map_or(v4.port, |l| l.port);
    dns.set_addresses("private.hooks.test", &["10.20.30.40".parse().unwrap()]);
    dns.set_addresses(
        "mixed.hooks.test",
        &["192.168.7.7".parse().unwrap(), "127.0.0.1".parse().unwrap()],
    );
    dns.set_addresses("v6only.hooks.test", &["::1".parse().unwrap()]);
    dns.set_addresses("ula.hooks.test", &["fd12:3456::1".parse().unwrap()]);
    let (token, _, tenant) = app.sign_up("owner@names.test", "Names").await;
    let mut ids = Vec::new();
    for url in [
        format!("https://private.hooks.test:{}/", v4.port),
        format!("https://mixed.hooks.test:{}/", v4.port),
        format!("https://v6only.hooks.test:{v6_port}/"),
        format!("https://ula.hooks.test:{v6_port}/"),
    ] {
        ids.push(create(&app, &token, json!({ "url": url })).await.0);
    }
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), ids.len());
    for (i, e) in ids.iter().enumerate() {
        let d = &deliveries(&app, &token, e).await[0];
        let error = d["attempts"][0]["error"].as_str().unwrap_or_default();
        assert!(
            error.ends_with("refused: the host resolves to a non-public address"),
            "endpoint {i}: {error:?}"
        );
        assert_eq!(d["attempts"][0]["statusCode"], json!(null));
    }
    assert!(dns.queries() >= ids.len(), "the names were looked up");
    assert_eq!(v4.accepts(), 0, "no connection reached the IPv4 listener");
    if let Some(v6) = &v6 {
        assert_eq!(v6.accepts(), 0, "no connection reached the IPv6 listener");
    }
}

#[tokio::test]
async fn a_redirect_to_loopback_is_not_followed() {
    // Loopback allowed (the redirecting receiver is local): even then a
    // redirect is never followed, so no rule after it could be skipped.
    let app = TestApp::spawn_tuned(|s| s.webhooks.allow_loopback = true).await;
    let target = Counted::start("127.0.0.1:0", None).await.unwrap();
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{}/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        target.port
    );
    let redirector = Counted::start("127.0.0.1:0", Some(redirect)).await.unwrap();
    let (token, _, tenant) = app.sign_up("owner@redirect.test", "Redirect").await;
    let (id, _) = create(
        &app,
        &token,
        json!({ "url": format!("http://127.0.0.1:{}/hook", redirector.port) }),
    )
    .await;
    emit(&app, &tenant, EventType::TenantUpdated, json!({})).await;
    assert_eq!(app.state.webhooks.run_once().await.unwrap(), 1);
    let d = &deliveries(&app, &token, &id).await[0];
    assert_eq!(d["attempts"][0]["statusCode"], json!(302), "{d}");
    assert_eq!(
        d["status"],
        json!("PENDING"),
        "a redirect is a failure, retried: {d}"
    );
    assert_eq!(redirector.accepts(), 1);
    assert_eq!(target.accepts(), 0, "the redirect was not followed");
}
