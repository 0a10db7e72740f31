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

/// Whose data a transaction may see and change. Built only through the
/// constructors below, each of which names one capability.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    tenant_id: Option<Uuid>,
    user_id: Option<Uuid>,
    lookup_email: Option<String>,
    platform_admin: bool,
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
            platform_admin: true,
            ..Self::default()
        }
    }

    /// Adds the right to read the one user row with this (normalised) email.
    pub fn with_email_lookup(mut self, email: &str) -> Self {
        self.lookup_email = Some(email.to_lowercase());
        self
    }

    fn settings(&self) -> [String; 3] {
        let id = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
        [
            id(self.tenant_id),
            id(self.user_id),
            self.lookup_email.clone().unwrap_or_default(),
        ]
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
        let [tenant, user, email] = scope.settings();
        let mut set = diesel::sql_query(
            "SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true), \
                    set_config('app.lookup_email', $3, true)",
        )
        .bind::<Text, _>(tenant)
        .bind::<Text, _>(user)
        .bind::<Text, _>(email)
        .execute(conn)
        .await;
        if scope.platform_admin && set.is_ok() {
            // The admin path's own role; its policies check the user again.
            set = diesel::sql_query("SET LOCAL ROLE tenantgate_platform_admin")
                .execute(conn)
                .await;
        }
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
