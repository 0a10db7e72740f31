//! The purge: a due tenant (pending deletion, grace period over) erased step
//! by step, each step its own transaction re-checked by the database, so a
//! run cut off anywhere (a crash, a deploy, an aborted task) leaves a state
//! the next run finishes:
//!
//! 1. its Stripe customer deleted through `billing` (which cancels the
//!    subscription; a customer already gone counts as done);
//! 2. its stored exports deleted, and those of the people step 3 erases
//!    ([`Purger::delete_exports`]: files live outside the database);
//! 3. its members: the people who belong to no other tenant (and are not
//!    platform admins) erased with their sessions and tokens, then every
//!    membership removed (one transaction);
//! 4. every other row of the tenant, table by table from the catalogue, in
//!    batches of [`BATCH`] rows, each batch a transaction;
//! 5. the tenant row itself, replaced by its tombstone.
//!
//! Every instance runs the job ([`Purger::start`], every [`PERIOD`]); a lease
//! on the tenant row (`tg_tenant_purge_claim`, renewed while it works) keeps
//! one run per tenant at a time.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use crate::billing::Billing;
use crate::db::{self, Db};
use crate::error::{AppError, AppResult};
use crate::exports::Exports;
use crate::tenancy::Scope;
use crate::usage::Stop;

/// How often every instance looks for due tenants.
pub const PERIOD: Duration = Duration::from_secs(60);
/// Rows a purge batch deletes (one table at a time).
pub const BATCH: i32 = 5_000;
/// How long a run holds a tenant; renewed every [`RENEW_EVERY`] batches.
const LEASE_SECS: i64 = 600;
const RENEW_EVERY: usize = 20;

/// What one run did to one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeRun {
    pub tenant: Uuid,
    /// People erased because they belonged to no other tenant.
    pub people_erased: i64,
    /// Tenant rows deleted by this run (memberships and the tenant row aside).
    pub rows_deleted: i64,
    /// Whether the tenant is gone (its tombstone written).
    pub finished: bool,
}

/// Purges due tenants (cheap to clone).
#[derive(Clone)]
pub struct Purger {
    db: Db,
    billing: Billing,
    exports: Exports,
}

impl Purger {
    pub fn new(db: Db, billing: Billing, exports: Exports) -> Self {
        Self {
            db,
            billing,
            exports,
        }
    }

    /// Purges every due tenant this run can lease; the runs done.
    pub async fn run_due(&self) -> AppResult<Vec<PurgeRun>> {
        let due = self
            .db
            .scoped(Scope::anonymous(), |conn| {
                async move { Ok(db::erasure::due_for_purge(conn, 20).await?) }.scope_boxed()
            })
            .await?;
        let mut runs = Vec::new();
        for tenant in due {
            if let Some(run) = self.purge(tenant).await? {
                runs.push(run);
            }
        }
        Ok(runs)
    }

    /// Purges `tenant` to the end; `None` when it is not due or another run
    /// holds it.
    pub async fn purge(&self, tenant: Uuid) -> AppResult<Option<PurgeRun>> {
        self.purge_some(tenant, None, BATCH).await
    }

    /// Purges `tenant` with batches of `batch` rows, stopping after
    /// `max_batches` of them when given (a run cut off halfway, for tests):
    /// the tenant then stays, partly purged, for the next run.
    pub async fn purge_some(
        &self,
        tenant: Uuid,
        max_batches: Option<usize>,
        batch: i32,
    ) -> AppResult<Option<PurgeRun>> {
        let holder = Uuid::now_v7();
        if !self.claim(tenant, holder).await? {
            return Ok(None);
        }
        tracing::info!(tenant.id = %tenant, "purging a tenant whose deletion is due");
        self.billing.delete_customer_of(tenant).await?;
        self.delete_exports(tenant).await?;
        let people_erased = self
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move { Ok(db::erasure::purge_members(conn, tenant).await?) }.scope_boxed()
            })
            .await?;
        let mut run = PurgeRun {
            tenant,
            people_erased,
            rows_deleted: 0,
            finished: false,
        };
        let mut batches = 0usize;
        loop {
            if max_batches.is_some_and(|max| batches >= max) {
                return Ok(Some(run));
            }
            let n = self
                .db
                .scoped(Scope::tenant(tenant), |conn| {
                    async move { Ok(db::erasure::purge_batch(conn, tenant, batch).await?) }
                        .scope_boxed()
                })
                .await?;
            if n == 0 {
                break;
            }
            run.rows_deleted += n;
            batches += 1;
            if batches.is_multiple_of(RENEW_EVERY) && !self.claim(tenant, holder).await? {
                return Err(AppError::conflict(
                    "another run took over this tenant's purge",
                ));
            }
        }
        // Again, just before the tenant row goes: an archive an owner asked
        // for (or a worker finished) after step 2 leaves no file behind.
        self.exports.erase_tenant(tenant).await?;
        run.finished = self
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move { Ok(db::erasure::purge_finish(conn, tenant).await?) }.scope_boxed()
            })
            .await?;
        tracing::info!(
            tenant.id = %tenant,
            people = run.people_erased,
            rows = run.rows_deleted,
            "tenant purged; its tombstone remains"
        );
        Ok(Some(run))
    }

    /// Takes or renews the tenant's lease for run `holder`.
    async fn claim(&self, tenant: Uuid, holder: Uuid) -> AppResult<bool> {
        self.db
            .scoped(Scope::tenant(tenant), |conn| {
                async move { Ok(db::erasure::claim(conn, tenant, LEASE_SECS, holder).await?) }
                    .scope_boxed()
            })
            .await
    }

    /// Deletes the tenant's stored exports (files, then rows), and the own
    /// exports of the people the member step will erase, before it does (a
    /// run cut off after this finds them again: idempotent).
    async fn delete_exports(&self, tenant: Uuid) -> AppResult<()> {
        self.exports.erase_tenant(tenant).await?;
        let people = self
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move { Ok(db::erasure::purge_people(conn, tenant).await?) }.scope_boxed()
            })
            .await?;
        for person in people {
            self.exports.erase_person(person).await?;
        }
        Ok(())
    }

    /// Runs [`Purger::run_due`] every [`PERIOD`] until `stop` (on every
    /// instance; the leases keep runs apart).
    pub fn start(self, stop: Stop) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.stopped() => return,
                    _ = tokio::time::sleep(PERIOD) => {}
                }
                match self.run_due().await {
                    Ok(runs) if !runs.is_empty() => {
                        tracing::info!(tenants = runs.len(), "purge pass done");
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "purge pass failed; the next one resumes it");
                    }
                }
            }
        })
    }
}
