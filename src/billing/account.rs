//! What a tenant's owners and billing members do with billing: start a
//! subscription through Stripe Checkout, manage it in Stripe's billing portal,
//! change plan, cancel and resume; and what they read of it. The role check is
//! the caller's (`TenantAccess`), made again here because every change runs
//! on billing's own path.
//!
//! Plan changes prorate (`create_prorations`): the difference for the rest
//! of the period, up or down, is added to (or credited on) the next invoice;
//! the new plan and its limits apply at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::{
    CancelSubscription, ListSubscription, ListSubscriptionStatus, RetrieveSubscription,
    UpdateSubscription, UpdateSubscriptionItems, UpdateSubscriptionProrationBehavior,
    UpdateSubscriptionTrialEnd,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_core::customer::CreateCustomer;

use super::Billing;
use super::sync::{live, pays};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::auth::{Role, TenantAccess};
use crate::db::billing as rows;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;
use uuid::Uuid;

/// A billing interval of a plan's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }
}

/// A Checkout session to send the user to.
#[derive(Debug, Clone)]
pub struct CheckoutSession {
    pub id: String,
    pub url: String,
}

/// What a tenant's members read of its billing.
#[derive(Debug, Clone)]
pub struct BillingOverview {
    pub configured: bool,
    pub subscription: Option<rows::Subscription>,
    pub has_customer: bool,
}

/// Owners and billing members manage billing.
fn require_manager(access: &TenantAccess) -> AppResult<()> {
    if matches!(access.role, Role::Owner | Role::Billing) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "billing is managed by owners and billing members; you are {}",
            access.role
        )))
    }
}

/// Owners, admins and billing members read billing.
pub fn require_reader(access: &TenantAccess) -> AppResult<()> {
    if matches!(access.role, Role::Owner | Role::Admin | Role::Billing) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "billing is shown to owners, admins and billing members; you are {}",
            access.role
        )))
    }
}

impl Billing {
    /// The tenant's billing as last read from Stripe, read in `scope` (the
    /// caller decided who may: see `require_reader`).
    pub async fn overview(
        &self,
        db: &crate::db::Db,
        scope: Scope,
        tenant: Uuid,
    ) -> AppResult<BillingOverview> {
        let (subscription, customer) = db
            .scoped(scope, |conn| {
                async move {
                    Ok((
                        rows::subscription(conn, tenant).await?,
                        rows::customer(conn, tenant).await?,
                    ))
                }
                .scope_boxed()
            })
            .await?;
        Ok(BillingOverview {
            configured: self.configured(),
            subscription,
            has_customer: customer.is_some(),
        })
    }

    /// A page of the tenant's invoices (newest first), read in `scope`.
    pub async fn invoices(
        &self,
        db: &crate::db::Db,
        scope: Scope,
        tenant: Uuid,
        after: Option<(DateTime<Utc>, String)>,
        limit: i64,
    ) -> AppResult<Vec<rows::Invoice>> {
        db.scoped(scope, |conn| {
            async move { Ok(rows::invoices_page(conn, tenant, after, limit).await?) }.scope_boxed()
        })
        .await
    }

