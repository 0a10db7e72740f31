//! The export worker of an instance: claims one queued export at a time
//! (`FOR UPDATE SKIP LOCKED`, leased: an instance that dies loses its claim
//! when the lease runs out and another takes the export over; a worker that
//! lost its lease stops, so two never finish the same export), writes its
//! archive and stores it, then marks it ready, emails the owners (or the
//! person) and announces it. Once a minute it deletes expired archives.
//!
//! The data is read in one `REPEATABLE READ, READ ONLY` transaction in the
//! tenant's (or person's) own scope, so row-level security still decides what
//! it sees; progress and the lease are written on another connection, at most
//! once a second.

use std::time::{Duration, Instant};

use chrono::Utc;
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::Exports;
use super::archive::{Archive, FORMAT_VERSION, ManifestHead, Written};
use super::storage::key_for;
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::data_exports::{self, Claimed, Owner};
use crate::db::export_reads::{self, Kind};
use crate::error::{AppError, AppResult};
use crate::mail::Mail;
use crate::tenancy::Scope;
use crate::usage::Stop;

/// Tries per export before it is marked failed.
pub const MAX_ATTEMPTS: i32 = 3;
/// How often expired archives are looked for.
const EXPIRY_EVERY: Duration = Duration::from_secs(60);
/// Progress (and the lease) written at most this often.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

impl Exports {
    /// Starts this instance's worker; it ends after `stop`.
    pub fn start_worker(&self, stop: Stop) -> tokio::task::JoinHandle<()> {
        let exports = self.clone();
        tokio::spawn(async move {
            let mut last_expiry: Option<Instant> = None;
            loop {
                if last_expiry.is_none_or(|t| t.elapsed() >= EXPIRY_EVERY) {
                    if let Err(err) = exports.expire_due().await {
                        tracing::warn!(error = %err, "deleting expired exports failed");
                    }
                    last_expiry = Some(Instant::now());
                }
                let worked = tokio::select! {
                    r = exports.run_once() => r,
                    () = stop.stopped() => return,
                };
                match worked {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(err) => tracing::warn!(error = %err, "the export worker failed"),
                }
                tokio::select! {
                    () = exports.inner.wake.notified() => {}
                    () = tokio::time::sleep(exports.settings().poll) => {}
                    () = stop.stopped() => return,
                }
            }
        })
    }

    fn lease_secs(&self) -> i32 {
        i32::try_from(self.settings().lease.as_secs())
            .unwrap_or(60)
            .max(5)
    }

