//! Stripe's word applied to our rows. Every change starts from a fresh read of
//! Stripe taken while the tenant's billing row is locked, so whatever order
//! events arrive in (late, twice, `updated` before `created`), the last writer
//! applies Stripe's current state and a stale event can never move a tenant
//! back. The tenant's plan follows its subscription:
//!
//! | subscription status | plan |
//! |---|---|
//! | `active`, `trialing`, `past_due` (a warning is shown) | the price's plan |
//! | `unpaid`, `canceled`, `incomplete_expired`, `incomplete`, `paused`, none | free |

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use stripe_billing::invoice::RetrieveInvoice;
use stripe_billing::subscription::{
    ListSubscription, ListSubscriptionStatus, RetrieveSubscription,
};
use stripe_shared::{Invoice, Subscription};
use uuid::Uuid;

use super::Billing;
use super::webhook_events;
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::billing as rows;
use crate::error::{AppError, AppResult};
use crate::mail::Mail;
use crate::tenancy::Scope;

/// The price metadata naming the plan a Stripe price belongs to.
pub const PRICE_PLAN_METADATA: &str = "tenantgate_plan";

/// The plan of a tenant without a paying subscription.
pub const FREE_PLAN: &str = "free";

/// Statuses that keep the subscription's plan.
pub fn pays(status: &str) -> bool {
    matches!(status, "active" | "trialing" | "past_due")
}

/// Statuses of a subscription that still exists for the customer to fix or
/// keep: a second checkout is refused while the tenant has one.
pub fn live(status: &str) -> bool {
    matches!(
        status,
        "active" | "trialing" | "past_due" | "unpaid" | "paused"
    )
}

pub(crate) fn time(ts: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts, 0)
}

/// What an email to the tenant's billing contacts says.
pub(crate) struct Notice {
    pub subject: String,
    pub body: String,
    /// Sent only while Stripe still says this (the subscription's status,
    /// or the invoice's): an event worked late tells nothing stale.
    pub while_status: &'static str,
    /// For a failed payment, the Stripe event's id: a
    /// `subscription.payment_failed` webhook event goes with the email, its
    /// id derived from this one (the Stripe event worked twice writes it once).
    pub payment_failed: Option<String>,
}

impl Billing {
    /// The tenant whose Stripe customer is `customer` (billing's lookup outside
    /// any tenant).
    pub(crate) async fn tenant_of_customer(&self, customer: &str) -> AppResult<Option<Uuid>> {
        let customer = customer.to_owned();
        self.db
            .scoped(Scope::billing(None), |conn| {
                async move { Ok(rows::tenant_of_customer(conn, &customer).await?) }.scope_boxed()
            })
            .await
    }

    /// Reads subscription `id` from Stripe under the tenant's billing lock and
    /// applies it; `notice` is emailed to the billing contacts in the same
    /// transaction.
    pub(crate) async fn sync_subscription(
        &self,
        tenant: Uuid,
        customer: &str,
        id: &str,
        actor: Actor,
        notice: Option<Notice>,
    ) -> AppResult<Option<rows::Subscription>> {
        let api = self.on()?.api.clone();
        let (customer, id) = (customer.to_owned(), id.to_owned());
        let mailer = self.mailer.clone();
        let meta = stripe_meta();
        self.db
            .scoped(Scope::billing(Some(tenant)), |conn| {
                async move {
                    let Some(trial_used) = lock_customer(conn, tenant, &customer).await? else {
                        return Ok(None);
                    };
                    let request = RetrieveSubscription::new(id.as_str());
                    let sub = api.call(&request, None).await?;
                    let applied =
                        apply(conn, &meta, tenant, &sub, &customer, trial_used, &actor).await?;
                    if let Some(notice) = notice
                        && sub.status.as_str() == notice.while_status
                    {
                        send_notice(conn, &mailer, tenant, notice).await?;
                    }
                    Ok(applied)
                }
                .scope_boxed()
            })
            .await
    }

