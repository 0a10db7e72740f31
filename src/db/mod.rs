//! The database: connection pool, migrations, schema and queries per table.
//!
//! This module knows nothing of HTTP, GraphQL or Stripe. Pooled connections run
//! as the runtime role `tenantgate_app` (no ownership, no BYPASSRLS); migrations
//! run as the role of the database URL, which owns the schema. Queries against
//! tenant data go through [`crate::tenancy`], never through the pool directly.

pub mod api_keys;
pub mod audit_log;
pub mod billing;
pub mod compiled;
pub mod data_exports;
pub mod domains;
pub mod email_tokens;
pub mod embedded;
pub mod erasure;
pub mod export_reads;
pub mod invitations;
pub mod login_failures;
pub mod memberships;
pub mod metrics;
pub mod notify;
pub mod outbox;
pub mod plans;
pub mod platform_admins;
pub mod prepared;
pub mod publishable_keys;
pub mod refresh_tokens;
pub mod schema;
pub mod sessions;
pub mod tenants;
pub mod usage;
pub mod usage_reads;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use deadpool::Runtime;
use diesel::connection::InstrumentationEvent;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{
    AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;

/// The migrations in `migrations/`, embedded in the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The role every pooled connection runs as.
pub const APP_ROLE: &str = "tenantgate_app";

/// How the pool behaves; every timeout is finite (deadpool's default is none).
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: usize,
    pub wait_timeout: Duration,
    pub create_timeout: Duration,
    pub recycle_timeout: Duration,
    /// Longest a single statement may run.
    pub statement_timeout: Duration,
    /// Switch each new connection to the runtime role (`SET ROLE`): only for a
    /// URL that logs in as another role (development against an external
    /// server without an app URL). Normally the pool logs in as the runtime role.
    pub set_role: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait_timeout: Duration::from_secs(5),
            create_timeout: Duration::from_secs(5),
            recycle_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(15),
            set_role: false,
        }
    }
}

/// The database handle shared by the whole server.
#[derive(Clone)]
pub struct Db {
    pool: Pool<AsyncPgConnection>,
    statements: Arc<AtomicU64>,
    /// The read transaction of one query request, when this handle is that
    /// request's (see [`crate::tenancy::RequestReads`]).
    pub(crate) reads: Option<Arc<crate::tenancy::RequestReads>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("status", &self.pool.status())
            .finish()
    }
}

