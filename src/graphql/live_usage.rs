//! The stream behind `usageUpdated`: the active tenant's quota counters,
//! pushed at subscribe time and again whenever that tenant's usage is
//! announced (from any instance, see [`crate::usage::live`]), at most
//! [`MIN_GAP`] apart per subscriber, and only when they changed.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use super::types::usage::{Quota, quotas};
use crate::app::Services;
use crate::auth::{Principal, Session, TenantAccess};
use crate::db::Db;
use crate::error::AppError;
use crate::plans::PlanCatalogue;
use crate::usage::live::Watchers;
use crate::usage::quotas::Quotas;

/// Least time between two reads of one subscriber (so at most 4 a second).
pub const MIN_GAP: Duration = Duration::from_millis(250);
/// How often a subscriber reads (and is verified) while announcements do
/// not arrive (LISTEN down) or the last read failed.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// How often a subscriber is verified (and reads) with no announcement at
/// all, so a revoked session ends a quiet feed too.
pub const REVERIFY_EVERY: Duration = Duration::from_secs(30);

/// One subscriber's state, owned by its stream.
pub struct Subscriber {
    db: Db,
    plans: PlanCatalogue,
    counters: Quotas,
    watchers: Watchers,
    changes: watch::Receiver<u64>,
    principal: Principal,
    active_tenant: Option<Uuid>,
    expires_at: Option<i64>,
    tenant_id: Uuid,
    /// What was pushed last (nothing: the first push is due).
    pushed: Option<Vec<Quota>>,
    last_read: Option<Instant>,
    /// The last read failed for want of the database: poll.
    retry: bool,
}

impl Subscriber {
    /// The subscriber verified as a member of the active tenant (any role,
    /// like `tenant { quotas }`), watching that tenant from now on.
    pub fn new(services: &Services, session: &Session, access: &TenantAccess) -> Self {
        let watchers = services.feed.usage().clone();
        Self {
            db: services.db.clone(),
            plans: services.plans.clone(),
            counters: services.usage.quotas().clone(),
            changes: watchers.watch(access.tenant_id),
            watchers,
            principal: session.principal.clone(),
            active_tenant: session.active_tenant,
            expires_at: session.expires_at,
            tenant_id: access.tenant_id,
            pushed: None,
            last_read: None,
            retry: false,
        }
    }

    /// The next push; `None` ends the feed (the subscriber no longer
    /// verifies, or this instance is shutting down).
    pub async fn next(&mut self) -> Option<Vec<Quota>> {
        loop {
            if self.pushed.is_some() && !self.wait().await {
                return None;
            }
            if let Some(last) = self.last_read {
                tokio::time::sleep_until(last + MIN_GAP).await;
            }
            // Announcements from now on lead to another read: the last push
            // always follows the last announcement.
            self.changes.borrow_and_update();
            self.last_read = Some(Instant::now());
            match self.read().await {
                Ok(Some(now)) => {
                    self.retry = false;
                    if self.pushed.as_ref() != Some(&now) {
                        self.pushed = Some(now.clone());
                        return Some(now);
                    }
                }
                Ok(None) => return None,
                Err(err) => {
                    tracing::warn!(tenant.id = %self.tenant_id, error = %err, "live usage read failed; polling");
                    self.retry = true;
                    if self.pushed.is_none() {
                        // Nothing pushed yet: the first push is still due.
                        tokio::time::sleep(POLL_EVERY).await;
                    }
                }
            }
        }
    }

    /// Waits for a reason to read again: an announcement of this tenant,
    /// else a poll (LISTEN down, a failed read) or the periodic check.
    /// False when the announcements are gone for good.
    async fn wait(&mut self) -> bool {
        let quiet = if self.retry || !self.watchers.is_live() {
            POLL_EVERY
        } else {
            REVERIFY_EVERY
        };
        tokio::select! {
            changed = self.changes.changed() => changed.is_ok(),
            () = tokio::time::sleep(quiet) => true,
        }
    }

    /// Verifies the subscriber again and reads the counters under its own
    /// tenant scope: `None` when it no longer verifies (token expired,
    /// signed out, removed, tenant suspended); an error when the database
    /// cannot answer right now.
    async fn read(&self) -> Result<Option<Vec<Quota>>, AppError> {
        let mut check = Session::new(self.principal.clone(), self.active_tenant);
        check.expires_at = self.expires_at;
        let verified = match check.reverify(&self.db).await {
            Ok(verified) => verified,
            Err(err @ (AppError::Unavailable(_) | AppError::Internal(_))) => return Err(err),
            Err(_) => return Ok(None),
        };
        let (Some(access), Some(tenant)) = (verified.access, verified.tenant) else {
            return Ok(None);
        };
        if access.tenant_id != self.tenant_id {
            return Ok(None);
        }
        let Some(plan) = self.plans.plan(&self.db, &tenant.plan_key).await? else {
            return Ok(Some(Vec::new()));
        };
        let now = quotas(
            &self.db,
            access.scope(),
            &self.counters,
            &plan,
            self.tenant_id,
        )
        .await?;
        Ok(Some(now))
    }
}
