//! Stripe's webhooks and the work they start. A delivery is verified over its
//! raw bytes (async-stripe's `construct_event`: HMAC-SHA256, any `v1` may
//! match, 300 s tolerance) before anything reads it, stored once by event id
//! (a redelivery changes nothing) and answered 2xx at once, unhandled types
//! included. The work (which reads Stripe) runs after the answer, on any
//! instance (a lease per event), retried with backoff until it succeeds. The
//! reconcile pass re-reads every subscription and recent invoice from Stripe,
//! for webhooks that never came.

use std::time::Duration;

use chrono::Utc;
use scoped_futures::ScopedFutureExt;
use stripe_billing::invoice::ListInvoice;
use stripe_billing::subscription::{ListSubscription, ListSubscriptionStatus};
use uuid::Uuid;

use super::Billing;
use super::sync::{Notice, time};
use crate::audit::Actor;
use crate::db::billing as rows;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// Largest webhook body accepted (Stripe's events are a few KiB).
pub const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

/// Worked events are kept this long (Stripe redelivers for 3 days; the ids
/// guard against a second effect), then pruned by the reconcile job.
pub const EVENT_RETENTION_DAYS: i64 = 30;

/// Attempts before an event is given up (about two days with the backoff).
pub const MAX_ATTEMPTS: i32 = 50;

/// How long a worker holds an event before another may take it.
const LEASE: Duration = Duration::from_secs(120);

/// Why a delivery was refused (nothing was stored).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("billing is not configured")]
    NotConfigured,
    #[error("missing Stripe-Signature header")]
    MissingSignature,
    #[error("the signature does not match, or its timestamp is outside the tolerance")]
    BadSignature,
    #[error("the body is not a Stripe event")]
    BadPayload,
    #[error("the event could not be stored; deliver it again")]
    Unavailable,
}

/// What one delivery's event says, as far as we need it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed {
    id: String,
    event_type: String,
    created: i64,
    object_id: Option<String>,
    customer: Option<String>,
    subscription: Option<String>,
}

impl Parsed {
    /// Reads the few fields we use from the (verified) JSON; the typed parse
    /// is not required, so an object shape newer than our library still
    /// gets its event stored and worked (we re-read the object anyway).
    fn from_json(body: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        let s = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        // An expandable field is an id or an object with one.
        let id_of = |v: &serde_json::Value| s(v).or_else(|| s(&v["id"]));
        let object = &v["data"]["object"];
        let event_type = s(&v["type"])?;
        let object_id = s(&object["id"]);
        let subscription = if event_type.starts_with("customer.subscription.") {
            object_id.clone()
        } else {
            id_of(&object["subscription"])
                .or_else(|| id_of(&object["parent"]["subscription_details"]["subscription"]))
        };
        let customer = if event_type.starts_with("customer.")
            && !event_type.starts_with("customer.subscription.")
        {
            object_id.clone()
        } else {
            id_of(&object["customer"])
        };
        Some(Self {
            id: s(&v["id"])?,
            event_type,
            created: v["created"].as_i64()?,
            object_id,
            customer,
            subscription,
        })
    }
}

/// Counts of a reconcile pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub subscriptions: usize,
    pub invoices: usize,
    /// Objects of customers that are no tenant's.
    pub skipped: usize,
    /// Objects that could not be applied (logged; the next pass tries again).
    pub failed: usize,
}

impl std::fmt::Display for ReconcileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "reconciled {} subscription(s) and {} invoice(s); skipped {} of customers that are no tenant's; {} failed",
            self.subscriptions, self.invoices, self.skipped, self.failed
        )
    }
}

