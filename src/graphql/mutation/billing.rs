//! Billing: Stripe Checkout, the billing portal, plan changes, cancelling and
//! resuming (owners and billing members; see `billing::account`).

use async_graphql::{Context, Object, Result, SimpleObject};

use crate::auth::TenantAccess;
use crate::error::AppError;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::guards::TenantMember;
use crate::graphql::types::billing::{BillingInterval, Subscription};

/// Where to send the user to pay.
#[derive(SimpleObject)]
pub struct CheckoutSessionPayload {
    /// Stripe's Checkout session id.
    pub id: String,
    /// The Checkout page (send the browser there).
    pub url: String,
}

/// Where to send the user to manage billing.
#[derive(SimpleObject)]
pub struct PortalSessionPayload {
    /// Stripe's billing portal page (send the browser there).
    pub url: String,
}

/// A plan key as written: BAD_USER_INPUT for anything that cannot be one.
fn plan_key(key: &str) -> Result<&str, AppError> {
    let ok = (1..=32).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(key)
    } else {
        Err(AppError::bad_field("planKey", "not a plan key"))
    }
}

async fn access(ctx: &Context<'_>) -> Result<TenantAccess> {
    Ok(session(ctx).require_tenant(db(ctx)).await?)
}

/// Changes to the tenant's subscription.
#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Starts a subscription to a paid plan: returns the Stripe Checkout page
    /// to send the browser to. The plan's trial applies to a tenant's first
    /// subscription. CONFLICT when the tenant already has a subscription
    /// (change it with `changePlan` or the portal).
    #[graphql(guard = "TenantMember")]
    async fn create_checkout_session(
        &self,
        ctx: &Context<'_>,
        plan_key: String,
        interval: BillingInterval,
    ) -> Result<CheckoutSessionPayload> {
        let access = access(ctx).await?;
        let key = self::plan_key(&plan_key)?;
        let session = services(ctx)
            .billing
            .checkout(meta(ctx), &access, key, interval.into())
            .await?;
        Ok(CheckoutSessionPayload {
            id: session.id,
            url: session.url,
        })
    }

    /// Opens Stripe's billing portal (payment methods, invoices, plan
    /// changes, cancelling) for the tenant.
    #[graphql(guard = "TenantMember")]
    async fn create_billing_portal_session(
        &self,
        ctx: &Context<'_>,
    ) -> Result<PortalSessionPayload> {
        let access = access(ctx).await?;
        let url = services(ctx).billing.portal(meta(ctx), &access).await?;
        Ok(PortalSessionPayload { url })
    }

    /// Moves the subscription to another plan or interval. Prorated: the
    /// difference for the rest of the period is charged or credited on the
    /// next invoice; the new plan's limits apply at once.
    #[graphql(guard = "TenantMember")]
    async fn change_plan(
        &self,
        ctx: &Context<'_>,
        plan_key: String,
        interval: BillingInterval,
    ) -> Result<Subscription> {
        let access = access(ctx).await?;
        let key = self::plan_key(&plan_key)?;
        let sub = services(ctx)
            .billing
            .change_plan(meta(ctx), &access, key, interval.into())
            .await?;
        Ok(Subscription(sub))
    }

    /// Cancels the subscription: by default at the end of the paid period
    /// (the plan stays until then; `resumeSubscription` undoes it), or at
    /// once with `atPeriodEnd: false` (back to the free plan now).
    #[graphql(guard = "TenantMember")]
    async fn cancel_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = true)] at_period_end: bool,
    ) -> Result<Subscription> {
        let access = access(ctx).await?;
        let sub = services(ctx)
            .billing
            .cancel(meta(ctx), &access, at_period_end)
            .await?;
        Ok(Subscription(sub))
    }

    /// Keeps a subscription that was set to end at the period's end.
    #[graphql(guard = "TenantMember")]
    async fn resume_subscription(&self, ctx: &Context<'_>) -> Result<Subscription> {
        let access = access(ctx).await?;
        let sub = services(ctx).billing.resume(meta(ctx), &access).await?;
        Ok(Subscription(sub))
    }
}
