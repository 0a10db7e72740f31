//! `Plan` (what `plans` and `Tenant.plan` show: prices, limits, features),
//! `AdminPlan` (that and what only platform admins see: Stripe price ids,
//! whether it is offered, its order), and the inputs of `createPlan` and
//! `updatePlan`.

use async_graphql::{InputObject, MaybeUndefined, SimpleObject};
use chrono::{DateTime, Utc};

use crate::admin::PlanDraft;
use crate::plans::{Plan as PlanRow, monthly_quotas};

/// An amount of money.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// The amount in the currency's smallest unit (cents for usd).
    pub amount: i32,
    /// The ISO 4217 currency code, lower-case (`usd`).
    pub currency: String,
    /// The amount for people: `$29.00`, `€290.00`, `¥500`, `29.00 CHF`.
    pub formatted: String,
}

/// Currencies without a minor unit (Stripe's zero-decimal currencies).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

impl Money {
    pub fn new(amount: i32, currency: &str) -> Self {
        let zero_decimal = ZERO_DECIMAL.contains(&currency);
        let number = if zero_decimal {
            amount.to_string()
        } else {
            format!("{}.{:02}", amount / 100, amount % 100)
        };
        let formatted = match currency {
            "usd" => format!("${number}"),
            "eur" => format!("€{number}"),
            "gbp" => format!("£{number}"),
            "jpy" => format!("¥{number}"),
            other => format!("{number} {}", other.to_ascii_uppercase()),
        };
        Self {
            amount,
            currency: currency.to_owned(),
            formatted,
        }
    }
}

/// A monthly quota of one usage metric.
#[derive(SimpleObject, Debug, Clone)]
pub struct PlanQuota {
    /// The usage metric (`api_calls`, …).
    pub metric: String,
    /// How much of it a month allows.
    pub limit: i64,
}

/// What a plan allows.
#[derive(SimpleObject, Debug, Clone)]
pub struct PlanLimits {
    /// Most members (pending invitations count toward it).
    pub members: i32,
    /// API calls an hour (per tenant; each key's own limit may be lower).
    pub api_calls_per_hour: i32,
    /// Monthly quotas per usage metric, by metric.
    pub monthly_quotas: Vec<PlanQuota>,
}

/// What a plan includes.
#[derive(SimpleObject, Debug, Clone)]
pub struct PlanFeatures {
    /// The tenant's own name, logo, colors and support email.
    pub custom_branding: bool,
    /// How many days the audit trail is kept.
    pub audit_retention_days: i32,
    /// Single sign-on readiness.
    pub sso_ready: bool,
    /// A custom domain.
    pub custom_domain: bool,
}

/// A plan: its prices, limits and features.
#[derive(SimpleObject, Debug, Clone)]
pub struct Plan {
    /// Its stable key (`free`, `basic`, `pro`, `enterprise`, …).
    pub key: String,
    /// Its name for people.
    pub name: String,
    /// The price of a month.
    pub monthly_price: Money,
    /// The price of a year.
    pub yearly_price: Money,
    /// What it allows.
    pub limits: PlanLimits,
    /// What it includes.
    pub features: PlanFeatures,
    /// Days of free trial a first subscription gets.
    pub trial_days: i32,
}

impl From<&PlanRow> for Plan {
    fn from(row: &PlanRow) -> Self {
        Self {
            key: row.key.clone(),
            name: row.name.clone(),
            monthly_price: Money::new(row.monthly_price_cents, &row.currency),
            yearly_price: Money::new(row.yearly_price_cents, &row.currency),
            limits: PlanLimits {
                members: row.max_members,
                api_calls_per_hour: row.api_calls_per_hour,
                monthly_quotas: monthly_quotas(row)
                    .into_iter()
                    .map(|(metric, limit)| PlanQuota { metric, limit })
                    .collect(),
            },
            features: PlanFeatures {
                custom_branding: row.custom_branding,
                audit_retention_days: row.audit_retention_days,
                sso_ready: row.sso_ready,
                custom_domain: row.custom_domain,
            },
            trial_days: row.trial_days,
        }
    }
}

