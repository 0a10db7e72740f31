//! Reads at the speed of the database: pooled connections are not pinged on
//! every checkout, and a request cancelled midway gives its connection back
//! clean (rolled back) instead of closing it.

use std::time::Duration;

use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt;
use tenantgate::db::{Db, PoolOptions};
use tenantgate::tenancy::Scope;

use crate::support::TestDb;

#[derive(diesel::QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

async fn backend_pid(db: &Db) -> i32 {
    db.scoped(Scope::anonymous(), |conn| {
        async move {
            let row: Pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
                .get_result(conn)
                .await?;
            Ok(row.pid)
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_cancelled_transaction_gives_its_connection_back_clean() {
    let test_db = TestDb::create().await;
    let options = PoolOptions {
        max_size: 1,
        ..PoolOptions::default()
    };
    let db = Db::connect(&test_db.app_url, &options).unwrap();
    let pid = backend_pid(&db).await;
    let before = db.statement_count();
    // The client hangs up while a statement of the transaction runs.
    let tenant = uuid::Uuid::now_v7();
    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        db.scoped(Scope::tenant(tenant), |conn| {
            async move {
                diesel::sql_query("SELECT pg_sleep(0.3)")
                    .execute(conn)
                    .await?;
                Ok(())
            }
            .scope_boxed()
        }),
    )
    .await;
    assert!(cancelled.is_err(), "the transaction must still be running");
    // The one connection comes back: same server process, no transaction, no
    // tenant left set.
    let again = tokio::time::timeout(Duration::from_secs(5), backend_pid(&db))
        .await
        .expect("the connection returns to the pool");
    assert_eq!(again, pid, "the connection was closed and replaced");
    assert_eq!(db.unscoped_setting("app.tenant_id").await.unwrap(), "");
    // BEGIN with its settings (one round trip), the sleep, ROLLBACK; then
    // BEGIN with its settings, SELECT, COMMIT; then the probe: no `SELECT 1`
    // on any checkout.
    assert_eq!(db.statement_count() - before, 7);
    db.close();
}

/// The portal's dashboard read, with `first` page sizes.
fn dashboard(first: usize) -> String {
    format!(
        "{{ tenant {{ name members(first: {first}) {{ edges {{ node {{ role joinedAt user {{ id email }} }} }} pageInfo {{ hasNextPage }} }} \
         apiKeys(first: {first}) {{ edges {{ node {{ id name displayPrefix state scopes environment lastUsedAt }} }} }} }} }}"
    )
}

/// SQL statements sent per dashboard read, whatever the page size: one
/// transaction (BEGIN with its settings in one round trip), the session
/// check, members with their users, keys, COMMIT.
pub const DASHBOARD_STATEMENTS: u64 = 5;

#[tokio::test]
async fn the_dashboard_costs_the_same_statements_at_every_page_size() {
    let app = crate::support::TestApp::spawn().await;
    let (token, _, tenant) = app.sign_up("dash@example.com", "Dash").await;
    let mut owner = app.db.owner().await;
    for sql in [
        "INSERT INTO users (id, email) SELECT gen_random_uuid(), 'm' || g || '@bulk.test' \
         FROM generate_series(1, 120) g"
            .to_owned(),
        format!(
            "INSERT INTO memberships (tenant_id, user_id, role) SELECT '{tenant}', id, 'member' \
             FROM users WHERE email LIKE '%@bulk.test'"
        ),
        format!(
            "INSERT INTO api_keys (id, tenant_id, name, environment, display_prefix, secret_hash, scopes) \
             SELECT gen_random_uuid(), '{tenant}', 'k' || g, 'live', 'tg_live_b' || g, \
             sha256(('bulk' || g)::bytea), '{{tenant:read}}' FROM generate_series(1, 120) g"
        ),
    ] {
        diesel::sql_query(sql).execute(&mut owner).await.unwrap();
    }
    let mut counts = Vec::new();
    for first in [1, 10, 50, 100] {
        let before = app.state.db.statement_count();
        let a = app
            .gql(&dashboard(first), serde_json::json!({}), Some(&token))
            .await;
        let after = app.state.db.statement_count();
        assert!(a.body.get("errors").is_none(), "{:?}", a.body);
        let t = &a.body["data"]["tenant"];
        assert_eq!(t["members"]["edges"].as_array().unwrap().len(), first);
        assert_eq!(t["apiKeys"]["edges"].as_array().unwrap().len(), first);
        assert!(
            t["members"]["edges"][0]["node"]["user"]["email"]
                .as_str()
                .is_some()
        );
        counts.push(after - before);
    }
    assert_eq!(
        counts,
        vec![DASHBOARD_STATEMENTS; 4],
        "statements per page size 1, 10, 50, 100"
    );
}

/// SQL statements the admin dashboard's tenants page costs, whatever its
/// size, all in the request's one transaction: BEGIN with its settings, the
/// session check, the switch to the admin path (settings and role), the page,
/// one audit insert for every listed tenant, the member counts, COMMIT.
pub const ADMIN_PAGE_STATEMENTS: u64 = 7;

#[tokio::test]
async fn the_admin_tenants_page_costs_the_same_statements_at_every_page_size() {
    let app = crate::support::TestApp::spawn().await;
    let (staff, _, _) = app.sign_up("staff@example.com", "Staff Co").await;
    tenantgate::admin::set_platform_admin(&app.db.url, "staff@example.com", true)
        .await
        .unwrap();
    let mut owner = app.db.owner().await;
    diesel::sql_query(
        "WITH t AS (INSERT INTO tenants (id, name, slug) SELECT gen_random_uuid(), 'T' || g, 't-' || g \
         FROM generate_series(1, 60) g RETURNING id), \
         u AS (INSERT INTO users (id, email) SELECT gen_random_uuid(), 'u' || g || '@bulk.test' \
         FROM generate_series(1, 3) g RETURNING id) \
         INSERT INTO memberships (tenant_id, user_id, role) SELECT t.id, u.id, 'member' FROM t, u",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    let mut counts = Vec::new();
    let mut listed = Vec::new();
    // Warm the pool (a new connection's set-up is not the page's cost).
    app.gql(
        "{ admin { tenants(first: 1) { nodes { id } } } }",
        serde_json::json!({}),
        Some(&staff),
    )
    .await;
    for first in [1, 10, 50] {
        let query = format!(
            "{{ admin {{ tenants(first: {first}) {{ nodes {{ id name status planKey memberCount }} }} }} }}"
        );
        let before = app.state.db.statement_count();
        let a = app.gql(&query, serde_json::json!({}), Some(&staff)).await;
        counts.push(app.state.db.statement_count() - before);
        assert!(a.body.get("errors").is_none(), "{:?}", a.body);
        let nodes = a.body["data"]["admin"]["tenants"]["nodes"]
            .as_array()
            .unwrap();
        assert_eq!(nodes.len(), first);
        assert_eq!(nodes[0]["memberCount"], 3, "{:?}", nodes[0]);
        listed = nodes.clone();
    }
    assert_eq!(
        counts,
        vec![ADMIN_PAGE_STATEMENTS; 3],
        "statements per page size 1, 10, 50"
    );
    // Every tenant of the last page has the read in its own trail.
    let ids: Vec<String> = listed
        .iter()
        .map(|n| format!("'{}'", n["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(DISTINCT tenant_id) AS n FROM audit_log \
                 WHERE action = 'admin.tenants.list' AND tenant_id IN ({})",
                ids.join(", ")
            ))
            .await,
        50
    );
}
