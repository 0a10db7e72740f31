//! The billing role under row-level security, in SQL: a billing transaction
//! for tenant A reads and writes A's billing rows only; outside any tenant it
//! sees the customer → tenant lookup and the event queue, and no
//! subscription or invoice.

use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt;
use tenantgate::db::Db;
use tenantgate::error::AppError;
use tenantgate::tenancy::Scope;
use uuid::Uuid;

use crate::matrix::text;
use crate::support::TestApp;

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(db: &Db, scope: Scope, sql: &'static str) -> Result<i64, AppError> {
    db.scoped(scope, |conn| {
        async move { Ok(diesel::sql_query(sql).get_result::<N>(conn).await?.n) }.scope_boxed()
    })
    .await
}

async fn execute(db: &Db, scope: Scope, sql: String) -> Result<usize, AppError> {
    db.scoped(scope, |conn| {
        async move { Ok(diesel::sql_query(sql).execute(conn).await?) }.scope_boxed()
    })
    .await
}

#[tokio::test]
async fn the_billing_role_sees_one_tenant_or_only_the_lookup() {
    let app = TestApp::spawn().await;
    let (_, _, a) = app.sign_up("a@billing-rls.test", "A").await;
    let (_, _, b) = app.sign_up("b@billing-rls.test", "B").await;
    let mut owner = app.db.owner().await;
    for (i, t) in [&a, &b].into_iter().enumerate() {
        text(
            &mut owner,
            &format!(
                "WITH c AS (INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES ('{t}', 'cus_rls{i}')),
                      s AS (INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id,
                                status, plan_key, price_id, stripe_created)
                            VALUES ('{t}', 'sub_rls{i}', 'cus_rls{i}', 'active', 'pro', 'price_rls{i}', now())),
                      v AS (INSERT INTO invoices (stripe_invoice_id, tenant_id, status, total, currency, stripe_created)
                            VALUES ('in_rls{i}', '{t}', 'paid', 100, 'usd', now()))
                 SELECT 'x' AS s"
            ),
        )
        .await;
    }
    let db = Db::connect(&app.db.app_url, &Default::default()).unwrap();
    let a = Uuid::parse_str(&a).unwrap();
    let as_a = || Scope::billing(Some(a));
    for table in [
        "SELECT count(*) AS n FROM billing_customers",
        "SELECT count(*) AS n FROM subscriptions",
        "SELECT count(*) AS n FROM invoices",
    ] {
        assert_eq!(
            count(&db, as_a(), table).await.unwrap(),
            1,
            "{table} as A's billing"
        );
    }
    // Writes aimed at B's rows touch nothing; writing a row for B is refused.
    for sql in [
        format!("UPDATE subscriptions SET status = 'canceled' WHERE tenant_id = '{b}'"),
        format!("UPDATE invoices SET total = 0 WHERE tenant_id = '{b}'"),
        format!("UPDATE billing_customers SET trial_used = true WHERE tenant_id = '{b}'"),
        format!("UPDATE tenants SET plan_key = 'enterprise' WHERE id = '{b}'"),
    ] {
        assert_eq!(execute(&db, as_a(), sql.clone()).await.unwrap(), 0, "{sql}");
    }
    let insert = format!(
        "INSERT INTO invoices (stripe_invoice_id, tenant_id, status, total, currency, stripe_created)
         VALUES ('in_forged', '{b}', 'paid', 1, 'usd', now())"
    );
    assert!(
        execute(&db, as_a(), insert).await.is_err(),
        "a row for B written as A's billing"
    );
    // Outside a tenant: the customer lookup and nothing else of any tenant.
    assert_eq!(
        count(
            &db,
            Scope::billing(None),
            "SELECT count(*) AS n FROM billing_customers"
        )
        .await
        .unwrap(),
        2
    );
    for table in [
        "SELECT count(*) AS n FROM subscriptions",
        "SELECT count(*) AS n FROM invoices",
        "SELECT count(*) AS n FROM memberships",
    ] {
        assert_eq!(
            count(&db, Scope::billing(None), table).await.unwrap(),
            0,
            "{table} outside a tenant"
        );
    }
    // The runtime role reads its tenant's billing rows but writes none.
    let user = Uuid::now_v7();
    assert!(
        execute(
            &db,
            Scope::tenant_user(a, user),
            format!("UPDATE subscriptions SET status = 'active' WHERE tenant_id = '{a}'")
        )
        .await
        .is_err(),
        "the runtime role updated a subscription"
    );
    assert!(
        count(
            &db,
            Scope::tenant(a),
            "SELECT count(*) AS n FROM stripe_events"
        )
        .await
        .is_err(),
        "the runtime role read the Stripe event queue"
    );
    // Nothing of B moved.
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM subscriptions WHERE tenant_id = '{b}' AND status = 'active'"
            ))
            .await,
        1
    );
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM tenants WHERE id = '{b}' AND plan_key = 'free'"
            ))
            .await,
        1
    );
}
