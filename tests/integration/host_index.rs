//! The routing index: other instances route a change within one NOTIFY (a
//! slug changed, a domain verified or removed, a tenant suspended, its name
//! changed), a flood of made-up hosts runs no SQL, and a host's face is read
//! once for any number of concurrent requests.

use serde_json::{Value, json};

use crate::support::dns::DnsServer;
use crate::support::hosts::{
    BASE, eventually, gql_on, host_tenant, host_tenant_id, peer, spawn, verified_domain,
};

#[tokio::test]
async fn other_instances_follow_routing_changes_by_notify() {
    let dns = DnsServer::start().await;
    let a = spawn(&dns).await;
    let b = peer(&a, &dns).await;
    let (owner, _, tenant) = a.sign_up("owner@moving.test", "Moving Co").await;
    let slug_of = async |token: &str| {
        a.gql("{ tenant { slug } }", json!({}), Some(token))
            .await
            .body["data"]["tenant"]["slug"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let slug = slug_of(&owner).await;
    let code_on = async |host: String| host_tenant(&b, &host).await.code().to_owned();

    // A new tenant's subdomain: B learns it.
    let first_host = format!("{slug}.{BASE}");
    eventually("B routes the new slug", json!(tenant), || {
        host_tenant_id(&b, &first_host)
    })
    .await;
    // Its name as B shows it (cached there from now on).
    let name_on_b = || async {
        host_tenant(&b, &format!("{}.{BASE}", "moving-again"))
            .await
            .body["data"]["hostTenant"]["name"]
            .clone()
    };

    // The slug changes on A: B drops the old one and routes the new one.
    let changed = a
        .gql(
            "mutation { updateTenant(input: {slug: \"moving-again\"}) { slug } }",
            json!({}),
            Some(&owner),
        )
        .await;
    assert_eq!(
        changed.body["data"]["updateTenant"]["slug"], "moving-again",
        "{:?}",
        changed.body
    );
    let second_host = format!("moving-again.{BASE}");
    eventually("B routes the changed slug", json!(tenant), || {
        host_tenant_id(&b, &second_host)
    })
    .await;
    eventually("B forgets the old slug", json!("NOT_FOUND"), || async {
        json!(code_on(format!("{slug}.{BASE}")).await)
    })
    .await;
    assert_eq!(name_on_b().await, "Moving Co");
    // The name changes on A: B's cached face of that tenant is dropped.
    a.gql(
        "mutation { updateTenant(input: {name: \"Moved Co\"}) { name } }",
        json!({}),
        Some(&owner),
    )
    .await;
    eventually("B shows the new name", json!("Moved Co"), name_on_b).await;

    // A domain verified on A routes on B; suspended, it stops; active again
    // and removed on A, it stops too.
    verified_domain(&a, &dns, &owner, &tenant, "portal.moving.example").await;
    let on_b = || host_tenant_id(&b, "portal.moving.example");
    eventually("B routes the verified domain", json!(tenant), on_b).await;
    a.db.count(&format!(
        "WITH v AS (UPDATE tenants SET status = 'suspended' WHERE id = '{tenant}' RETURNING 1) \
         SELECT count(*) AS n FROM v"
    ))
    .await;
    eventually(
        "B stops routing a suspended tenant's domain",
        Value::Null,
        on_b,
    )
    .await;
    a.db.count(&format!(
        "WITH v AS (UPDATE tenants SET status = 'active' WHERE id = '{tenant}' RETURNING 1) \
         SELECT count(*) AS n FROM v"
    ))
    .await;
    eventually("B routes it again once active", json!(tenant), on_b).await;
    let removed = a
        .gql("mutation { removeCustomDomain }", json!({}), Some(&owner))
        .await;
    assert_eq!(
        removed.body["data"]["removeCustomDomain"], true,
        "{:?}",
        removed.body
    );
    eventually("B stops routing a removed domain", Value::Null, on_b).await;
    drop(b);
}

#[tokio::test]
async fn a_flood_of_made_up_hosts_runs_no_sql() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (owner, _, tenant) = app.sign_up("owner@flood.test", "Flood Co").await;
    // A valid key: the requests get past the key's presence to the host.
    let (_, key) = crate::keys::create_key(
        &app,
        &owner,
        json!({ "scopes": ["USAGE_WRITE"], "environment": "LIVE" }),
    )
    .await;
    let bodies = [
        ("/v1/authorize", json!({ "metric": "api_calls" })),
        (
            "/v1/usage",
            json!({ "events": [crate::usage::event("api_calls", 1, chrono::Utc::now(), "flood")] }),
        ),
    ];
    // The index is loaded (a known host routes).
    let known = format!("flood-co.{BASE}");
    eventually("the index is loaded", json!(tenant), || {
        host_tenant_id(&app, &known)
    })
    .await;
    // Made-up subdomains and made-up custom domains (NOT_FOUND both),
    // through GraphQL, /v1/authorize and /v1/usage with a valid key: not one
    // statement. A whole read of the index (every 30 s) landing in the
    // window is the only other pool user here: then the count is taken
    // again.
    let index = app.state.domains.index();
    let mut tries = 0;
    loop {
        let (loads, before) = (index.full_loads(), app.state.db.statement_count());
        for i in 0..40 {
            for host in [
                format!("made-up-{i}.{BASE}"),
                format!("x{i}.made-up-{i}.example"),
            ] {
                let a = gql_on(&app, &host, "{ hostTenant { id } }", json!({}), None, &[]).await;
                assert_eq!(a.code(), "NOT_FOUND", "{host}: {:?}", a.body);
                for (path, body) in &bodies {
                    let res = app
                        .client
                        .post(format!("{}{path}", app.url))
                        .header("host", &host)
                        .header("content-type", "application/json")
                        .header("x-api-key", &key)
                        .body(body.to_string())
                        .send()
                        .await
                        .unwrap();
                    let status = res.status();
                    let answer: Value = res.json().await.unwrap();
                    // (/v1/authorize answers `{allowed, error}`.)
                    let code = answer["error"]["code"]
                        .as_str()
                        .or(answer["errors"][0]["extensions"]["code"].as_str());
                    assert_eq!(code, Some("NOT_FOUND"), "{host}{path}: {status} {answer:?}");
                }
            }
        }
        let ran = app.state.db.statement_count() - before;
        if index.full_loads() != loads && tries < 3 {
            tries += 1;
            continue;
        }
        assert_eq!(ran, 0, "statements run for 240 requests on made-up hosts");
        break;
    }
}

#[tokio::test]
async fn a_hosts_face_is_read_once_for_concurrent_requests() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    app.sign_up("owner@face-one.test", "Face One").await;
    app.sign_up("owner@face-two.test", "Face Two").await;
    let (one, two) = (format!("face-one.{BASE}"), format!("face-two.{BASE}"));
    // Routed, faces not yet read (routing needs only the index).
    eventually("the index is loaded", json!("Face One"), || async {
        host_tenant(&app, &one).await.body["data"]["hostTenant"]["name"].clone()
    })
    .await;
    let statements = async |host: &str, n: usize| {
        let before = app.state.db.statement_count();
        let answers = futures_util::future::join_all((0..n).map(|_| host_tenant(&app, host))).await;
        for a in answers {
            assert!(
                a.body["data"]["hostTenant"]["id"].is_string(),
                "{:?}",
                a.body
            );
        }
        app.state.db.statement_count() - before
    };
    // Cached: no statement. The other tenant's face, asked for by 20 at
    // once: read as once.
    assert_eq!(statements(&one, 20).await, 0, "a cached face");
    let once = statements(&two, 20).await;
    assert!(once > 0);
    let (_, _, third) = app.sign_up("owner@face-three.test", "Face Three").await;
    let three = format!("face-three.{BASE}");
    eventually("the third routes", json!(third), || {
        host_tenant_id(&app, &three)
    })
    .await;
    // (`eventually` read the third face once already: a fresh tenant's single
    // read costs what 20 concurrent ones cost.)
    assert_eq!(statements(&three, 20).await, 0);
    let (_, _, fourth) = app.sign_up("owner@face-four.test", "Face Four").await;
    app.state
        .domains
        .changed(&app.state.db, fourth.parse().unwrap())
        .await;
    assert_eq!(statements(&format!("face-four.{BASE}"), 1).await, once);
}