impl Billing {
    /// Verifies and stores one webhook delivery; `Ok(true)` when the event is
    /// new (its work is queued), `Ok(false)` for a redelivery.
    pub async fn receive_webhook(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<bool, WebhookError> {
        let inner = self.inner.as_deref().ok_or(WebhookError::NotConfigured)?;
        let signature = signature.ok_or(WebhookError::MissingSignature)?;
        // Stripe signs the exact bytes; they are UTF-8 JSON.
        let body = std::str::from_utf8(body).map_err(|_| WebhookError::BadSignature)?;
        let mut verified = false;
        for secret in &inner.webhook_secrets {
            match stripe_webhook::Webhook::construct_event(body, signature, secret) {
                Ok(_) | Err(stripe_webhook::WebhookError::BadParse(_)) => {
                    // A parse error comes only after the signature matched.
                    verified = true;
                    break;
                }
                Err(_) => {}
            }
        }
        if !verified {
            return Err(WebhookError::BadSignature);
        }
        let parsed = Parsed::from_json(body).ok_or(WebhookError::BadPayload)?;
        let tail = parsed.id.strip_prefix("evt_").unwrap_or_default();
        if tail.is_empty()
            || tail.len() > 128
            || !tail.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(WebhookError::BadPayload);
        }
        let stored = self
            .db
            .scoped(Scope::billing(None), |conn| {
                let parsed = parsed.clone();
                async move {
                    Ok(rows::insert_event(
                        conn,
                        &rows::NewEvent {
                            id: &parsed.id,
                            event_type: &parsed.event_type,
                            stripe_created: time(parsed.created).unwrap_or_else(Utc::now),
                            customer_id: parsed.customer.as_deref(),
                            subscription_id: parsed.subscription.as_deref(),
                            invoice_id: parsed
                                .event_type
                                .starts_with("invoice.")
                                .then_some(parsed.object_id.as_deref())
                                .flatten(),
                        },
                    )
                    .await?)
                }
                .scope_boxed()
            })
            .await;
        match stored {
            Ok(new) => {
                if new {
                    inner.wake.notify_one();
                }
                tracing::info!(stripe.event = %parsed.id, r#type = %parsed.event_type, new, "Stripe event received");
                Ok(new)
            }
            Err(err) => {
                // The database is down: Stripe retries the delivery.
                tracing::warn!(error = %err, "a Stripe event could not be stored");
                Err(WebhookError::Unavailable)
            }
        }
    }

    /// Works due events until none is left; returns how many were worked.
    pub async fn work_events(&self) -> AppResult<usize> {
        self.on()?;
        let mut done = 0;
        loop {
            let leased = self
                .db
                .scoped(Scope::billing(None), |conn| {
                    async move { Ok(rows::lease_event(conn, LEASE).await?) }.scope_boxed()
                })
                .await?;
            let Some(event) = leased else { return Ok(done) };
            let outcome = match self.work(&event).await {
                // Stripe no longer has the object (a deleted draft invoice):
                // there is nothing to converge to.
                Err(AppError::NotFound(why)) => {
                    tracing::info!(stripe.event = %event.id, %why, "the event's object is gone at Stripe; done");
                    Ok(())
                }
                other => other,
            };
            let id = event.id.clone();
            let failure = outcome.as_ref().err().map(|e| match e {
                AppError::Internal(cause) => format!("{cause:#}"),
                other => other.to_string(),
            });
            let next = Utc::now() + backoff(event.attempts);
            self.db
                .scoped(Scope::billing(None), |conn| {
                    async move {
                        match failure {
                            None => rows::event_done(conn, &id).await?,
                            Some(error) if event.attempts + 1 >= MAX_ATTEMPTS => {
                                tracing::error!(stripe.event = %id, %error, "a Stripe event failed {MAX_ATTEMPTS} times; given up (the reconcile pass still converges)");
                                rows::event_given_up(conn, &id, &error).await?
                            }
                            Some(error) => rows::event_failed(conn, &id, next, &error).await?,
                        }
                        Ok(())
                    }
                    .scope_boxed()
                })
                .await?;
            match outcome {
                Ok(()) => done += 1,
                Err(err) => {
                    tracing::warn!(stripe.event = %event.id, attempts = event.attempts, error = %err, "Stripe event not worked yet; will retry");
                    return Ok(done);
                }
            }
        }
    }

    /// One event's work: re-read what it concerns from Stripe and apply it.
    async fn work(&self, event: &rows::Event) -> AppResult<()> {
        let Some(customer) = event.customer_id.as_deref() else {
            return Ok(());
        };
        let Some(tenant) = self.tenant_of_customer(customer).await? else {
            tracing::info!(stripe.event = %event.id, stripe.customer = customer, "event of a customer that is no tenant's; ignored");
            return Ok(());
        };
        if self.tenant_deleting(tenant).await? {
            tracing::info!(stripe.event = %event.id, tenant.id = %tenant, "event of a tenant being deleted; ignored");
            return Ok(());
        }
        let actor = Actor::Stripe {
            event: Some(event.id.clone()),
        };
        let notice = match event.event_type.as_str() {
            "customer.subscription.trial_will_end" => Some(Notice {
                subject: "Your trial ends soon".into(),
                body: "Your trial ends in a few days. Add a payment method to keep your plan; \
                       without one the tenant returns to the free plan."
                    .into(),
                while_status: "trialing",
                payment_failed: None,
            }),
            "invoice.payment_failed" => Some(Notice {
                subject: "A payment failed".into(),
                body: "We could not charge your payment method. Your plan stays while Stripe \
                       retries; update your payment method to keep it."
                    .into(),
                while_status: "open",
                payment_failed: Some(event.id.clone()),
            }),
            _ => None,
        };
        let (sub_notice, invoice_notice) = if event.event_type.starts_with("invoice.") {
            (None, notice)
        } else {
            (notice, None)
        };
        match event.subscription_id.as_deref() {
            Some(sub) => {
                self.sync_subscription(tenant, customer, sub, actor, sub_notice)
                    .await?;
            }
            None if event.event_type.starts_with("checkout.session.")
                || event.event_type.starts_with("customer.") =>
            {
                self.sync_customer(tenant, customer, actor).await?;
            }
            None => {}
        }
        if let Some(invoice) = event.invoice_id.as_deref() {
            self.sync_invoice(tenant, customer, invoice, invoice_notice)
                .await?;
        }
        Ok(())
    }

    /// Re-reads every subscription, and the invoices of the last 35 days,
    /// from Stripe and applies them (the repair for missed webhooks).
    pub async fn reconcile(&self) -> AppResult<ReconcileReport> {
        let api = self.on()?.api.clone();
        let mut report = ReconcileReport::default();
        let actor = Actor::Stripe { event: None };
        let since = (Utc::now() - chrono::Duration::days(35)).timestamp();
        let mut after: Option<String> = None;
        loop {
            let mut request = ListSubscription::new()
                .status(ListSubscriptionStatus::All)
                .limit(100);
            if let Some(after) = &after {
                request = request.starting_after(after.as_str());
            }
            let page = api.call(&request, None).await?;
            for sub in &page.data {
                let customer = sub.customer.id().as_str().to_owned();
                let tenant = match self.tenant_of_customer(&customer).await? {
                    Some(t) => Some(t),
                    None => sub
                        .metadata
                        .get("tenant_id")
                        .and_then(|t| Uuid::parse_str(t).ok()),
                };
                let Some(tenant) = tenant else {
                    report.skipped += 1;
                    continue;
                };
                // Ended long ago: nothing left to converge.
                if sub.ended_at.is_some_and(|at| at < since) {
                    continue;
                }
                // One bad subscription never stops the pass for the others.
                match self
                    .sync_subscription(tenant, &customer, sub.id.as_str(), actor.clone(), None)
                    .await
                {
                    Ok(_) => report.subscriptions += 1,
                    Err(err) => {
                        tracing::warn!(stripe.subscription = %sub.id.as_str(), error = %err, "reconcile: subscription not applied");
                        report.failed += 1;
                    }
                }
            }
            after = page.data.last().map(|s| s.id.as_str().to_owned());
            if !page.has_more || after.is_none() {
                break;
            }
        }
        let mut after: Option<String> = None;
        loop {
            let mut request = ListInvoice::new()
                .created(stripe_types::RangeQueryTs::gte(since))
                .limit(100);
            if let Some(after) = &after {
                request = request.starting_after(after.as_str());
            }
            let page = api.call(&request, None).await?;
            for invoice in &page.data {
                let (Some(id), Some(customer)) = (&invoice.id, &invoice.customer) else {
                    continue;
                };
                let customer = customer.id().as_str().to_owned();
                let Some(tenant) = self.tenant_of_customer(&customer).await? else {
                    report.skipped += 1;
                    continue;
                };
                match self
                    .sync_invoice(tenant, &customer, id.as_str(), None)
                    .await
                {
                    Ok(()) => report.invoices += 1,
                    Err(err) => {
                        tracing::warn!(stripe.invoice = %id.as_str(), error = %err, "reconcile: invoice not stored");
                        report.failed += 1;
                    }
                }
            }
            after = page
                .data
                .last()
                .and_then(|i| i.id.as_ref())
                .map(|id| id.as_str().to_owned());
            if !page.has_more || after.is_none() {
                break;
            }
        }
        tracing::info!(?report, "billing reconciled with Stripe");
        Ok(report)
    }

    /// Runs the event worker and the periodic reconcile pass (one instance at
    /// a time, by lease) until `stop` fires.
    pub fn start_worker(&self, stop: crate::usage::Stop) -> Option<tokio::task::JoinHandle<()>> {
        let inner = self.inner.clone()?;
        let billing = self.clone();
        Some(tokio::spawn(async move {
            let mut next_reconcile = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                if let Err(err) = billing.work_events().await {
                    tracing::warn!(error = %err, "the Stripe event worker paused");
                }
                if tokio::time::Instant::now() >= next_reconcile {
                    next_reconcile = tokio::time::Instant::now() + inner.reconcile_every;
                    billing.reconcile_if_due(inner.reconcile_every).await;
                }
                tokio::select! {
                    _ = inner.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = stop.stopped() => return,
                }
            }
        }))
    }