    /// Claims and runs one export; `false` when none was waiting.
    pub async fn run_once(&self) -> AppResult<bool> {
        let (worker, lease) = (self.inner.worker_id, self.lease_secs());
        let claimed = self
            .db()
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(data_exports::claim(conn, worker, lease).await?) }.scope_boxed()
            })
            .await?;
        let Some(claimed) = claimed else {
            return Ok(false);
        };
        tracing::info!(export = %claimed.id, attempt = claimed.attempts, "export claimed");
        if claimed.attempts > MAX_ATTEMPTS {
            self.give_up(
                &claimed,
                "the export failed repeatedly: ask for a new one",
                false,
            )
            .await?;
            return Ok(true);
        }
        if let Err(Failure::Error(err)) = self.heartbeat(&claimed, 0).await {
            return Err(err);
        }
        let started = Instant::now();
        match self.build(&claimed).await {
            Ok(written) => {
                let stored = self.store(&claimed, &written).await;
                let _ = tokio::fs::remove_file(&written.path).await;
                stored?;
                tracing::info!(
                    export = %claimed.id,
                    bytes = written.size,
                    ms = started.elapsed().as_millis() as u64,
                    "export ready"
                );
            }
            Err(Failure::LeaseLost) => {
                tracing::warn!(export = %claimed.id, "export lease lost: another instance has it");
            }
            Err(Failure::Error(err)) => {
                tracing::warn!(export = %claimed.id, error = %err, "export failed");
                let retry = claimed.attempts < MAX_ATTEMPTS;
                let message = if retry {
                    "the export failed and is being retried"
                } else {
                    "the export failed: ask for a new one"
                };
                self.give_up(&claimed, message, retry).await?;
            }
        }
        Ok(true)
    }

    fn owner_scope(claimed: &Claimed) -> (Owner, Scope) {
        match (claimed.tenant_id, claimed.user_id) {
            (Some(t), _) => (Owner::Tenant(t), Scope::tenant(t)),
            (None, Some(u)) => (Owner::Person(u), Scope::user(u)),
            (None, None) => unreachable!("every export has an owner"),
        }
    }

    /// Writes progress and extends the lease; an error when it was lost.
    async fn heartbeat(&self, claimed: &Claimed, progress: i16) -> Result<(), Failure> {
        let (_, scope) = Self::owner_scope(claimed);
        let (id, worker, lease) = (claimed.id, self.inner.worker_id, self.lease_secs());
        let (tenant, user) = (claimed.tenant_id, claimed.user_id);
        let held = self
            .db()
            .scoped(scope, |conn| {
                async move {
                    let held = data_exports::heartbeat(conn, id, worker, progress, lease).await?;
                    if held {
                        data_exports::announce(conn, id, tenant, user).await?;
                    }
                    Ok(held)
                }
                .scope_boxed()
            })
            .await?;
        if held {
            Ok(())
        } else {
            Err(Failure::LeaseLost)
        }
    }

    /// Reads everything in one snapshot into a new archive.
    async fn build(&self, claimed: &Claimed) -> Result<Written, Failure> {
        let (owner, scope) = Self::owner_scope(claimed);
        let (kinds, owner_id, kind_name): (&[Kind], Uuid, &str) = match owner {
            Owner::Tenant(t) => (export_reads::TENANT, t, "tenant"),
            Owner::Person(u) => (export_reads::PERSON, u, "person"),
        };
        let tmp = self.settings().dir.join(".tmp");
        tokio::fs::create_dir_all(&tmp)
            .await
            .map_err(|e| Failure::Error(AppError::internal(e)))?;
        // A name of this worker's own: another instance that took the export
        // over (same shared folder) never writes into this file.
        let path = tmp.join(format!(
            "{}-{}.zip",
            claimed.id,
            self.inner.worker_id.simple()
        ));
        let archive = Archive::create(path.clone());
        let page_rows = self.settings().page_rows.max(1);
        let this = self.clone();
        let claim = claimed.clone();
        let archive_ref = &archive;
        let read = self
            .db()
            .scoped(scope.read_only_snapshot(), |conn| {
                async move {
                    let snapshot_at = export_reads::begin_snapshot(conn).await?;
                    let mut total: i64 = 0;
                    for kind in kinds {
                        total += export_reads::count(conn, kind, owner_id).await?;
                    }
                    let total = total.max(1);
                    let mut done: i64 = 0;
                    let mut beat = Instant::now();
                    for kind in kinds {
                        archive_ref
                            .file(kind.file)
                            .await
                            .map_err(AppError::internal)?;
                        let mut cursor: Option<String> = None;
                        loop {
                            let rows = export_reads::page(
                                conn,
                                kind,
                                owner_id,
                                cursor.as_deref(),
                                page_rows,
                            )
                            .await?;
                            let n = rows.len();
                            cursor = rows.last().map(|r| r.cursor.clone());
                            done += n as i64;
                            archive_ref
                                .lines(rows.into_iter().map(|r| r.line).collect())
                                .await
                                .map_err(AppError::internal)?;
                            if beat.elapsed() >= HEARTBEAT_EVERY {
                                beat = Instant::now();
                                // Up to 99 %: 100 only once stored.
                                let progress = (done * 99 / total).clamp(0, 99) as i16;
                                this.heartbeat(&claim, progress)
                                    .await
                                    .map_err(Failure::into_app)?;
                            }
                            if n < page_rows as usize {
                                break;
                            }
                        }
                    }
                    Ok(snapshot_at)
                }
                .scope_boxed()
            })
            .await;
        let snapshot_at = match read {
            Ok(at) => at,
            Err(err) => {
                archive.abandon().await;
                let _ = tokio::fs::remove_file(&path).await;
                return Err(Failure::from_app(err));
            }
        };
        let head = ManifestHead {
            format: "tenantgate-export",
            format_version: FORMAT_VERSION,
            kind: kind_name,
            export_id: claimed.id.to_string(),
            tenant_id: claimed.tenant_id.map(|t| t.to_string()),
            user_id: claimed.user_id.map(|u| u.to_string()),
            snapshot_at,
            created_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        };
        match archive.finish(head).await {
            Ok(written) => Ok(written),
            Err(err) => {
                let _ = tokio::fs::remove_file(&path).await;
                Err(Failure::Error(AppError::internal(err)))
            }
        }
    }

    /// Puts the archive into storage, then marks the export ready, emails
    /// and announces it (one transaction).
    async fn store(&self, claimed: &Claimed, written: &Written) -> AppResult<()> {
        let (owner, scope) = Self::owner_scope(claimed);
        let key = key_for(owner, claimed.id);
        // Still ours (and a fresh lease for the copy)? Otherwise the instance
        // that took the export over writes it: never overwrite its file.
        match self.heartbeat(claimed, 99).await {
            Ok(()) => {}
            Err(Failure::LeaseLost) => {
                tracing::warn!(export = %claimed.id, "export lease lost before storing: another instance has it");
                return Ok(());
            }
            Err(Failure::Error(err)) => return Err(err),
        }
        let mut file = tokio::fs::File::open(&written.path)
            .await
            .map_err(AppError::internal)?;
        self.storage()
            .put(&key, &mut file)
            .await
            .map_err(AppError::internal)?;
        let (id, worker) = (claimed.id, self.inner.worker_id);
        let size = i64::try_from(written.size).unwrap_or(i64::MAX);
        let sha = written.sha256.clone();
        let expires = Utc::now() + self.settings().retention;
        let mailer = self.mailer().clone();
        let finished = self
            .db()
            .scoped(scope, |conn| {
                async move {
                    let Some(export) =
                        data_exports::finish(conn, id, worker, size, &sha, expires).await?
                    else {
                        return Ok(None);
                    };
                    let (recipients, subject, what) = match owner {
                        Owner::Tenant(t) => {
                            audit::record(
                                conn,
                                &RequestMeta::default(),
                                Entry::new(Some(t), Actor::System, "data_export.ready")
                                    .target("data_export", id)
                                    .change(None, Some(serde_json::json!({ "sizeBytes": size }))),
                            )
                            .await?;
                            (
                                crate::db::usage::owner_emails(conn, t).await?,
                                "Your workspace's data export is ready",
                                "the export of your workspace's data",
                            )
                        }
                        Owner::Person(u) => (
                            crate::db::users::find(conn, u)
                                .await?
                                .map(|user| vec![user.email])
                                .unwrap_or_default(),
                            "Your personal data export is ready",
                            "the export of your personal data",
                        ),
                    };
                    let page = match owner {
                        Owner::Tenant(_) => "settings",
                        Owner::Person(_) => "account",
                    };
                    for to in recipients {
                        mailer
                            .queue(
                                conn,
                                Mail {
                                    to,
                                    subject: subject.to_owned(),
                                    body: format!(
                                        "Hello,\n\n{what} is ready ({size} bytes, SHA-256 {sha}).\n\
                                         Download it from {}/{page} until {} UTC; after that it \
                                         is deleted.\n\nThe download link is made when you ask \
                                         for it there and works once.\n",
                                        mailer.public_url.trim_end_matches('/'),
                                        expires.format("%Y-%m-%d %H:%M"),
                                    ),
                                },
                            )
                            .await?;
                    }
                    data_exports::announce(conn, id, export.tenant_id, export.user_id).await?;
                    Ok(Some(export))
                }
                .scope_boxed()
            })
            .await?;
        if finished.is_none() {
            // The lease went to another instance meanwhile (its copy wins), or
            // the export is gone (its tenant or person erased, or expired):
            // then nothing may keep the file.
            let (_, scope) = Self::owner_scope(claimed);
            let exists = self
                .db()
                .scoped(scope, |conn| {
                    async move { Ok(data_exports::find(conn, owner, id).await?.is_some()) }
                        .scope_boxed()
                })
                .await?;
            if exists {
                tracing::warn!(export = %id, "export finished after its lease was lost");
            } else {
                tracing::warn!(export = %id, "export gone while it was written: its file is deleted");
                self.storage()
                    .delete(&key)
                    .await
                    .map_err(AppError::internal)?;
            }
        }
        Ok(())
    }

    async fn give_up(&self, claimed: &Claimed, message: &str, retry: bool) -> AppResult<()> {
        let (_, scope) = Self::owner_scope(claimed);
        let (id, worker) = (claimed.id, self.inner.worker_id);
        let (tenant, user) = (claimed.tenant_id, claimed.user_id);
        let message = message.to_owned();
        self.db()
            .scoped(scope, |conn| {
                async move {
                    if data_exports::give_up(conn, id, worker, &message, retry).await? {
                        data_exports::announce(conn, id, tenant, user).await?;
                    }
                    Ok(())
                }
                .scope_boxed()
            })
            .await?;
        if retry {
            self.inner.wake.notify_one();
        }
        Ok(())
    }

    /// Deletes the archives of exports past their expiry, then marks them
    /// expired. Returns how many.
    pub async fn expire_due(&self) -> AppResult<usize> {
        let due = self
            .db()
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(data_exports::expiring(conn, 100).await?) }.scope_boxed()
            })
            .await?;
        let mut n = 0;
        for export in due {
            let owner = match (export.tenant_id, export.user_id) {
                (Some(t), _) => Owner::Tenant(t),
                (None, Some(u)) => Owner::Person(u),
                (None, None) => continue,
            };
            self.storage()
                .delete(&key_for(owner, export.id))
                .await
                .map_err(AppError::internal)?;
            let id = export.id;
            let marked = self
                .db()
                .scoped(Scope::anonymous(), |conn| {
                    async move {
                        let marked = data_exports::mark_expired(conn, id).await?;
                        if marked {
                            data_exports::announce(conn, id, export.tenant_id, export.user_id)
                                .await?;
                        }
                        Ok(marked)
                    }
                    .scope_boxed()
                })
                .await?;
            n += usize::from(marked);
        }
        Ok(n)
    }
}

/// Why an export stopped.
enum Failure {
    /// Another instance holds the lease now: leave the export to it.
    LeaseLost,
    Error(AppError),
}

/// The message a lost lease travels under inside the read transaction.
const LEASE_LOST: &str = "the export's lease was lost";

impl Failure {
    fn into_app(self) -> AppError {
        match self {
            Self::LeaseLost => AppError::conflict(LEASE_LOST),
            Self::Error(e) => e,
        }
    }

    fn from_app(err: AppError) -> Self {
        match &err {
            AppError::Conflict(m) if m == LEASE_LOST => Self::LeaseLost,
            _ => Self::Error(err),
        }
    }
}

impl From<AppError> for Failure {
    fn from(err: AppError) -> Self {
        Self::Error(err)
    }
}
