//! Data exports: a tenant's archive (owners) and a person's own.
//!
//! A request queues a row ([`Exports::request`], with its budget: one in the
//! making per tenant or person, [`DAILY_BUDGET`] a day); the worker of every
//! instance ([`worker`]) claims queued exports with a lease, reads the data
//! in one read-only snapshot in keyset pages and streams it into one ZIP
//! ([`archive`]), which goes into [`storage`]; owners (or the person) are
//! emailed and subscribers told. Downloads go through tenantgate itself
//! ([`links`]): each read of `downloadUrl` mints a single-use link bound to
//! the reader. Files are deleted at expiry by the worker, and by the erasure
//! through [`Exports::erase_tenant`] and [`Exports::erase_person`].

pub mod archive;
pub mod links;
pub mod storage;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::Db;
use crate::db::data_exports::{self, Export, Owner};
use crate::error::{AppError, AppResult};
use crate::mail::Mailer;
use crate::tenancy::Scope;
pub use storage::{ExportStorage, FolderStorage};

/// Exports an owner (or a person) may ask for in 24 hours.
pub const DAILY_BUDGET: i64 = 5;

/// Where archives are kept and for how long.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// The folder of [`FolderStorage`] (and of archives being written, in
    /// its `.tmp/`).
    pub dir: PathBuf,
    /// How long a ready archive is kept (and its links at most valid).
    pub retention: chrono::Duration,
    /// How long a claim holds without a heartbeat.
    pub lease: Duration,
    /// How often an idle worker looks for queued exports.
    pub poll: Duration,
    /// Rows per page read.
    pub page_rows: i32,
}

impl ExportSettings {
    /// The defaults, with archives under `dir`.
    pub fn in_folder(dir: PathBuf) -> Self {
        Self {
            dir,
            retention: chrono::Duration::hours(24),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(2),
            page_rows: 2_000,
        }
    }
}

/// The export service of an instance (cheap to clone).
#[derive(Clone, Debug)]
pub struct Exports {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    settings: ExportSettings,
    storage: Arc<dyn ExportStorage>,
    mailer: Mailer,
    /// Wakes this instance's worker when a request is queued here.
    wake: tokio::sync::Notify,
    /// This instance's worker id (the lease holder's name).
    worker_id: Uuid,
}

impl Exports {
    /// The service, with archives in `settings.dir`.
    pub fn new(db: Db, settings: ExportSettings, mailer: Mailer) -> Self {
        let storage = Arc::new(FolderStorage::new(settings.dir.clone()));
        Self::with_storage(db, settings, mailer, storage)
    }

    /// The service over another storage (an object store).
    pub fn with_storage(
        db: Db,
        settings: ExportSettings,
        mailer: Mailer,
        storage: Arc<dyn ExportStorage>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                settings,
                storage,
                mailer,
                wake: tokio::sync::Notify::new(),
                worker_id: Uuid::new_v4(),
            }),
        }
    }

    pub fn settings(&self) -> &ExportSettings {
        &self.inner.settings
    }

    pub fn storage(&self) -> &Arc<dyn ExportStorage> {
        &self.inner.storage
    }

    /// Queues an export for `owner`, asked for by `user` (verified by the
    /// caller: an owner of the tenant, or the person themselves). CONFLICT
    /// while another is queued or running; RATE_LIMITED past
    /// [`DAILY_BUDGET`] in 24 hours. Audited (a person's in the platform's
    /// trail).
    pub async fn request(&self, owner: Owner, user: Uuid, meta: &RequestMeta) -> AppResult<Export> {
        let scope = match owner {
            Owner::Tenant(t) => Scope::tenant_user(t, user),
            Owner::Person(u) => Scope::user(u),
        };
        let meta = meta.clone();
        let export = self
            .inner
            .db
            .scoped(scope, |conn| {
                async move {
                    let now = Utc::now();
                    let (n, oldest) = data_exports::requested_since(
                        conn,
                        owner,
                        now - chrono::Duration::hours(24),
                    )
                    .await?;
                    if n >= DAILY_BUDGET {
                        let retry = oldest
                            .map(|o| o + chrono::Duration::hours(24) - now)
                            .and_then(|d| d.to_std().ok())
                            .unwrap_or(Duration::from_secs(3600));
                        return Err(AppError::rate_limited(
                            format!(
                                "at most {DAILY_BUDGET} exports a day: the next one can be asked \
                                 for in {} minutes",
                                retry.as_secs().div_ceil(60)
                            ),
                            retry,
                        ));
                    }
                    let export = match data_exports::insert(conn, Uuid::now_v7(), owner, user).await
                    {
                        Ok(e) => e,
                        Err(err) if crate::error::unique_violation(&err).is_some() => {
                            return Err(AppError::conflict(
                                "an export is already being prepared: wait for it to be ready \
                                 (or to fail) before asking for another",
                            ));
                        }
                        Err(err) => return Err(err.into()),
                    };
                    let tenant = match owner {
                        Owner::Tenant(t) => Some(t),
                        Owner::Person(_) => None,
                    };
                    audit::record(
                        conn,
                        &meta,
                        Entry::new(tenant, Actor::user(user), "data_export.request")
                            .target("data_export", export.id),
                    )
                    .await?;
                    data_exports::announce(conn, export.id, export.tenant_id, export.user_id)
                        .await?;
                    Ok(export)
                }
                .scope_boxed()
            })
            .await?;
        self.inner.wake.notify_one();
        Ok(export)
    }

    /// A page of `owner`'s exports, newest first (the caller verified who
    /// may read them and reads in `scope`).
    pub async fn page(
        &self,
        db: &Db,
        scope: Scope,
        owner: Owner,
        after: Option<(chrono::DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> AppResult<Vec<Export>> {
        db.scoped(scope, |conn| {
            async move { Ok(data_exports::page(conn, owner, after, limit).await?) }.scope_boxed()
        })
        .await
    }

    /// One export of `owner` (in `scope`).
    pub async fn find(
        &self,
        db: &Db,
        scope: Scope,
        owner: Owner,
        id: Uuid,
    ) -> AppResult<Option<Export>> {
        db.scoped(scope, |conn| {
            async move { Ok(data_exports::find(conn, owner, id).await?) }.scope_boxed()
        })
        .await
    }

    /// Deletes every export of a tenant: its files, then its rows. For the
    /// erasure of a tenant: call it in the purge, while the tenant is
    /// `pending_deletion` (the database refuses otherwise), before the
    /// tenant's own row goes. Idempotent.
    pub async fn erase_tenant(&self, tenant: Uuid) -> AppResult<i64> {
        self.inner
            .storage
            .delete_tenant(tenant)
            .await
            .map_err(AppError::internal)?;
        self.inner
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move { Ok(data_exports::delete_all(conn, Owner::Tenant(tenant)).await?) }
                    .scope_boxed()
            })
            .await
    }

    /// Deletes every personal export of a user: files, then rows (and the
    /// user's download links). For `deleteMyAccount` and the erasure of a
    /// user. Idempotent.
    pub async fn erase_person(&self, user: Uuid) -> AppResult<i64> {
        self.inner
            .storage
            .delete_user(user)
            .await
            .map_err(AppError::internal)?;
        self.inner
            .db
            .scoped(Scope::user(user), |conn| {
                async move { Ok(data_exports::delete_all(conn, Owner::Person(user)).await?) }
                    .scope_boxed()
            })
            .await
    }

    fn mailer(&self) -> &Mailer {
        &self.inner.mailer
    }

    fn db(&self) -> &Db {
        &self.inner.db
    }
}
