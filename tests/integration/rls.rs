//! Row-level security: the catalogue says every tenant table is isolated, the
//! runtime role owns and bypasses nothing, and pooled connections never carry
//! one tenant's context into another's transaction.

use diesel::sql_types::{Bool, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scoped_futures::ScopedFutureExt;
use tenantgate::db::{Db, PoolOptions};
use tenantgate::error::AppError;
use tenantgate::tenancy::Scope;
use uuid::Uuid;

use crate::matrix::S;
use crate::support::{TestApp, TestDb};

#[derive(diesel::QueryableByName, Debug)]
struct TableRls {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    enabled: bool,
    #[diesel(sql_type = Bool)]
    forced: bool,
    #[diesel(sql_type = Bool)]
    has_policy: bool,
    #[diesel(sql_type = Bool)]
    policies_use_tenant: bool,
}

#[tokio::test]
async fn every_tenant_table_has_forced_rls_and_tenant_policies() {
    let db = TestDb::create().await;
    let mut conn = db.owner().await;
    let tables: Vec<TableRls> = diesel::sql_query(
        "SELECT c.relname::text AS table_name, c.relrowsecurity AS enabled,
                c.relforcerowsecurity AS forced,
                EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname) AS has_policy,
                -- Every policy a runtime role is subject to (one for the owner
                -- alone, such as pruning usage_dedup, binds no request).
                NOT EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname
                            AND p.roles && ARRAY['public', 'tenantgate_app',
                                                 'tenantgate_platform_admin', 'tenantgate_billing']::name[]
                            AND coalesce(p.qual, '') || coalesce(p.with_check, '')
                                !~ '(tg_current_tenant|tg_current_user|tg_current_user_is_platform_admin|tg_lookup_email)[(][)]'
                           ) AS policies_use_tenant
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                        AND a.attname IN ('tenant_id', 'user_id') AND NOT a.attisdropped)
                OR c.relname IN ('tenants', 'users'))
           -- Tables the runtime roles cannot touch at all need no policies
           -- (platform_admins); that they cannot is checked below.
           AND (has_any_column_privilege('tenantgate_app', c.oid, 'SELECT, INSERT, UPDATE')
                OR has_any_column_privilege('tenantgate_platform_admin', c.oid, 'SELECT, INSERT, UPDATE'))
         ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.table_name.as_str()).collect();
    // Partitions do not inherit their parent's row-level security: they are
    // safe only while no runtime role may touch them directly.
    let reachable_partitions: Vec<S> = diesel::sql_query(
        "SELECT c.relname::text AS s FROM pg_class c
         WHERE c.relispartition
           AND (has_any_column_privilege('tenantgate_app', c.oid, 'SELECT, INSERT, UPDATE')
                OR has_any_column_privilege('tenantgate_platform_admin', c.oid, 'SELECT, INSERT, UPDATE')
                OR has_any_column_privilege('tenantgate_billing', c.oid, 'SELECT, INSERT, UPDATE')
                OR has_table_privilege('tenantgate_app', c.oid, 'DELETE, TRUNCATE'))",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(
        reachable_partitions.is_empty(),
        "partitions a runtime role can reach past the parent's RLS: {:?}",
        reachable_partitions
            .iter()
            .map(|p| &p.s)
            .collect::<Vec<_>>()
    );
    assert!(
        names.contains(&"usage_batches"),
        "the partitioned usage_batches is checked: {names:?}"
    );
    for expected in [
        "audit_log",
        "email_tokens",
        "invitations",
        "memberships",
        "refresh_tokens",
        "sessions",
        "tenants",
        "users",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let untouchable = db
        .count(
            "SELECT count(*) AS n FROM pg_class WHERE relname = 'platform_admins'
             AND NOT has_any_column_privilege('tenantgate_app', oid, 'SELECT, INSERT, UPDATE')
             AND NOT has_any_column_privilege('tenantgate_platform_admin', oid, 'SELECT, INSERT, UPDATE')
             AND NOT has_table_privilege('tenantgate_app', oid, 'DELETE')",
        )
        .await;
    assert_eq!(
        untouchable, 1,
        "platform_admins must be out of the runtime roles' reach"
    );
    for t in &tables {
        assert!(
            t.enabled && t.forced,
            "{t:?}: RLS must be enabled and forced"
        );
        assert!(
            t.has_policy && t.policies_use_tenant,
            "{t:?}: policies must use the context"
        );
    }
    // A view reads its tables with its owner's rights unless it is
    // `security_invoker`: one that a runtime role may read and that is not
    // would show every tenant's rows.
    let owner_rights: Vec<S> = diesel::sql_query(
        "SELECT c.relname::text AS s FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
         WHERE c.relkind IN ('v', 'm')
           AND (has_table_privilege('tenantgate_app', c.oid, 'SELECT')
                OR has_table_privilege('tenantgate_platform_admin', c.oid, 'SELECT')
                OR has_table_privilege('tenantgate_billing', c.oid, 'SELECT'))
           AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(
        owner_rights.is_empty(),
        "views a runtime role reads with their owner's rights: {:?}",
        owner_rights.iter().map(|v| &v.s).collect::<Vec<_>>()
    );
    let views = db
        .count("SELECT count(*) AS n FROM pg_views WHERE schemaname = 'public' AND viewname = 'usage_events'")
        .await;
    assert_eq!(views, 1, "usage_events is a view, and checked above");
}

#[tokio::test]
async fn the_runtime_role_owns_nothing_and_bypasses_nothing() {
    let db = TestDb::create().await;
    let owns = db
        .count(
            "SELECT count(*) AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
             WHERE r.rolname = 'tenantgate_app'",
        )
        .await;
    assert_eq!(owns, 0);
    let privileged = db
        .count(
            "SELECT count(*) AS n FROM pg_roles WHERE rolname = 'tenantgate_app'
             AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolinherit)",
        )
        .await;
    assert_eq!(privileged, 0);
    // Pooled connections really run as it.
    let pool = Db::connect(&db.app_url, &PoolOptions::default()).unwrap();
    let role: String = pool
        .scoped(Scope::anonymous(), |conn| {
            async move {
                #[derive(diesel::QueryableByName)]
                struct R {
                    #[diesel(sql_type = Text)]
                    r: String,
                }
                let r: R = diesel::sql_query("SELECT current_user::text AS r")
                    .get_result(conn)
                    .await?;
                Ok(r.r)
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(role, "tenantgate_app");
    // The runtime role cannot make a platform admin, nor rewrite history.
    let err = pool
        .scoped(Scope::anonymous(), |conn| {
            async move {
                diesel::sql_query("INSERT INTO platform_admins (user_id) SELECT id FROM users")
                    .execute(conn)
                    .await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await;
    assert_denied(err, "make a platform admin");
}

/// The database refused the statement for lack of rights (a privilege or a
/// row-level-security check), not for any other reason.
fn assert_denied<T: std::fmt::Debug>(result: Result<T, AppError>, what: &str) {
    let err = result.expect_err(what);
    let AppError::Internal(cause) = &err else {
        panic!("{what}: expected a refusal from the database, got {err:?}");
    };
    let text = format!("{cause:#}");
    assert!(
        text.contains("permission denied") || text.contains("row-level security"),
        "{what}: {text}"
    );
}

async fn seed_tenant(pool: &Db, tenant: Uuid, user: Uuid, n: usize) {
    pool.scoped(Scope::tenant_user(tenant, user), |conn| {
        async move {
            diesel::sql_query("INSERT INTO users (id, email) VALUES ($1, $2)")
                .bind::<SqlUuid, _>(user)
                .bind::<Text, _>(format!("{user}@example.com"))
                .execute(conn)
                .await?;
            diesel::sql_query("INSERT INTO tenants (id, name, slug) VALUES ($1, 'T', $2)")
                .bind::<SqlUuid, _>(tenant)
                .bind::<Text, _>(format!("t-{}", tenant.simple()))
                .execute(conn)
                .await?;
            diesel::sql_query(
                "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')",
            )
            .bind::<SqlUuid, _>(tenant)
            .bind::<SqlUuid, _>(user)
            .execute(conn)
            .await?;
            for i in 0..n {
                let member = Uuid::new_v4();
                diesel::sql_query("SELECT set_config('app.user_id', $1, true)")
                    .bind::<Text, _>(member.to_string())
                    .execute(conn)
                    .await?;
                diesel::sql_query("INSERT INTO users (id, email) VALUES ($1, $2)")
                    .bind::<SqlUuid, _>(member)
                    .bind::<Text, _>(format!("m{i}-{member}@example.com"))
                    .execute(conn)
                    .await?;
                diesel::sql_query(
                    "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'member')",
                )
                .bind::<SqlUuid, _>(tenant)
                .bind::<SqlUuid, _>(member)
                .execute(conn)
                .await?;
            }
            Ok::<_, AppError>(())
        }
        .scope_boxed()
    })
    .await
    .unwrap();
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
}

async fn visible_tenant_ids(conn: &mut AsyncPgConnection) -> Result<Vec<Uuid>, AppError> {
    let mut ids: Vec<Uuid> = diesel::sql_query(
        "SELECT tenant_id FROM memberships
         UNION ALL SELECT id AS tenant_id FROM tenants",
    )
    .load::<Row>(conn)
    .await?
    .into_iter()
    .map(|r| r.tenant_id)
    .collect();
    // Users visible through tenant membership are checked by count below.
    ids.dedup();
    Ok(ids)
}

#[tokio::test]
async fn pooled_connections_never_leak_a_tenant_context() {
    let db = TestDb::create().await;
    let pool = Db::connect(
        &db.app_url,
        &PoolOptions {
            max_size: 2,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let tenants: Vec<(Uuid, Uuid)> = (0..6).map(|_| (Uuid::new_v4(), Uuid::new_v4())).collect();
    for (tenant, user) in &tenants {
        seed_tenant(&pool, *tenant, *user, 3).await;
    }
    let mut tasks = Vec::new();
    for round in 0..40 {
        for (i, (tenant, user)) in tenants.iter().enumerate() {
            let (pool, tenant, user) = (pool.clone(), *tenant, *user);
            // Every third task runs with no tenant at all: it must see nothing.
            let anonymous = (round + i) % 3 == 0;
            tasks.push(tokio::spawn(async move {
                let scope = if anonymous {
                    Scope::anonymous()
                } else {
                    Scope::tenant_user(tenant, user)
                };
                let ids = pool
                    .scoped(scope.clone(), |conn| visible_tenant_ids(conn).scope_boxed())
                    .await
                    .unwrap();
                if anonymous {
                    assert!(ids.is_empty(), "an anonymous transaction saw {ids:?}");
                } else {
                    assert!(!ids.is_empty());
                    assert!(
                        ids.iter().all(|id| *id == tenant),
                        "tenant {tenant} saw {ids:?}"
                    );
                }
                // Users: only the tenant's four (owner + 3 members).
                let users = pool
                    .scoped(scope, |conn| {
                        async move {
                            #[derive(diesel::QueryableByName)]
                            struct N {
                                #[diesel(sql_type = diesel::sql_types::BigInt)]
                                n: i64,
                            }
                            let n: N = diesel::sql_query("SELECT count(*) AS n FROM users")
                                .get_result(conn)
                                .await?;
                            Ok::<_, AppError>(n.n)
                        }
                        .scope_boxed()
                    })
                    .await
                    .unwrap();
                assert_eq!(users, if anonymous { 0 } else { 4 });
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    // And after all that, plain checkouts of both pooled connections (taken at
    // the same time, so each probe gets its own) carry no tenant and no user.
    for name in ["app.tenant_id", "app.user_id", "app.lookup_email"] {
        let (a, b) = tokio::join!(pool.unscoped_setting(name), pool.unscoped_setting(name));
        assert_eq!(
            (a.unwrap().as_str(), b.unwrap().as_str()),
            ("", ""),
            "{name} leaked"
        );
    }
    assert_eq!(pool.pool_status().size, 2);
}

#[tokio::test]
async fn writes_cannot_cross_tenants() {
    let db = TestDb::create().await;
    let pool = Db::connect(&db.app_url, &PoolOptions::default()).unwrap();
    let (a, ua) = (Uuid::new_v4(), Uuid::new_v4());
    let (b, ub) = (Uuid::new_v4(), Uuid::new_v4());
    seed_tenant(&pool, a, ua, 0).await;
    seed_tenant(&pool, b, ub, 0).await;
    let scope_a = Scope::tenant_user(a, ua);
    // Inserting a row for B while acting as A is refused (WITH CHECK).
    let insert = pool
        .scoped(scope_a.clone(), |conn| {
            async move {
                diesel::sql_query(
                    "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'admin')",
                )
                .bind::<SqlUuid, _>(b)
                .bind::<SqlUuid, _>(ua)
                .execute(conn)
                .await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await;
    assert_denied(insert, "insert into another tenant");
    // Updates and deletes of B's rows touch nothing.
    let touched = pool
        .scoped(scope_a.clone(), |conn| {
            async move {
                let u = diesel::sql_query(
                    "UPDATE memberships SET role = 'viewer' WHERE tenant_id = $1",
                )
                .bind::<SqlUuid, _>(b)
                .execute(conn)
                .await?;
                let d = diesel::sql_query("DELETE FROM memberships WHERE tenant_id = $1")
                    .bind::<SqlUuid, _>(b)
                    .execute(conn)
                    .await?;
                let t = diesel::sql_query("UPDATE tenants SET name = 'pwned' WHERE id = $1")
                    .bind::<SqlUuid, _>(b)
                    .execute(conn)
                    .await?;
                let us =
                    diesel::sql_query("UPDATE users SET email = 'pwned@example.com' WHERE id = $1")
                        .bind::<SqlUuid, _>(ub)
                        .execute(conn)
                        .await?;
                Ok(u + d + t + us)
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(touched, 0);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM memberships WHERE tenant_id = '{b}' AND role = 'owner'"
        ))
        .await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM tenants WHERE name = 'pwned'")
            .await,
        0
    );
    // Moving A's rows into B is refused too.
    for sql in [
        "UPDATE memberships SET tenant_id = $1 WHERE user_id = $2",
        "UPDATE tenants SET id = $1 WHERE id = $2",
    ] {
        let moved = pool
            .scoped(scope_a.clone(), |conn| {
                async move {
                    diesel::sql_query(sql)
                        .bind::<SqlUuid, _>(b)
                        .bind::<SqlUuid, _>(if sql.contains("memberships") { ua } else { a })
                        .execute(conn)
                        .await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await;
        assert_denied(moved, sql);
    }
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM memberships WHERE tenant_id = '{a}'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn graphql_reads_of_one_tenant_never_show_another() {
    let app = TestApp::spawn().await;
    let (token_a, _, tenant_a) = app.sign_up("iso-a@example.com", "Isolated A").await;
    let (token_b, _, tenant_b) = app.sign_up("iso-b@example.com", "Isolated B").await;
    for (token, mine, theirs, their_email) in [
        (&token_a, &tenant_a, &tenant_b, "iso-b@example.com"),
        (&token_b, &tenant_b, &tenant_a, "iso-a@example.com"),
    ] {
        let v = app
            .gql(
                "{ viewer { user { email } tenant { id name slug } role } }",
                serde_json::json!({}),
                Some(token),
            )
            .await;
        let text = v.body.to_string();
        assert!(text.contains(mine.as_str()));
        assert!(!text.contains(theirs.as_str()));
        assert!(!text.contains(their_email));
    }
}
