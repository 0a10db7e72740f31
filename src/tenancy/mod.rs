//! The tenant context and the tenant-scoped database handle.
//!
//! All work on data runs in [`Db::scoped`]: a transaction that first sets the
//! tenant and user of the [`Scope`] with `set_config(..., true)` (transaction
//! local, so nothing leaks into the next checkout of a pooled connection) and
//! then runs the caller's queries under row-level security. There is no other
//! public way to get a connection; a compiled read's one statement
//! (`Db::compiled_read`) sets the same settings itself.

use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use scoped_futures::ScopedBoxFuture;
use uuid::Uuid;

pub mod request;

pub use request::RequestReads;

use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Whose data a transaction may see and change. Built only through the
/// constructors below, each of which names one capability.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    tenant_id: Option<Uuid>,
    user_id: Option<Uuid>,
    lookup_email: Option<String>,
    role: ScopeRole,
    /// A read-only REPEATABLE READ transaction: one consistent snapshot
    /// (data exports).
    snapshot: bool,
}

/// The database role a scope's transaction runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ScopeRole {
    /// The runtime role (`tenantgate_app`).
    #[default]
    App,
    /// `tenantgate_platform_admin`: the platform admins' path across tenants.
    PlatformAdmin,
    /// `tenantgate_billing`: billing's writes (subscriptions, invoices, the
    /// tenant's plan) and the Stripe event queue.
    Billing,
    /// `tenantgate_webhook_worker`: the one role that may run the webhook
    /// claim (`tg_webhook_claim`, every tenant's due deliveries).
    WebhookWorker,
}

impl ScopeRole {
    fn name(self) -> &'static str {
        match self {
            Self::App => crate::db::APP_ROLE,
            Self::PlatformAdmin => "tenantgate_platform_admin",
            Self::Billing => "tenantgate_billing",
            Self::WebhookWorker => "tenantgate_webhook_worker",
        }
    }
}

impl Scope {
    /// No tenant and no user: tenant tables read as empty.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A user's own rows (identity, sessions, own memberships), no tenant.
    pub fn user(user_id: Uuid) -> Self {
        Self {
            user_id: Some(user_id),
            ..Self::default()
        }
    }

    /// One tenant's rows, acting for no particular user (e.g. accepting an
    /// invitation before the invitee exists).
    pub fn tenant(tenant_id: Uuid) -> Self {
        Self {
            tenant_id: Some(tenant_id),
            ..Self::default()
        }
    }

    /// One tenant's rows on behalf of one of its users.
    pub fn tenant_user(tenant_id: Uuid, user_id: Uuid) -> Self {
        Self {
            tenant_id: Some(tenant_id),
            user_id: Some(user_id),
            ..Self::default()
        }
    }

    /// The cross-tenant path of a verified platform admin (runs as the
    /// `tenantgate_platform_admin` role, whose policies check in the database that
    /// `user_id` is a platform admin): every read of it is audited by the caller.
    pub fn platform_admin(user_id: Uuid) -> Self {
        Self {
            user_id: Some(user_id),
            role: ScopeRole::PlatformAdmin,
            ..Self::default()
        }
    }

    /// Billing's path (runs as the `tenantgate_billing` role): one tenant's
    /// billing rows and plan, or with `None` only the platform's Stripe event
    /// queue and jobs. Only `src/billing` opens it, for Stripe's word or a
    /// verified billing member's request.
    pub fn billing(tenant_id: Option<Uuid>) -> Self {
        Self {
            tenant_id,
            role: ScopeRole::Billing,
            ..Self::default()
        }
    }

    /// The webhook worker's claim (runs as the `tenantgate_webhook_worker`
    /// role, the only one granted `tg_webhook_claim`), no tenant. Only
    /// `src/webhooks/worker.rs` opens it.
    pub fn webhook_worker() -> Self {
        Self {
            role: ScopeRole::WebhookWorker,
            ..Self::default()
        }
    }

    /// The same scope in one read-only snapshot (`REPEATABLE READ, READ
    /// ONLY`): every statement of the transaction sees the same data (a data
    /// export reads a tenant's tables page by page). Opened in a transaction
    /// of its own, never a request's shared reads.
    pub fn read_only_snapshot(mut self) -> Self {
        self.snapshot = true;
        self
    }

    pub(crate) fn is_snapshot(&self) -> bool {
        self.snapshot
    }

    /// Adds the right to read the one user row with this (normalised) email.
    pub fn with_email_lookup(mut self, email: &str) -> Self {
        self.lookup_email = Some(email.to_lowercase());
        self
    }

    /// `BEGIN` and the transaction-local settings of this scope, as one
    /// simple-protocol batch (one round trip). The values are ids (printed by
    /// `Uuid`) and a normalised email, quoted as SQL literals
    /// (`standard_conforming_strings` is on, so only `'` needs doubling; NUL
    /// never gets past input validation and is dropped here too).
    fn begin_sql(&self) -> String {
        let begin = if self.snapshot {
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        } else {
            "BEGIN"
        };
        format!("{begin}; {}", self.switch_sql(None))
    }