    /// Reads the customer's subscriptions from Stripe and applies the one that
    /// matters (a live one before ended ones, then the newest).
    pub(crate) async fn sync_customer(
        &self,
        tenant: Uuid,
        customer: &str,
        actor: Actor,
    ) -> AppResult<()> {
        let api = self.on()?.api.clone();
        let customer = customer.to_owned();
        let meta = stripe_meta();
        self.db
            .scoped(Scope::billing(Some(tenant)), |conn| {
                async move {
                    let Some(trial_used) = lock_customer(conn, tenant, &customer).await? else {
                        return Ok(());
                    };
                    let request = ListSubscription::new()
                        .customer(customer.as_str())
                        .status(ListSubscriptionStatus::All)
                        .limit(20);
                    let list = api.call(&request, None).await?;
                    let best = list
                        .data
                        .iter()
                        .max_by_key(|s| (live(s.status.as_str()), s.created));
                    if let Some(sub) = best {
                        apply(conn, &meta, tenant, sub, &customer, trial_used, &actor).await?;
                    }
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }

    /// Reads invoice `id` from Stripe and stores it; `notice` as above.
    pub(crate) async fn sync_invoice(
        &self,
        tenant: Uuid,
        customer: &str,
        id: &str,
        notice: Option<Notice>,
    ) -> AppResult<()> {
        let api = self.on()?.api.clone();
        let (customer, id) = (customer.to_owned(), id.to_owned());
        let mailer = self.mailer.clone();
        self.db
            .scoped(Scope::billing(Some(tenant)), |conn| {
                async move {
                    if lock_customer(conn, tenant, &customer).await?.is_none() {
                        return Ok(());
                    }
                    let invoice = api.call(&RetrieveInvoice::new(id.as_str()), None).await?;
                    let stored = store_invoice(conn, tenant, &invoice).await?;
                    if let Some(notice) = notice
                        && invoice.status.as_ref().map(|s| s.as_str()) == Some(notice.while_status)
                    {
                        if let Some(stripe_event) = &notice.payment_failed
                            && let Some(stored) = &stored
                        {
                            webhook_events::payment_failed(conn, tenant, stored, stripe_event)
                                .await?;
                        }
                        send_notice(conn, &mailer, tenant, notice).await?;
                    }
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }
}

/// The request metadata of Stripe's changes in the audit trail.
pub(crate) fn stripe_meta() -> RequestMeta {
    RequestMeta {
        request_id: format!("stripe-{}", Uuid::now_v7()),
        ip: None,
        user_agent: Some("Stripe".into()),
        bound_tenant: None,
    }
}

/// Locks the tenant's billing row (made when missing: a customer Stripe says
/// is the tenant's, e.g. made before a crash). `None` when the tenant already
/// has another customer: this one is not applied (logged). Returns whether
/// the tenant has had its trial.
async fn lock_customer(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    customer: &str,
) -> AppResult<Option<bool>> {
    let row = rows::lock_customer(conn, tenant, customer).await?;
    if row.stripe_customer_id != customer {
        tracing::warn!(tenant.id = %tenant, stripe.customer = customer, known = %row.stripe_customer_id,
            "Stripe names a customer for a tenant that has another; ignored");
        return Ok(None);
    }
    Ok(Some(row.trial_used))
}

/// Our row for a Stripe subscription.
async fn row_of(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    sub: &Subscription,
) -> AppResult<rows::Subscription> {
    let item = sub.items.data.first();
    let price_id = item
        .map(|i| i.price.id.as_str().to_owned())
        .unwrap_or_default();
    let mut plan = rows::plan_for_price(conn, &price_id).await?;
    if plan.is_none() {
        // A price no plan lists (an old price after a plan's prices changed,
        // one made in Stripe's dashboard): the plan `billing sync-prices`
        // wrote into its metadata, if that plan exists.
        let named = item.and_then(|i| i.price.metadata.get(PRICE_PLAN_METADATA).cloned());
        if let Some(key) = named
            && rows::plan_exists(conn, &key).await?
        {
            let interval = item
                .and_then(|i| i.price.recurring.as_ref())
                .map(|r| r.interval.as_str())
                .unwrap_or("month");
            plan = Some((key, if interval == "year" { "year" } else { "month" }));
        }
    }
    let interval = match &plan {
        Some((_, interval)) => Some((*interval).to_owned()),
        None => item
            .and_then(|i| i.price.recurring.as_ref())
            .map(|r| r.interval.as_str().to_owned())
            .filter(|i| i == "month" || i == "year"),
    };
    Ok(rows::Subscription {
        tenant_id: tenant,
        stripe_subscription_id: sub.id.as_str().to_owned(),
        stripe_customer_id: sub.customer.id().as_str().to_owned(),
        status: sub.status.as_str().to_owned(),
        plan_key: plan.map(|(key, _)| key),
        price_id,
        price_interval: interval,
        current_period_start: item.and_then(|i| time(i.current_period_start)),
        current_period_end: item.and_then(|i| time(i.current_period_end)),
        cancel_at_period_end: sub.cancel_at_period_end || sub.cancel_at.is_some(),
        trial_end: sub.trial_end.and_then(time),
        canceled_at: sub.canceled_at.and_then(time),
        ended_at: sub.ended_at.and_then(time),
        stripe_created: time(sub.created).unwrap_or_else(Utc::now),
        amount: item.and_then(|i| {
            let unit = i.price.unit_amount?;
            unit.checked_mul(i64::try_from(i.quantity.unwrap_or(1)).ok()?)
        }),
        currency: item.map(|i| i.price.currency.to_string()),
    })
}

fn summary(sub: &rows::Subscription) -> serde_json::Value {
    json!({
        "subscription": sub.stripe_subscription_id,
        "status": sub.status,
        "plan": sub.plan_key,
        "interval": sub.price_interval,
        "cancelAtPeriodEnd": sub.cancel_at_period_end,
        "currentPeriodEnd": sub.current_period_end,
    })
}

/// Applies a subscription read from Stripe: the row (when it is the one the
/// tenant's billing follows) and the tenant's plan, each change audited.
async fn apply(
    conn: &mut AsyncPgConnection,
    meta: &RequestMeta,
    tenant: Uuid,
    sub: &Subscription,
    customer: &str,
    trial_used: bool,
    actor: &Actor,
) -> AppResult<Option<rows::Subscription>> {
    let incoming = row_of(conn, tenant, sub).await?;
    if incoming.stripe_customer_id != customer {
        tracing::warn!(tenant.id = %tenant, stripe.subscription = %incoming.stripe_subscription_id,
            "a subscription of another customer; not applied");
        return Ok(None);
    }
    let existing = rows::subscription(conn, tenant).await?;
    let follows = match &existing {
        None => true,
        Some(e) if e.stripe_subscription_id == incoming.stripe_subscription_id => true,
        // Another subscription of the same customer: a live one wins over an
        // ended one; between two of a kind, the newer (so two live ones never
        // take turns).
        Some(e) => match (live(&incoming.status), live(&e.status)) {
            (true, false) => true,
            (false, true) => false,
            _ => incoming.stripe_created >= e.stripe_created,
        },
    };
    if let Some(e) = &existing
        && e.stripe_subscription_id != incoming.stripe_subscription_id
        && live(&e.status)
        && live(&incoming.status)
    {
        tracing::error!(tenant.id = %tenant, kept = %if follows { &incoming.stripe_subscription_id } else { &e.stripe_subscription_id },
            other = %if follows { &e.stripe_subscription_id } else { &incoming.stripe_subscription_id },
            "the tenant's customer has two running subscriptions; the newer is followed, cancel the other in Stripe");
    }
    if !follows {
        return Ok(existing);
    }
    if existing.as_ref() != Some(&incoming) {
        rows::upsert_subscription(conn, &incoming).await?;
        audit::record(
            conn,
            meta,
            Entry::new(Some(tenant), actor.clone(), "billing.subscription.sync")
                .target("subscription", &incoming.stripe_subscription_id)
                .change(existing.as_ref().map(summary), Some(summary(&incoming))),
        )
        .await?;
        webhook_events::subscription_changed(conn, tenant, existing.as_ref(), &incoming).await?;
    }
    if (incoming.status == "trialing" || incoming.trial_end.is_some()) && !trial_used {
        rows::mark_trial_used(conn, tenant).await?;
    }
    let current = rows::tenant_plan(conn, tenant)
        .await?
        .ok_or_else(|| AppError::not_found("tenant not found"))?;
    // The plan follows the subscription's changes: a paying one gives its
    // plan; one that stops paying (or replaces the one we followed) takes
    // the tenant to free. A subscription that ended long ago does not undo
    // a plan a platform admin assigned since.
    let was_paying = existing.as_ref().is_some_and(|e| {
        pays(&e.status) || e.stripe_subscription_id != incoming.stripe_subscription_id
    });
    let target = if pays(&incoming.status) {
        match &incoming.plan_key {
            Some(plan) => plan.clone(),
            None => {
                // Fail closed: a price we cannot place gives no paid plan.
                tracing::error!(tenant.id = %tenant, stripe.price = %incoming.price_id,
                    "a paying subscription's price belongs to no plan; the tenant is on the free plan");
                FREE_PLAN.to_owned()
            }
        }
    } else if was_paying || existing.is_none() && live(&incoming.status) {
        FREE_PLAN.to_owned()
    } else {
        current.clone()
    };
    if target != current {
        rows::set_tenant_plan(conn, tenant, &target).await?;
        tracing::info!(tenant.id = %tenant, from = %current, to = %target, status = %incoming.status, "plan follows subscription");
        audit::record(
            conn,
            meta,
            Entry::new(Some(tenant), actor.clone(), "tenant.plan_change")
                .target("tenant", tenant)
                .change(
                    Some(json!({ "plan": current })),
                    Some(json!({ "plan": target, "subscriptionStatus": incoming.status })),
                ),
        )
        .await?;
    }
    Ok(Some(incoming))
}

/// Stores an invoice read from Stripe; returns the row stored.
async fn store_invoice(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    invoice: &Invoice,
) -> AppResult<Option<rows::Invoice>> {
    let Some(id) = &invoice.id else {
        return Ok(None);
    };
    let subscription = invoice
        .parent
        .as_ref()
        .and_then(|p| p.subscription_details.as_ref())
        .map(|d| d.subscription.id().as_str().to_owned())
        .or_else(|| {
            invoice
                .subscription
                .as_ref()
                .map(|s| s.id().as_str().to_owned())
        });
    let row = rows::Invoice {
        stripe_invoice_id: id.as_str().to_owned(),
        tenant_id: tenant,
        stripe_subscription_id: subscription,
        number: invoice.number.clone(),
        status: invoice
            .status
            .as_ref()
            .map_or("draft", |s| s.as_str())
            .to_owned(),
        total: invoice.total,
        currency: invoice.currency.to_string(),
        hosted_invoice_url: invoice.hosted_invoice_url.clone(),
        pdf_url: invoice.invoice_pdf.clone(),
        period_start: time(invoice.period_start),
        period_end: time(invoice.period_end),
        stripe_created: time(invoice.created).unwrap_or_else(Utc::now),
    };
    rows::upsert_invoice(conn, &row).await?;
    Ok(Some(row))
}

/// Emails `notice` to the tenant's owners and billing members (in the
/// caller's transaction: a rolled-back sync sends nothing).
async fn send_notice(
    conn: &mut AsyncPgConnection,
    mailer: &crate::mail::Mailer,
    tenant: Uuid,
    notice: Notice,
) -> AppResult<()> {
    for to in rows::billing_contacts(conn, tenant).await? {
        mailer
            .queue(
                conn,
                Mail {
                    to,
                    subject: notice.subject.clone(),
                    body: format!(
                        "{}\n\nManage billing: {}\n",
                        notice.body,
                        super::billing_url(mailer)
                    ),
                },
            )
            .await?;
    }
    Ok(())
}