/// A plan as platform admins see it: what everyone sees, and its Stripe
/// prices, whether it is offered, and its place in the catalogue.
#[derive(SimpleObject, Debug, Clone)]
pub struct AdminPlan {
    #[graphql(flatten)]
    pub plan: Plan,
    /// The Stripe price of a month (`price_…`).
    pub stripe_monthly_price_id: Option<String>,
    /// The Stripe price of a year (`price_…`).
    pub stripe_yearly_price_id: Option<String>,
    /// Whether it is offered in `plans` (a private plan is assigned by
    /// platform admins only).
    pub public: bool,
    /// Its place in the catalogue (lowest first).
    pub sort_order: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&PlanRow> for AdminPlan {
    fn from(row: &PlanRow) -> Self {
        Self {
            plan: Plan::from(row),
            stripe_monthly_price_id: row.stripe_monthly_price_id.clone(),
            stripe_yearly_price_id: row.stripe_yearly_price_id.clone(),
            public: row.public,
            sort_order: row.sort_order,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A monthly quota of one usage metric.
#[derive(InputObject)]
pub struct PlanQuotaInput {
    /// The usage metric (lower-case letters, digits and `_ . : -`).
    pub metric: String,
    /// How much of it a month allows (0 to 2,000,000,000).
    pub limit: i32,
}

/// A new plan's limits.
#[derive(InputObject)]
pub struct PlanLimitsInput {
    /// Most members (1 to 1,000,000; pending invitations count).
    pub members: i32,
    /// API calls an hour per tenant (1 to 1,000,000,000).
    pub api_calls_per_hour: i32,
    /// Monthly quotas per usage metric (at most 32; none by default).
    pub monthly_quotas: Option<Vec<PlanQuotaInput>>,
}

/// Changes of a plan's limits (absent: unchanged).
#[derive(InputObject)]
pub struct PlanLimitsChanges {
    /// Most members (1 to 1,000,000; pending invitations count).
    pub members: Option<i32>,
    /// API calls an hour per tenant (1 to 1,000,000,000).
    pub api_calls_per_hour: Option<i32>,
    /// Monthly quotas per usage metric, replacing all of them (at most 32).
    pub monthly_quotas: Option<Vec<PlanQuotaInput>>,
}

/// A plan's features (absent: unchanged, or off for a new plan; audit
/// retention 30 days).
#[derive(InputObject, Default)]
pub struct PlanFeaturesInput {
    /// The tenant's own name, logo, colors and support email.
    pub custom_branding: Option<bool>,
    /// How many days the audit trail is kept (1 to 3650).
    pub audit_retention_days: Option<i32>,
    /// Single sign-on readiness.
    pub sso_ready: Option<bool>,
    /// A custom domain.
    pub custom_domain: Option<bool>,
}

/// What `createPlan` needs.
#[derive(InputObject)]
pub struct CreatePlanInput {
    /// Its stable key: a lower-case letter, then up to 31 lower-case letters,
    /// digits or underscores.
    pub key: String,
    /// Its name for people (1 to 64 characters).
    pub name: String,
    /// The price of a month, in the currency's smallest unit.
    pub monthly_price: i32,
    /// The price of a year (default: ten months' price).
    pub yearly_price: Option<i32>,
    /// The ISO 4217 currency code (default `usd`).
    pub currency: Option<String>,
    /// The Stripe price of a month (`price_…`).
    pub stripe_monthly_price_id: Option<String>,
    /// The Stripe price of a year (`price_…`).
    pub stripe_yearly_price_id: Option<String>,
    /// What it allows.
    pub limits: PlanLimitsInput,
    /// What it includes (default: nothing).
    pub features: Option<PlanFeaturesInput>,
    /// Days of free trial (0 to 730; default 0).
    pub trial_days: Option<i32>,
    /// Whether `plans` offers it (default: no, until you publish it).
    pub public: Option<bool>,
    /// Its place in the catalogue (-10000 to 10000; default 0).
    pub sort_order: Option<i32>,
}

/// What `updatePlan` changes (absent: unchanged).
#[derive(InputObject)]
pub struct UpdatePlanInput {
    /// Its name for people (1 to 64 characters).
    pub name: Option<String>,
    /// The price of a month, in the currency's smallest unit.
    pub monthly_price: Option<i32>,
    /// The price of a year.
    pub yearly_price: Option<i32>,
    /// The ISO 4217 currency code.
    pub currency: Option<String>,
    /// The Stripe price of a month (`price_…`; null removes it).
    pub stripe_monthly_price_id: MaybeUndefined<String>,
    /// The Stripe price of a year (`price_…`; null removes it).
    pub stripe_yearly_price_id: MaybeUndefined<String>,
    /// What it allows.
    pub limits: Option<PlanLimitsChanges>,
    /// What it includes.
    pub features: Option<PlanFeaturesInput>,
    /// Days of free trial (0 to 730).
    pub trial_days: Option<i32>,
    /// Whether `plans` offers it.
    pub public: Option<bool>,
    /// Its place in the catalogue (-10000 to 10000).
    pub sort_order: Option<i32>,
}

fn quotas(list: Option<Vec<PlanQuotaInput>>) -> Option<Vec<(String, i64)>> {
    list.map(|l| {
        l.into_iter()
            .map(|q| (q.metric, i64::from(q.limit)))
            .collect()
    })
}

fn maybe(value: MaybeUndefined<String>) -> Option<Option<String>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

impl From<CreatePlanInput> for PlanDraft {
    fn from(input: CreatePlanInput) -> Self {
        let features = input.features.unwrap_or_default();
        Self {
            name: Some(input.name),
            monthly_price_cents: Some(input.monthly_price),
            yearly_price_cents: input.yearly_price,
            currency: input.currency,
            stripe_monthly_price_id: input.stripe_monthly_price_id.map(Some),
            stripe_yearly_price_id: input.stripe_yearly_price_id.map(Some),
            max_members: Some(input.limits.members),
            api_calls_per_hour: Some(input.limits.api_calls_per_hour),
            monthly_quotas: quotas(input.limits.monthly_quotas),
            custom_branding: features.custom_branding,
            audit_retention_days: features.audit_retention_days,
            sso_ready: features.sso_ready,
            custom_domain: features.custom_domain,
            trial_days: input.trial_days,
            public: input.public,
            sort_order: input.sort_order,
        }
    }
}

impl From<UpdatePlanInput> for PlanDraft {
    fn from(input: UpdatePlanInput) -> Self {
        let features = input.features.unwrap_or_default();
        let (members, calls, monthly_quotas) = match input.limits {
            Some(l) => (l.members, l.api_calls_per_hour, quotas(l.monthly_quotas)),
            None => (None, None, None),
        };
        Self {
            name: input.name,
            monthly_price_cents: input.monthly_price,
            yearly_price_cents: input.yearly_price,
            currency: input.currency,
            stripe_monthly_price_id: maybe(input.stripe_monthly_price_id),
            stripe_yearly_price_id: maybe(input.stripe_yearly_price_id),
            max_members: members,
            api_calls_per_hour: calls,
            monthly_quotas,
            custom_branding: features.custom_branding,
            audit_retention_days: features.audit_retention_days,
            sso_ready: features.sso_ready,
            custom_domain: features.custom_domain,
            trial_days: input.trial_days,
            public: input.public,
            sort_order: input.sort_order,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn money_is_formatted_by_currency() {
        assert_eq!(Money::new(2900, "usd").formatted, "$29.00");
        assert_eq!(Money::new(0, "usd").formatted, "$0.00");
        assert_eq!(Money::new(29005, "eur").formatted, "€290.05");
        assert_eq!(Money::new(500, "jpy").formatted, "¥500");
        assert_eq!(Money::new(2900, "chf").formatted, "29.00 CHF");
    }
}