#[tokio::test]
async fn a_whole_read_of_the_index_drops_every_face() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (_, _, tenant) = app.sign_up("owner@face-lost.test", "Face Lost").await;
    let host = format!("face-lost.{BASE}");
    let name = async || host_tenant(&app, &host).await.body["data"]["hostTenant"]["name"].clone();
    eventually("the face is read", json!("Face Lost"), name).await;
    // A rename whose announcement is lost (no trigger fires).
    let mut conn = app.db.owner().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        &format!(
            "SET session_replication_role = replica; \
             UPDATE tenants SET name = 'Face Found' WHERE id = '{tenant}'; \
             SET session_replication_role = DEFAULT"
        ),
    )
    .await
    .unwrap();
    assert_eq!(name().await, "Face Lost", "still the cached face");
    // The next whole read (here: the plan catalogue changed) drops it.
    diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, "NOTIFY tenantgate_plans")
        .await
        .unwrap();
    eventually("the face is read again", json!("Face Found"), name).await;
}

#[tokio::test]
async fn only_changes_of_what_routes_are_announced() {
    let dns = DnsServer::start().await;
    let app = spawn(&dns).await;
    let (owner, _, tenant) = app.sign_up("owner@quiet.test", "Quiet Co").await;
    verified_domain(&app, &dns, &owner, &tenant, "portal.quiet.example").await;
    let mut conn = app.db.owner().await;
    let index = app.state.domains.index();
    // Statements the instance runs within 300 ms of `sql` (a reload of the
    // announced tenant is one), retried when a whole read lands meanwhile.
    let after = async |conn: &mut diesel_async::AsyncPgConnection, sql: &str| loop {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (loads, before) = (index.full_loads(), app.state.db.statement_count());
        diesel_async::SimpleAsyncConnection::batch_execute(conn, sql)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        if index.full_loads() == loads {
            break app.state.db.statement_count() - before;
        }
    };
    let quiet = after(
        &mut conn,
        &format!(
            "UPDATE tenant_domains SET last_checked_at = now() WHERE tenant_id = '{tenant}'; \
             UPDATE tenants SET name = name, slug = slug WHERE id = '{tenant}'"
        ),
    )
    .await;
    assert_eq!(quiet, 0, "nothing that routes changed: nothing announced");
    let heard = after(
        &mut conn,
        &format!("UPDATE tenants SET name = 'Loud Co' WHERE id = '{tenant}'"),
    )
    .await;
    assert!(heard > 0, "a rename is announced and reloaded");
}
