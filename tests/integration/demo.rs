//! `--demo` data: seeded through the same scoped handle as requests, twice
//! without change (idempotent), and usable (the accounts sign in).

use serde_json::json;

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn demo_data_is_seeded_once_and_signs_in() {
    let app = TestApp::spawn().await;
    let first = tenantgate::demo::seed(&app.state.db, &app.db.url)
        .await
        .expect("seed");
    let again = tenantgate::demo::seed(&app.state.db, &app.db.url)
        .await
        .expect("seed again");
    assert_eq!(first.len(), 5);
    assert_eq!(
        first.iter().map(|a| a.user_id).collect::<Vec<_>>(),
        again.iter().map(|a| a.user_id).collect::<Vec<_>>()
    );
    let db = &app.db;
    assert_eq!(db.count("SELECT count(*) AS n FROM users").await, 5);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM users WHERE email_verified_at IS NOT NULL AND password_hash IS NOT NULL")
            .await,
        5
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM platform_admins").await,
        1
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM tenants WHERE (slug, name, plan_key) IN \
             (('acme', 'Acme Corporation', 'pro'), ('globex', 'Globex', 'free'))"
        )
        .await,
        2
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM memberships m JOIN users u ON u.id = m.user_id \
             JOIN tenants t ON t.id = m.tenant_id WHERE (t.slug, u.email, m.role) IN \
             (('acme', 'ada@acme.test', 'owner'), ('acme', 'bob@acme.test', 'member'), \
              ('globex', 'grace@globex.test', 'owner'), ('globex', 'hank@globex.test', 'viewer'))"
        )
        .await,
        4
    );
    assert_eq!(db.count("SELECT count(*) AS n FROM memberships").await, 4);
    // The default plans get monthly api_calls quotas (the usage page's bars).
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM plans WHERE (key, monthly_quotas) IN \
             (('free', '{\"api_calls\": 10000}'::jsonb), ('basic', '{\"api_calls\": 100000}'::jsonb), \
              ('pro', '{\"api_calls\": 1000000}'::jsonb), ('enterprise', '{\"api_calls\": 10000000}'::jsonb))"
        )
        .await,
        4
    );
    let answer = app
        .gql(
            "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }",
            json!({ "i": { "email": "ada@acme.test", "password": tenantgate::demo::DEMO_PASSWORD } }),
            None,
        )
        .await;
    assert!(
        answer.body["data"]["logIn"]["accessToken"].is_string(),
        "{:?}",
        answer.body
    );
}
