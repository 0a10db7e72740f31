//! Billing: the only place that knows Stripe. Checkout, the billing portal,
//! plan changes, cancelling and resuming (`account.rs`); Stripe's word applied
//! to our rows (`sync.rs`: the tenant's plan follows its subscription, never
//! the other way round); signed webhooks stored once and worked after the 2xx,
//! and the reconcile pass (`events.rs`); the client (`stripe_api.rs`); the
//! `subscription.*` webhook events the syncs emit (`webhook_events.rs`).
//!
//! Without `STRIPE_SECRET_KEY` billing is off: every billing mutation answers
//! UNAVAILABLE saying so, and platform admins assign plans.

mod account;
mod erase;
mod events;
mod prices;
mod stripe_api;
mod sync;
mod webhook_events;

use std::sync::Arc;

use tokio::sync::Notify;

pub use account::{BillingOverview, CheckoutSession, Interval, require_reader};
pub use events::{MAX_WEBHOOK_BYTES, ReconcileReport, WebhookError};
pub use prices::{lookup_key, sync_prices};
pub use stripe_api::StripeApi;
pub use sync::{FREE_PLAN, live, pays};

use crate::config::BillingConfig;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::mail::Mailer;

/// The billing service of an instance (cheap to clone).
#[derive(Clone)]
pub struct Billing {
    inner: Option<Arc<Inner>>,
    db: Db,
    mailer: Mailer,
    /// Tenants with a billing change under way on this instance: one at a
    /// time each (a second gets CONFLICT), so a burst of mutations from one
    /// tenant cannot queue Stripe calls and pooled connections.
    busy: Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>,
}

/// A tenant's billing change under way; dropping it ends it.
pub(crate) struct Busy {
    set: Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>,
    tenant: uuid::Uuid,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.tenant);
    }
}

struct Inner {
    api: StripeApi,
    webhook_secrets: Vec<String>,
    reconcile_every: std::time::Duration,
    /// Wakes the event worker when a webhook stored an event.
    wake: Notify,
}

impl Billing {
    /// Billing over `config` (`None`: off).
    pub fn new(config: Option<&BillingConfig>, db: Db, mailer: Mailer) -> anyhow::Result<Self> {
        let inner = match config {
            Some(config) => Some(Arc::new(Inner {
                api: StripeApi::new(config)?,
                webhook_secrets: config.webhook_secrets.clone(),
                reconcile_every: config.reconcile_every,
                wake: Notify::new(),
            })),
            None => None,
        };
        Ok(Self {
            inner,
            db,
            mailer,
            busy: Arc::default(),
        })
    }

    /// Whether Stripe is configured.
    pub fn configured(&self) -> bool {
        self.inner.is_some()
    }

    /// Marks a billing change of `tenant` as under way (CONFLICT when one is).
    pub(crate) fn busy(&self, tenant: uuid::Uuid) -> AppResult<Busy> {
        let mut set = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        if !set.insert(tenant) {
            return Err(AppError::conflict(
                "another billing change of this tenant is under way; try again when it is done",
            ));
        }
        Ok(Busy {
            set: self.busy.clone(),
            tenant,
        })
    }

    fn on(&self) -> AppResult<&Inner> {
        self.inner.as_deref().ok_or_else(|| {
            AppError::unavailable(
                "billing is not configured on this server (no STRIPE_SECRET_KEY); \
                 a platform admin assigns plans with setTenantPlan",
            )
        })
    }
}

/// The support address line of billing emails.
fn billing_url(mailer: &Mailer) -> String {
    format!("{}/billing", mailer.public_url.trim_end_matches('/'))
}
