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