    /// The reconcile pass (then the pruning of old events), when no other
    /// instance ran it within `every`.
    pub async fn reconcile_if_due(&self, every: Duration) {
        let leased = self
            .db
            .scoped(Scope::billing(None), |conn| {
                async move { Ok(rows::lease_job(conn, "reconcile", every).await?) }.scope_boxed()
            })
            .await;
        if !matches!(leased, Ok(true)) {
            return;
        }
        let ok = match self.reconcile().await {
            Ok(_) => true,
            Err(err) => {
                tracing::warn!(error = %err, "the billing reconcile pass failed; it runs again later");
                false
            }
        };
        if ok {
            let recorded = self
                .db
                .scoped(Scope::billing(None), |conn| {
                    async move { Ok(rows::release_job(conn, "reconcile", true).await?) }
                        .scope_boxed()
                })
                .await;
            if let Err(err) = recorded {
                tracing::warn!(error = %err, "the reconcile pass's success was not recorded");
            }
            let before = Utc::now() - chrono::Duration::days(EVENT_RETENTION_DAYS);
            let pruned = self
                .db
                .scoped(Scope::billing(None), |conn| {
                    async move { Ok(rows::prune_events(conn, before).await?) }.scope_boxed()
                })
                .await;
            if let Err(err) = pruned {
                tracing::warn!(error = %err, "old Stripe events were not pruned; next pass");
            }
        }
        // A failed pass frees the lease at once; a good one keeps it until due.
        if !ok {
            let _ = self
                .db
                .scoped(Scope::billing(None), |conn| {
                    async move { Ok(rows::release_job(conn, "reconcile", false).await?) }
                        .scope_boxed()
                })
                .await;
        }
    }
}