    /// Puts an open transaction in this scope: its settings, and its role when
    /// it differs from the role of the scope it follows (`from`; `None` at
    /// `BEGIN`, where the role is the runtime role).
    pub(crate) fn switch_sql(&self, from: Option<&Scope>) -> String {
        let id = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
        let email = self
            .lookup_email
            .as_deref()
            .unwrap_or_default()
            .replace('\0', "")
            .replace('\'', "''");
        let mut sql = format!(
            "SELECT set_config('app.tenant_id', '{}', true), \
             set_config('app.user_id', '{}', true), set_config('app.lookup_email', '{email}', true)",
            id(self.tenant_id),
            id(self.user_id),
        );
        let current = from.map_or(ScopeRole::App, |f| f.role);
        if self.role != current {
            // The admin path's role re-checks the user in its policies; the
            // billing role's writes are its own.
            sql.push_str(&format!("; SET LOCAL ROLE {}", self.role.name()));
        }
        sql
    }
}

impl Db {
    /// A handle for one query request: its reads share one transaction (see
    /// [`RequestReads`]), which [`Db::commit_reads`] ends.
    pub fn for_request_reads(&self) -> Db {
        let mut plain = self.clone();
        plain.reads = None;
        let mut request = plain.clone();
        request.reads = Some(std::sync::Arc::new(RequestReads::new(plain)));
        request
    }

    /// Commits the request's reads (a no-op on a plain handle).
    pub async fn commit_reads(&self) -> AppResult<()> {
        match &self.reads {
            Some(reads) => reads.commit().await,
            None => Ok(()),
        }
    }

    /// Runs `work` in one transaction under `scope` (on a request's handle, in
    /// the request's read transaction when the scope is the same); commits when it returns `Ok`,
    /// rolls back otherwise. When the future is dropped midway (the client hung
    /// up), the transaction is rolled back in the background and the
    /// connection goes back to the pool clean, instead of being closed.
    pub async fn scoped<'a, R, F>(&self, scope: Scope, work: F) -> AppResult<R>
    where
        F: for<'c> FnOnce(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, AppResult<R>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        match &self.reads {
            Some(reads) => reads.run(scope, work).await,
            None => self.own_transaction(scope, work).await,
        }
    }

    /// [`Db::scoped`] in a transaction of its own.
    pub(crate) async fn own_transaction<'a, R, F>(&self, scope: Scope, work: F) -> AppResult<R>
    where
        F: for<'c> FnOnce(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, AppResult<R>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        let mut tx = OpenTransaction::begin(self.checkout().await?, &scope).await?;
        let result = work(tx.conn()).await;
        tx.finish(result).await
    }
}

/// A pooled connection inside a transaction. Dropped before [`finish`]
/// (a cancelled request), it rolls back in the background and then returns
/// to the pool; a connection that cannot be rolled back is discarded by the
/// pool's broken-connection check.
///
/// [`finish`]: OpenTransaction::finish
pub(crate) struct OpenTransaction {
    conn: Option<Object<AsyncPgConnection>>,
}

impl OpenTransaction {
    /// Opens a transaction under `scope`: `BEGIN`, the settings (and the
    /// platform-admin role) go to the server in one round trip.
    pub(crate) async fn begin(
        mut conn: Object<AsyncPgConnection>,
        scope: &Scope,
    ) -> AppResult<Self> {
        AnsiTransactionManager::begin_transaction_sql(&mut *conn, &scope.begin_sql()).await?;
        Ok(Self { conn: Some(conn) })
    }

    pub(crate) fn conn(&mut self) -> &mut AsyncPgConnection {
        self.conn
            .as_deref_mut()
            .expect("the connection is held until finish")
    }

    /// Commits after `Ok`, rolls back after `Err`; returns the result (or the
    /// commit's error).
    pub(crate) async fn finish<R>(mut self, result: AppResult<R>) -> AppResult<R> {
        let mut conn = self.conn.take().expect("finish runs once");
        match result {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(&mut *conn).await?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) =
                    AnsiTransactionManager::rollback_transaction(&mut *conn).await
                {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(err)
            }
        }
    }

    /// Rolls back.
    pub(crate) async fn rollback(self) {
        let _ = self
            .finish::<()>(Err(AppError::unavailable("rolled back")))
            .await;
    }
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            // A statement still running finishes first; then ROLLBACK.
            if let Err(err) = AnsiTransactionManager::rollback_transaction(&mut *conn).await {
                tracing::debug!(error = %err, "a cancelled transaction could not be rolled back; the connection is dropped");
            }
        });
    }
}

/// Maps "no row" to a NOT_FOUND with a message that names only what the caller
/// asked for, never whose row it might be.
pub fn not_found(what: &str) -> AppError {
    AppError::not_found(format!("{what} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_sent_as_quoted_literals_with_begin() {
        let user = Uuid::nil();
        let sql = Scope::user(user)
            .with_email_lookup("o'brien\\'; drop table users; --@x.test")
            .begin_sql();
        assert!(sql.starts_with("BEGIN; SELECT set_config('app.tenant_id', '', true)"));
        assert!(sql.contains(&format!("set_config('app.user_id', '{user}', true)")));
        // The quote is doubled; the backslash is an ordinary character.
        assert!(sql.contains("'o''brien\\''; drop table users; --@x.test'"));
        assert!(!sql.contains("ROLE"));
        assert!(
            Scope::platform_admin(user)
                .begin_sql()
                .ends_with("SET LOCAL ROLE tenantgate_platform_admin")
        );
    }
}
