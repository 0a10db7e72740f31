//! The tenant context and the tenant-scoped database handle.
//!
//! All work on data runs in [`Db::scoped`]: a transaction that first sets the
//! tenant and user of the [`Scope`] with `set_config(..., true)` (transaction
//! local, so nothing leaks into the next checkout of a pooled connection) and
//! then runs the caller's queries under row-level security. There is no other
//! public way to get a connection.

use diesel::sql_types::Text;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use scoped_futures::ScopedBoxFuture;
use uuid::Uuid;

use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Whose data a transaction may see and change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// No tenant and no user: tenant tables read as empty.
    Anonymous,
    /// A user's own identity rows, no tenant.
    User(Uuid),
    /// One tenant's rows, optionally on behalf of one of its users.
    Tenant {
        tenant_id: Uuid,
        user_id: Option<Uuid>,
    },
}

impl Scope {
    /// The tenant scope of `tenant_id` acting for `user_id`.
    pub fn tenant_user(tenant_id: Uuid, user_id: Uuid) -> Self {
        Self::Tenant {
            tenant_id,
            user_id: Some(user_id),
        }
    }

    fn settings(&self) -> (String, String) {
        match *self {
            Self::Anonymous => (String::new(), String::new()),
            Self::User(user) => (String::new(), user.to_string()),
            Self::Tenant { tenant_id, user_id } => (
                tenant_id.to_string(),
                user_id.map(|u| u.to_string()).unwrap_or_default(),
            ),
        }
    }
}

impl Db {
    /// Runs `work` in one transaction under `scope`; commits when it returns `Ok`,
    /// rolls back otherwise (and when the future is dropped, the pool discards the
    /// connection with its open transaction).
    pub async fn scoped<'a, R, F>(&self, scope: Scope, work: F) -> AppResult<R>
    where
        F: for<'c> FnOnce(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, AppResult<R>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        let mut conn = self.checkout().await?;
        let conn: &mut AsyncPgConnection = &mut conn;
        AnsiTransactionManager::begin_transaction(conn).await?;
        let (tenant, user) = scope.settings();
        let set = diesel::sql_query(
            "SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        )
        .bind::<Text, _>(tenant)
        .bind::<Text, _>(user)
        .execute(conn)
        .await;
        let result = match set {
            Ok(_) => work(conn).await,
            Err(err) => Err(err.into()),
        };
        match result {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(conn).await?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) = AnsiTransactionManager::rollback_transaction(conn).await {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(err)
            }
        }
    }
}

/// Maps "no row" to a NOT_FOUND with a message that names only what the caller
/// asked for, never whose row it might be.
pub fn not_found(what: &str) -> AppError {
    AppError::not_found(format!("{what} not found"))
}
