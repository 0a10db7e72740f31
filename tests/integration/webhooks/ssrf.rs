//! In production, deliveries to loopback, private, link-local and metadata
//! addresses are refused at delivery time, after DNS (a name resolving to
//! loopback too), and the refusal is the attempt's error; nothing is sent.

use serde_json::json;
use tenantgate::config::Environment;
use tenantgate::db::PoolOptions;
use tenantgate::webhooks::EventType;

use super::delivery::emit;
use super::receiver::Receiver;
use super::{create, deliveries};
use crate::support::TestApp;

#[tokio::test]
async fn production_refuses_private_addresses_after_dns() {
    let app = TestApp::spawn_with(Environment::Production, PoolOptions::default()).await;
    let rx = Receiver::start().await;
    let port = rx.url.rsplit(':').next().unwrap().to_owned();
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
    assert_eq!(rx.count().await, 0, "nothing reached the receiver");
}
