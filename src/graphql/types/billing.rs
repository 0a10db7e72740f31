//! `tenant { billing { … } }`: the subscription and invoices as last read
//! from Stripe, for owners, admins and billing members.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::billing::BillingOverview;
use crate::db::billing as rows;
use crate::graphql::context::{db, services};
use crate::graphql::cursor;

/// A subscription's state, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SubscriptionStatus {
    /// In a free trial: the plan applies.
    Trialing,
    /// Paid: the plan applies.
    Active,
    /// A payment failed and Stripe is retrying: the plan still applies, with
    /// a warning.
    PastDue,
    /// Retries ran out: back on the free plan until paid.
    Unpaid,
    /// Ended: the free plan.
    Canceled,
    /// The first payment has not succeeded yet.
    Incomplete,
    /// The first payment never succeeded.
    IncompleteExpired,
    /// Paused: the free plan.
    Paused,
}

impl SubscriptionStatus {
    fn from_db(s: &str) -> Self {
        match s {
            "trialing" => Self::Trialing,
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "unpaid" => Self::Unpaid,
            "canceled" => Self::Canceled,
            "incomplete_expired" => Self::IncompleteExpired,
            "paused" => Self::Paused,
            _ => Self::Incomplete,
        }
    }
}

/// How often a plan is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum BillingInterval {
    /// Every month.
    Month,
    /// Every year.
    Year,
}

impl From<BillingInterval> for crate::billing::Interval {
    fn from(value: BillingInterval) -> Self {
        match value {
            BillingInterval::Month => Self::Month,
            BillingInterval::Year => Self::Year,
        }
    }
}

/// The tenant's Stripe subscription.
pub struct Subscription(pub rows::Subscription);

#[Object(name = "BillingSubscription")]
impl Subscription {
    /// Its state; it decides the tenant's plan (see `Tenant.planKey`).
    async fn status(&self) -> SubscriptionStatus {
        SubscriptionStatus::from_db(&self.0.status)
    }

    /// The key of the plan its price belongs to (null: a price no plan lists).
    async fn plan_key(&self) -> Option<&str> {
        self.0.plan_key.as_deref()
    }

    /// The plan its price belongs to (null: a price no plan lists).
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<super::plan::Plan>> {
        let Some(key) = self.0.plan_key.as_deref() else {
            return Ok(None);
        };
        let plan = crate::graphql::context::services(ctx)
            .plans
            .plan(crate::graphql::context::db(ctx), key)
            .await?;
        Ok(plan.map(|p| super::plan::Plan::from(&*p)))
    }

    /// How often it is billed.
    async fn interval(&self) -> Option<BillingInterval> {
        match self.0.price_interval.as_deref() {
            Some("month") => Some(BillingInterval::Month),
            Some("year") => Some(BillingInterval::Year),
            _ => None,
        }
    }

    /// The start of the current paid period.
    async fn current_period_start(&self) -> Option<DateTime<Utc>> {
        self.0.current_period_start
    }

    /// The end of the current paid period (the next renewal, or the end when
    /// it is cancelled at the period's end).
    async fn current_period_end(&self) -> Option<DateTime<Utc>> {
        self.0.current_period_end
    }

    /// Whether it ends at the end of the current period.
    async fn cancel_at_period_end(&self) -> bool {
        self.0.cancel_at_period_end
    }

    /// When the trial ends (or ended).
    async fn trial_end(&self) -> Option<DateTime<Utc>> {
        self.0.trial_end
    }

    /// When it was cancelled.
    async fn canceled_at(&self) -> Option<DateTime<Utc>> {
        self.0.canceled_at
    }
}

/// One of the tenant's Stripe invoices.
#[derive(SimpleObject)]
pub struct Invoice {
    /// Stripe's invoice id.
    pub id: String,
    /// The invoice number (once finalised).
    pub number: Option<String>,
    /// `draft`, `open`, `paid`, `uncollectible` or `void`.
    pub status: String,
    /// The total in the currency's smallest unit (cents).
    pub total: i64,
    /// The ISO currency code (lower case, as Stripe writes it).
    pub currency: String,
    /// Stripe's page of the invoice (to pay or download it).
    pub hosted_invoice_url: Option<String>,
    /// The PDF.
    pub pdf_url: Option<String>,
    /// The start of the period billed.
    pub period_start: Option<DateTime<Utc>>,
    /// The end of the period billed.
    pub period_end: Option<DateTime<Utc>>,
    /// When Stripe made it.
    pub created_at: DateTime<Utc>,
}

/// A tenant's billing.
pub struct TenantBilling {
    /// The scope the reader reads in (member, key or platform admin).
    pub scope: crate::tenancy::Scope,
    pub tenant: uuid::Uuid,
    pub overview: BillingOverview,
}

#[Object]
impl TenantBilling {
    /// Whether this server sells plans through Stripe (otherwise platform
    /// admins assign plans).
    async fn configured(&self) -> bool {
        self.overview.configured
    }

    /// The subscription (null: none, so the free plan unless an admin set one).
    async fn subscription(&self) -> Option<Subscription> {
        self.overview.subscription.clone().map(Subscription)
    }

    /// Whether `createBillingPortalSession` can open Stripe's portal (the
    /// tenant has a Stripe customer).
    async fn customer_portal_available(&self) -> bool {
        self.overview.configured && self.overview.has_customer
    }

    /// What the tenant should know about its billing now (a failed payment,
    /// a trial or subscription about to end); null when all is well.
    async fn warning(&self) -> Option<String> {
        let sub = self.overview.subscription.as_ref()?;
        let plan = sub.plan_key.as_deref().unwrap_or("paid");
        let date = |d: Option<DateTime<Utc>>| {
            d.map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "soon".into())
        };
        match sub.status.as_str() {
            "past_due" => Some(format!(
                "A payment failed. Update your payment method to keep the {plan} plan; Stripe retries the charge."
            )),
            "unpaid" => Some(
                "Payments failed and the tenant is back on the free plan. Pay the open invoice to restore your plan."
                    .to_owned(),
            ),
            "trialing" if sub.cancel_at_period_end => Some(format!(
                "Your trial ends on {} and the subscription will not continue.",
                date(sub.trial_end)
            )),
            _ if sub.cancel_at_period_end => Some(format!(
                "The {plan} plan ends on {}; resume the subscription to keep it.",
                date(sub.current_period_end)
            )),
            _ => None,
        }
    }

    /// The invoices, newest first.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Invoice, EmptyFields, EmptyFields>> {
        let limit = cursor::page_size(first)?;
        let position = after.as_deref().map(cursor::decode_text).transpose()?;
        let rows = services(ctx)
            .billing
            .invoices(
                db(ctx),
                self.scope.clone(),
                self.tenant,
                position.clone(),
                limit,
            )
            .await?;
        let has_next = rows.len() as i64 > limit;
        let mut connection = Connection::new(position.is_some(), has_next);
        connection
            .edges
            .extend(rows.into_iter().take(limit as usize).map(|row| {
                Edge::new(
                    cursor::encode_text(row.stripe_created, &row.stripe_invoice_id),
                    Invoice {
                        id: row.stripe_invoice_id,
                        number: row.number,
                        status: row.status,
                        total: row.total,
                        currency: row.currency,
                        hosted_invoice_url: row.hosted_invoice_url,
                        pdf_url: row.pdf_url,
                        period_start: row.period_start,
                        period_end: row.period_end,
                        created_at: row.stripe_created,
                    },
                )
            }));
        Ok(connection)
    }
}