    /// Starts a subscription: the Checkout URL for `plan` billed every
    /// `interval`. Makes the tenant's Stripe customer on first use.
    pub async fn checkout(
        &self,
        meta: &RequestMeta,
        access: &TenantAccess,
        plan: &str,
        interval: Interval,
    ) -> AppResult<CheckoutSession> {
        require_manager(access)?;
        let inner = self.on()?;
        let tenant = access.tenant_id;
        let (prices, subscription, customer) = self.read(tenant, plan).await?;
        if let Some(sub) = subscription.filter(|s| live(&s.status)) {
            return Err(AppError::conflict(format!(
                "this tenant already has a subscription ({}); change it with changePlan or the billing portal",
                sub.status
            )));
        }
        let price = price_for(&prices, interval)?;
        let _busy = self.busy(tenant)?;
        let customer = match customer {
            Some(c) => c,
            None => self.create_customer(access).await?,
        };
        // Our row lags Stripe until the webhook is worked: ask Stripe whether
        // the customer already has a subscription (paid a minute ago, or its
        // first payment still pending), so a tenant never pays twice.
        let existing = inner
            .api
            .call(
                &ListSubscription::new()
                    .customer(customer.stripe_customer_id.as_str())
                    .status(ListSubscriptionStatus::All)
                    .limit(20),
                None,
            )
            .await?;
        if let Some(running) = existing
            .data
            .iter()
            .find(|s| live(s.status.as_str()) || s.status.as_str() == "incomplete")
        {
            let status = running.status.as_str().to_owned();
            if let Err(err) = self
                .sync_customer(
                    tenant,
                    &customer.stripe_customer_id,
                    Actor::Stripe { event: None },
                )
                .await
            {
                tracing::warn!(error = %err, "catching up with Stripe's subscription failed");
            }
            return Err(AppError::conflict(format!(
                "this tenant already has a subscription ({status}); change it with changePlan or the billing portal"
            )));
        }
        let base = self.mailer.public_url.trim_end_matches('/').to_owned();
        let mut metadata = HashMap::new();
        metadata.insert("tenant_id".to_owned(), tenant.to_string());
        metadata.insert("plan".to_owned(), prices.key.clone());
        let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
        subscription_data.metadata = Some(metadata.clone());
        if prices.trial_days > 0 && !customer.trial_used {
            subscription_data.trial_period_days = Some(prices.trial_days as u32);
        }
        let trial = subscription_data.trial_period_days.unwrap_or(0);
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price = Some(price.clone());
        item.quantity = Some(1);
        let request = CreateCheckoutSession::new()
            .mode(stripe_shared::CheckoutSessionMode::Subscription)
            .customer(customer.stripe_customer_id.as_str())
            .client_reference_id(tenant.to_string())
            .line_items(vec![item])
            .subscription_data(subscription_data)
            .metadata(metadata)
            .success_url(format!(
                "{base}/billing?checkout=success&session_id={{CHECKOUT_SESSION_ID}}"
            ))
            .cancel_url(format!("{base}/billing?checkout=canceled"));
        // A double click (or a retry) within ten minutes gets the same session.
        let bucket = Utc::now().timestamp() / 600;
        let key = format!(
            "tg-checkout-{tenant}-{}-{}-{trial}-{bucket}",
            prices.key,
            interval.as_str()
        );
        let session = inner.api.call(&request, Some(key)).await?;
        let url = session
            .url
            .clone()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("Checkout session without a URL")))?;
        self.audit(
            meta,
            access,
            "billing.checkout.create",
            json!({ "plan": prices.key, "interval": interval.as_str(), "session": session.id.as_str() }),
        )
        .await?;
        Ok(CheckoutSession {
            id: session.id.as_str().to_owned(),
            url,
        })
    }

    /// The tenant's Stripe customer, made now under an idempotency key of the
    /// tenant's own: a retry after a failure (Stripe or our database down
    /// after Stripe made it) gets the same customer, never a second one.
    async fn create_customer(&self, access: &TenantAccess) -> AppResult<rows::Customer> {
        let inner = self.on()?;
        let tenant = access.tenant_id;
        let mut metadata = HashMap::new();
        metadata.insert("tenant_id".to_owned(), tenant.to_string());
        let request = CreateCustomer::new()
            .description(format!("tenantgate tenant {tenant}"))
            .metadata(metadata);
        let created = inner
            .api
            .call(&request, Some(format!("tg-customer-{tenant}")))
            .await?;
        let id = created.id.as_str().to_owned();
        self.db
            .scoped(Scope::billing(Some(tenant)), |conn| {
                async move { Ok(rows::insert_customer(conn, tenant, &id).await?) }.scope_boxed()
            })
            .await
    }

    /// A Stripe billing portal session's URL (payment methods, invoices,
    /// plan changes, cancelling).
    pub async fn portal(&self, meta: &RequestMeta, access: &TenantAccess) -> AppResult<String> {
        require_manager(access)?;
        let inner = self.on()?;
        let tenant = access.tenant_id;
        let customer = self
            .db
            .scoped(access.scope(), |conn| {
                async move { Ok(rows::customer(conn, tenant).await?) }.scope_boxed()
            })
            .await?
            .ok_or_else(|| {
                AppError::conflict("this tenant has no billing account yet: subscribe first")
            })?;
        let return_url = format!("{}/billing", self.mailer.public_url.trim_end_matches('/'));
        let request = CreateBillingPortalSession::new()
            .customer(customer.stripe_customer_id.as_str())
            .return_url(return_url);
        let session = inner.api.call(&request, None).await?;
        self.audit(meta, access, "billing.portal.open", json!({}))
            .await?;
        Ok(session.url)
    }

    /// Moves the subscription to `plan` billed every `interval`, prorated.
    pub async fn change_plan(
        &self,
        meta: &RequestMeta,
        access: &TenantAccess,
        plan: &str,
        interval: Interval,
    ) -> AppResult<rows::Subscription> {
        require_manager(access)?;
        let inner = self.on()?;
        let tenant = access.tenant_id;
        let (prices, subscription, customer) = self.read(tenant, plan).await?;
        let (Some(sub), Some(customer)) = (subscription.filter(|s| pays(&s.status)), customer)
        else {
            return Err(AppError::conflict(
                "this tenant has no paying subscription: start one with createCheckoutSession",
            ));
        };
        let price = price_for(&prices, interval)?;
        if sub.status == "past_due" {
            return Err(AppError::conflict(
                "a payment is overdue: pay the open invoice (billing portal) before changing the plan",
            ));
        }
        let _busy = self.busy(tenant)?;
        if sub.price_id == price {
            return Err(AppError::conflict(format!(
                "the subscription is already on {} billed every {}",
                prices.key,
                interval.as_str()
            )));
        }
        let current = inner
            .api
            .call(
                &RetrieveSubscription::new(sub.stripe_subscription_id.as_str()),
                None,
            )
            .await?;
        let item = current
            .items
            .data
            .first()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("subscription without items")))?;
        let mut change = UpdateSubscriptionItems::new();
        change.id = Some(item.id.as_str().to_owned());
        change.price = Some(price.clone());
        let request = UpdateSubscription::new(sub.stripe_subscription_id.as_str())
            .items(vec![change])
            .proration_behavior(UpdateSubscriptionProrationBehavior::AlwaysInvoice);
        // A trial belongs to the plan it was given for: moving to a plan
        // without one ends it (the new price is charged now).
        let request = if sub.status == "trialing" && prices.trial_days == 0 {
            request.trial_end(UpdateSubscriptionTrialEnd::Now)
        } else {
            request
        };
        inner.api.call(&request, None).await?;
        self.audit(
            meta,
            access,
            "billing.plan.change",
            json!({ "from": sub.plan_key, "to": prices.key, "interval": interval.as_str() }),
        )
        .await?;
        self.synced(
            access,
            &customer.stripe_customer_id,
            &sub.stripe_subscription_id,
        )
        .await
    }

    /// Cancels the subscription: at the end of the paid period (the plan
    /// stays until then, and `resumeSubscription` undoes it), or now.
    pub async fn cancel(
        &self,
        meta: &RequestMeta,
        access: &TenantAccess,
        at_period_end: bool,
    ) -> AppResult<rows::Subscription> {
        require_manager(access)?;
        let inner = self.on()?;
        let _busy = self.busy(access.tenant_id)?;
        let (sub, customer) = self.live_subscription(access).await?;
        if at_period_end {
            if sub.cancel_at_period_end {
                return Err(AppError::conflict(
                    "the subscription already ends at the end of the period",
                ));
            }
            let request = UpdateSubscription::new(sub.stripe_subscription_id.as_str())
                .cancel_at_period_end(true);
            inner.api.call(&request, None).await?;
        } else {
            // What is owed for the time used (prorations of a change in this
            // period included) is invoiced now, not dropped.
            let request = CancelSubscription::new(sub.stripe_subscription_id.as_str())
                .invoice_now(true)
                .prorate(true);
            inner.api.call(&request, None).await?;
        }
        self.audit(
            meta,
            access,
            "billing.subscription.cancel",
            json!({ "atPeriodEnd": at_period_end }),
        )
        .await?;
        self.synced(access, &customer, &sub.stripe_subscription_id)
            .await
    }

    /// Undoes a cancellation at the period's end.
    pub async fn resume(
        &self,
        meta: &RequestMeta,
        access: &TenantAccess,
    ) -> AppResult<rows::Subscription> {
        require_manager(access)?;
        let inner = self.on()?;
        let _busy = self.busy(access.tenant_id)?;
        let (sub, customer) = self.live_subscription(access).await?;
        if !sub.cancel_at_period_end {
            return Err(AppError::conflict("the subscription is not set to end"));
        }
        let request = UpdateSubscription::new(sub.stripe_subscription_id.as_str())
            .cancel_at_period_end(false);
        inner.api.call(&request, None).await?;
        self.audit(meta, access, "billing.subscription.resume", json!({}))
            .await?;
        self.synced(access, &customer, &sub.stripe_subscription_id)
            .await
    }

    /// The plan's prices, the tenant's subscription and customer.
    async fn read(
        &self,
        tenant: uuid::Uuid,
        plan: &str,
    ) -> AppResult<(
        rows::PlanPrices,
        Option<rows::Subscription>,
        Option<rows::Customer>,
    )> {
        let plan = plan.to_owned();
        let (prices, sub, customer) = self
            .db
            .scoped(Scope::billing(Some(tenant)), |conn| {
                async move {
                    Ok((
                        rows::plan_prices(conn, &plan).await?,
                        rows::subscription(conn, tenant).await?,
                        rows::customer(conn, tenant).await?,
                    ))
                }
                .scope_boxed()
            })
            .await?;
        let prices = prices
            .filter(|p| p.public)
            .ok_or_else(|| AppError::bad_field("planKey", "no such plan is offered"))?;
        Ok((prices, sub, customer))
    }

    /// The tenant's subscription that still runs, and its customer.
    async fn live_subscription(
        &self,
        access: &TenantAccess,
    ) -> AppResult<(rows::Subscription, String)> {
        let tenant = access.tenant_id;
        let (sub, customer) = self
            .db
            .scoped(access.scope(), |conn| {
                async move {
                    Ok((
                        rows::subscription(conn, tenant).await?,
                        rows::customer(conn, tenant).await?,
                    ))
                }
                .scope_boxed()
            })
            .await?;
        match (sub.filter(|s| live(&s.status)), customer) {
            (Some(sub), Some(customer)) => Ok((sub, customer.stripe_customer_id)),
            _ => Err(AppError::conflict(
                "this tenant has no running subscription",
            )),
        }
    }

    /// Applies Stripe's state after our change (at once, not waiting for the
    /// webhook, which then finds nothing to change).
    async fn synced(
        &self,
        access: &TenantAccess,
        customer: &str,
        sub: &str,
    ) -> AppResult<rows::Subscription> {
        let actor = Actor::Stripe { event: None };
        self.sync_subscription(access.tenant_id, customer, sub, actor, None)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("subscription not applied")))
    }

    /// Records a member's billing action in the tenant's trail.
    async fn audit(
        &self,
        meta: &RequestMeta,
        access: &TenantAccess,
        action: &'static str,
        detail: serde_json::Value,
    ) -> AppResult<()> {
        let (meta, tenant, user) = (meta.clone(), access.tenant_id, access.user_id);
        self.db
            .scoped(access.scope(), |conn| {
                async move {
                    audit::record(
                        conn,
                        &meta,
                        Entry::new(Some(tenant), Actor::user(user), action)
                            .target("tenant", tenant)
                            .change(None, Some(detail)),
                    )
                    .await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }
}

/// The plan's Stripe price for `interval`, or why there is none.
fn price_for(prices: &rows::PlanPrices, interval: Interval) -> AppResult<String> {
    let price = match interval {
        Interval::Month => &prices.monthly_price_id,
        Interval::Year => &prices.yearly_price_id,
    };
    price.clone().ok_or_else(|| {
        AppError::bad_field(
            "planKey",
            format!(
                "the {} plan has no Stripe price billed every {}",
                prices.key,
                interval.as_str()
            ),
        )
    })
}