/// Waiting time before attempt `attempts + 1`: 5 s doubling, at most an hour.
fn backoff(attempts: i32) -> chrono::Duration {
    let secs = 5i64.saturating_mul(1 << attempts.clamp(0, 10)).min(3600);
    chrono::Duration::seconds(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_what_they_concern() {
        let sub = Parsed::from_json(
            r#"{"id":"evt_1","type":"customer.subscription.updated","created":5,
                "data":{"object":{"id":"sub_1","customer":"cus_1"}}}"#,
        )
        .unwrap();
        assert_eq!(sub.subscription.as_deref(), Some("sub_1"));
        assert_eq!(sub.customer.as_deref(), Some("cus_1"));
        let invoice = Parsed::from_json(
            r#"{"id":"evt_2","type":"invoice.paid","created":5,"data":{"object":{"id":"in_1",
                "customer":{"id":"cus_1"},"parent":{"subscription_details":{"subscription":"sub_9"}}}}}"#,
        )
        .unwrap();
        assert_eq!(invoice.subscription.as_deref(), Some("sub_9"));
        assert_eq!(invoice.customer.as_deref(), Some("cus_1"));
        assert_eq!(invoice.object_id.as_deref(), Some("in_1"));
        assert!(Parsed::from_json(r#"{"id":"evt_3"}"#).is_none());
        assert!(Parsed::from_json("not json").is_none());
    }

    #[test]
    fn backoff_grows_to_an_hour() {
        assert_eq!(backoff(0).num_seconds(), 5);
        assert_eq!(backoff(3).num_seconds(), 40);
        assert_eq!(backoff(30).num_seconds(), 3600);
    }
}