impl Db {
    /// Builds the pool. Connections are made lazily; each one switches to the
    /// runtime role before it is handed out.
    pub fn connect(url: &str, options: &PoolOptions) -> anyhow::Result<Self> {
        let statement_timeout_ms = options.statement_timeout.as_millis();
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        let set_role = if options.set_role {
            format!("SET ROLE {APP_ROLE}; ")
        } else {
            String::new()
        };
        let mut config = ManagerConfig::default();
        // No `SELECT 1` on every checkout: a connection is handed out again
        // unless it is broken (an open or failed transaction, or closed by the
        // server, which the driver notices as it happens); a connection that
        // dies between the check and its use fails that request with
        // UNAVAILABLE and is then dropped.
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(move |url| {
            let url = url.to_owned();
            let counter = counter.clone();
            let set_role = set_role.clone();
            async move {
                let mut conn = AsyncPgConnection::establish(&url).await?;
                // Counts every statement sent over the pool (tests assert
                // constant round trips; benchmarks report them).
                conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                    if let InstrumentationEvent::StartQuery { .. } = event {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
                conn.batch_execute(&format!(
                    "{set_role}SET statement_timeout = {statement_timeout_ms}; \
                     SET idle_in_transaction_session_timeout = 60000; \
                     SET standard_conforming_strings = on; \
                     SET plan_cache_mode = force_generic_plan; \
                     SET application_name = 'tenantgate'"
                ))
                .await
                .map_err(|err| diesel::ConnectionError::BadConnection(err.to_string()))?;
                Ok(conn)
            }
            .boxed()
        });
        let manager = AsyncDieselConnectionManager::new_with_config(url, config);
        let pool = Pool::builder(manager)
            .max_size(options.max_size)
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(options.create_timeout))
            .recycle_timeout(Some(options.recycle_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .context("building the database pool")?;
        Ok(Self {
            pool,
            statements,
            reads: None,
        })
    }

    /// How many SQL statements this pool's connections have sent so far.
    pub fn statement_count(&self) -> u64 {
        // Fully qualified: diesel-async's RunQueryDsl shadows `load` on every type.
        AtomicU64::load(&self.statements, Ordering::Relaxed)
    }

    /// A pooled connection. Only the tenancy module and health checks use this:
    /// everything else asks for a scoped transaction.
    pub(crate) async fn checkout(
        &self,
    ) -> Result<Object<AsyncPgConnection>, diesel_async::pooled_connection::deadpool::PoolError>
    {
        self.pool.get().await
    }

    /// Reads a setting on a plain pooled connection, outside any scoped
    /// transaction: what the next checkout would start with. For tests that
    /// prove tenant settings never outlive their transaction.
    #[doc(hidden)]
    pub async fn unscoped_setting(&self, name: &str) -> Result<String, crate::error::AppError> {
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let mut conn = self.checkout().await?;
        let row: Setting =
            diesel::sql_query("SELECT coalesce(current_setting($1, true), '') AS value")
                .bind::<diesel::sql_types::Text, _>(name)
                .get_result(&mut conn)
                .await?;
        // Held until both probes have their own connection (see the test).
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(row.value)
    }

    /// Closes the pool: idle connections are dropped and no new ones are made.
    pub fn close(&self) {
        self.pool.close();
    }

    /// Pool size figures for health output and tests.
    pub fn pool_status(&self) -> deadpool::Status {
        self.pool.status()
    }

    /// Whether the database answers and every embedded migration is applied.
    pub async fn readiness(&self) -> Result<(), String> {
        #[derive(diesel::QueryableByName)]
        struct Latest {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            version: Option<String>,
        }
        let mut conn = self
            .checkout()
            .await
            .map_err(|e| format!("database: {e}"))?;
        let latest: Latest =
            diesel::sql_query("SELECT max(version) AS version FROM __diesel_schema_migrations")
                .get_result(&mut conn)
                .await
                .map_err(|e| format!("database: {e}"))?;
        let expected = latest_migration_version();
        match latest.version {
            Some(v) if v >= expected => Ok(()),
            other => Err(format!(
                "migrations: database is at {}, the server needs {expected}",
                other.as_deref().unwrap_or("none")
            )),
        }
    }
}

/// The version of the newest embedded migration (e.g. `20261122000002`).
pub fn latest_migration_version() -> String {
    use diesel::migration::MigrationSource;
    let migrations: Vec<_> =
        MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).unwrap_or_default();
    migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .max()
        .unwrap_or_default()
}

/// Applies pending migrations as the owner role of `url`; returns the versions
/// applied. Instances starting together take turns (an advisory lock), so only
/// one applies each migration. Needs tokio's multi-thread runtime.
pub async fn migrate(url: &str) -> anyhow::Result<Vec<String>> {
    const LOCK: i64 = 0x7465_6e61_6e74; // "tenant"
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .context("connecting to run migrations")?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({LOCK})"))
        .execute(&mut conn)
        .await
        .context("waiting for the migration lock")?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = harness
        .run_pending_migrations(MIGRATIONS)
        .map_err(|err| anyhow::anyhow!("running migrations: {err}"))
        .map(|v| v.iter().map(|v| v.to_string()).collect());
    let mut conn = harness.into_inner();
    let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({LOCK})"))
        .execute(&mut conn)
        .await;
    applied
}

/// Lets the runtime role log in with `password` (run as the owner).
pub async fn set_app_password(owner_url: &str, password: &str) -> anyhow::Result<()> {
    let mut conn = owner_connection(owner_url).await?;
    // A password cannot be a bind parameter here; it is generated (alphanumeric).
    anyhow::ensure!(
        password.chars().all(|c| c.is_ascii_alphanumeric()),
        "bad app password"
    );
    conn.batch_execute(&format!(
        "ALTER ROLE {APP_ROLE} WITH LOGIN PASSWORD '{password}'"
    ))
    .await
    .context("letting the runtime role log in")?;
    Ok(())
}

/// `(created_at, id) <op> ($at, $id)` over `columns` (e.g.
/// `"memberships.created_at, memberships.user_id"`): a row comparison, so a
/// `(…, created_at, id)` index serves keyset pages at any depth (an
/// `a < x OR (a = x AND id < y)` filter cannot).
pub fn keyset<QS>(
    columns: &'static str,
    op: Keyset,
    at: chrono::DateTime<chrono::Utc>,
    id: uuid::Uuid,
) -> Box<dyn diesel::BoxableExpression<QS, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>> {
    let op = match op {
        Keyset::After => ">",
        Keyset::Before => "<",
    };
    Box::new(
        diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("({columns}) {op} ("))
            .bind::<diesel::sql_types::Timestamptz, _>(at)
            .sql(", ")
            .bind::<diesel::sql_types::Uuid, _>(id)
            .sql(")"),
    )
}

/// `%…%` for ILIKE, with the pattern characters of `text` escaped.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Which way a keyset page goes.
#[derive(Debug, Clone, Copy)]
pub enum Keyset {
    /// Oldest first: rows after the cursor.
    After,
    /// Newest first: rows before the cursor.
    Before,
}

/// `url` naming database `database` instead (query parameters kept).
pub fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("not a database URL"))?;
    let host = rest.split_once('/').map_or(rest, |(host, _)| host);
    Ok(match query {
        Some(query) => format!("{scheme}://{host}/{database}?{query}"),
        None => format!("{scheme}://{host}/{database}"),
    })
}

/// `url` with its user and password replaced.
pub fn with_credentials(url: &str, user: &str, password: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("not a database URL"))?;
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    Ok(format!("{scheme}://{user}:{password}@{host}"))
}

/// Runs a statement as the owner role of `url` (for CLI admin work and demo data).
pub async fn owner_connection(url: &str) -> anyhow::Result<AsyncPgConnection> {
    AsyncPgConnection::establish(url)
        .await
        .context("connecting to the database")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(" ac%me_ "), "%ac\\%me\\_%");
    }

    #[test]
    fn database_urls_are_rewritten_keeping_their_parts() {
        assert_eq!(
            with_database("postgres://u:p@h:5/a?host=%2Frun", "b").unwrap(),
            "postgres://u:p@h:5/b?host=%2Frun"
        );
        assert_eq!(
            with_database("postgres://u@h/a", "b").unwrap(),
            "postgres://u@h/b"
        );
        assert_eq!(
            with_database("postgres://u@h", "b").unwrap(),
            "postgres://u@h/b"
        );
        assert_eq!(
            with_credentials("postgres://u:p@h/a?host=%2Frun", "app", "pw").unwrap(),
            "postgres://app:pw@h/a?host=%2Frun"
        );
        assert!(with_database("not a url", "b").is_err());
    }
}
