//! Plans: the catalogue (kept in memory on every instance, [`catalogue`]), a
//! plan's limits and features, and the refusals when one bites
//! (PAYMENT_REQUIRED, naming the limit, what is in use, the tenant's plan and
//! the cheapest public plan that allows it).
//!
//! A limit is checked where an addition happens, never against what exists: a
//! downgrade deletes nothing, and what is over the new limit keeps working;
//! only new additions are refused. Seats (members and pending invitations)
//! are counted with the tenant's row locked ([`take_seat`]), so two additions
//! racing for the last seat cannot both win.

pub mod catalogue;

use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::plans as rows;
pub use crate::db::plans::PlanRow as Plan;
use crate::error::{AppError, AppResult, Limited, PlanLimit};
pub use catalogue::PlanCatalogue;

/// A feature a plan may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// The tenant's own branding (name, logo, colors, support email).
    CustomBranding,
    /// Single sign-on readiness.
    SsoReady,
    /// A custom domain.
    CustomDomain,
}

impl Feature {
    /// The feature's name in the API (`extensions.feature`).
    pub fn name(self) -> &'static str {
        match self {
            Self::CustomBranding => "customBranding",
            Self::SsoReady => "ssoReady",
            Self::CustomDomain => "customDomain",
        }
    }

    /// The feature in a sentence.
    fn label(self) -> &'static str {
        match self {
            Self::CustomBranding => "custom branding",
            Self::SsoReady => "single sign-on",
            Self::CustomDomain => "a custom domain",
        }
    }

    /// Whether `plan` includes the feature.
    pub fn in_plan(self, plan: &Plan) -> bool {
        match self {
            Self::CustomBranding => plan.custom_branding,
            Self::SsoReady => plan.sso_ready,
            Self::CustomDomain => plan.custom_domain,
        }
    }
}

/// A plan's monthly quotas (`{ "<metric>": <limit> }`), by metric.
pub fn monthly_quotas(plan: &Plan) -> Vec<(String, i64)> {
    let mut quotas: Vec<(String, i64)> = plan
        .monthly_quotas
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(metric, limit)| Some((metric.clone(), limit.as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    quotas.sort();
    quotas
}

/// Every plan, public or not, in catalogue order (`sort_order`, then key).
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    plans: Vec<Arc<Plan>>,
}

impl Catalogue {
    /// The catalogue of `rows` (already in catalogue order).
    pub fn new(rows: Vec<Plan>) -> Self {
        Self {
            plans: rows.into_iter().map(Arc::new).collect(),
        }
    }

    /// The catalogue as the transaction sees it (for checks that must not
    /// trust a cache: the one in a change's own transaction).
    pub async fn read(conn: &mut AsyncPgConnection) -> AppResult<Self> {
        Ok(Self::new(rows::all(conn).await?))
    }

    /// The plan `key`, public or not.
    pub fn get(&self, key: &str) -> Option<&Arc<Plan>> {
        self.plans.iter().find(|p| p.key == key)
    }

    /// Every plan, in catalogue order.
    pub fn all(&self) -> &[Arc<Plan>] {
        &self.plans
    }

    /// The plans on offer, in catalogue order.
    pub fn public(&self) -> impl Iterator<Item = &Arc<Plan>> {
        self.plans.iter().filter(|p| p.public)
    }

    /// The cheapest public plan (by monthly price, then catalogue order) for
    /// which `allows` holds.
    pub fn cheapest_public(&self, allows: impl Fn(&Plan) -> bool) -> Option<&Arc<Plan>> {
        self.public()
            .filter(|p| allows(p))
            .min_by_key(|p| (p.monthly_price_cents, p.sort_order))
    }

    fn plan(&self, key: &str) -> AppResult<&Arc<Plan>> {
        self.get(key).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("the plan {key:?} is not in the catalogue"))
        })
    }

    /// PAYMENT_REQUIRED unless the plan `key` includes `feature`.
    pub fn require_feature(&self, key: &str, feature: Feature) -> AppResult<()> {
        let plan = self.plan(key)?;
        if feature.in_plan(plan) {
            return Ok(());
        }
        let upgrade_to = self.cheapest_public(|p| feature.in_plan(p));
        Err(AppError::payment_required(PlanLimit {
            message: format!(
                "{} is not part of the {} plan{}",
                capitalised(feature.label()),
                plan.name,
                upgrade_hint(upgrade_to, "to use it")
            ),
            plan: plan.key.clone(),
            upgrade_to: upgrade_to.map(|p| p.key.clone()),
            limited: Limited::Feature {
                name: feature.name(),
            },
        }))
    }

    /// PAYMENT_REQUIRED unless the plan `key` has room for one more member
    /// beside the `current` ones (members, and pending invitations when
    /// `seat` is an invitation).
    pub fn require_member_seat(&self, key: &str, current: i64, seat: Seat) -> AppResult<()> {
        let plan = self.plan(key)?;
        let limit = i64::from(plan.max_members);
        if current < limit {
            return Ok(());
        }
        let upgrade_to = self.cheapest_public(|p| i64::from(p.max_members) > current);
        Err(AppError::payment_required(PlanLimit {
            message: format!(
                "the {} plan allows {limit} members{}; {current} are taken{}",
                plan.name,
                match seat {
                    Seat::Invitation => " (pending invitations included)",
                    Seat::Membership => "",
                },
                upgrade_hint(upgrade_to, "for more")
            ),
            plan: plan.key.clone(),
            upgrade_to: upgrade_to.map(|p| p.key.clone()),
            limited: Limited::Resource {
                name: "members",
                limit,
                current,
            },
        }))
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn upgrade_hint(upgrade_to: Option<&Arc<Plan>>, why: &str) -> String {
    match upgrade_to {
        Some(plan) => format!(": upgrade to {} {why}", plan.name),
        None => String::new(),
    }
}

/// What a new seat is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    /// A new invitation: members and pending invitations count.
    Invitation,
    /// An invitation being accepted: members count (the invitation held its
    /// seat until now).
    Membership,
}

/// Takes a seat in `tenant_id` inside the caller's transaction:
/// PAYMENT_REQUIRED when its plan has none left. Locks the tenant's row first
/// (until the transaction ends), so concurrent additions are counted one
/// after the other.
pub async fn take_seat(conn: &mut AsyncPgConnection, tenant_id: Uuid, seat: Seat) -> AppResult<()> {
    let plan = rows::lock_tenant_plan(conn, tenant_id).await?;
    let (members, pending) = rows::seats(conn, tenant_id).await?;
    let current = match seat {
        Seat::Invitation => members + pending,
        Seat::Membership => members,
    };
    Catalogue::read(conn)
        .await?
        .require_member_seat(&plan, current, seat)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn plan(key: &str, price: i32, members: i32, branding: bool, public: bool) -> Plan {
        Plan {
            key: key.into(),
            name: key.to_uppercase(),
            monthly_price_cents: price,
            yearly_price_cents: price * 10,
            currency: "usd".into(),
            stripe_monthly_price_id: None,
            stripe_yearly_price_id: None,
            max_members: members,
            api_calls_per_hour: 1000,
            monthly_quotas: json!({ "api_calls": 100, "emails": 5 }),
            custom_branding: branding,
            audit_retention_days: 30,
            sso_ready: false,
            custom_domain: false,
            trial_days: 0,
            public,
            sort_order: price,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn catalogue() -> Catalogue {
        Catalogue::new(vec![
            plan("free", 0, 5, false, true),
            plan("secret", 500, 50, true, false),
            plan("basic", 2900, 25, false, true),
            plan("pro", 9900, 100, true, true),
        ])
    }

    #[test]
    fn features_name_the_cheapest_public_plan_that_has_them() {
        let c = catalogue();
        assert!(c.require_feature("pro", Feature::CustomBranding).is_ok());
        let AppError::PaymentRequired(limit) = c
            .require_feature("free", Feature::CustomBranding)
            .unwrap_err()
        else {
            panic!("not PAYMENT_REQUIRED")
        };
        // The private plan is cheaper, but not on offer.
        assert_eq!(limit.upgrade_to.as_deref(), Some("pro"));
        assert_eq!(limit.plan, "free");
        assert_eq!(
            limit.limited,
            Limited::Feature {
                name: "customBranding"
            }
        );
        let AppError::PaymentRequired(limit) =
            c.require_feature("pro", Feature::CustomDomain).unwrap_err()
        else {
            panic!("not PAYMENT_REQUIRED")
        };
        assert_eq!(limit.upgrade_to, None);
    }

    #[test]
    fn member_seats_count_up_to_the_limit() {
        let c = catalogue();
        assert!(c.require_member_seat("free", 4, Seat::Invitation).is_ok());
        let AppError::PaymentRequired(limit) = c
            .require_member_seat("free", 5, Seat::Invitation)
            .unwrap_err()
        else {
            panic!("not PAYMENT_REQUIRED")
        };
        assert_eq!(limit.upgrade_to.as_deref(), Some("basic"));
        assert_eq!(
            limit.limited,
            Limited::Resource {
                name: "members",
                limit: 5,
                current: 5
            }
        );
        // Over the limit after a downgrade: the plan that fits them all.
        let AppError::PaymentRequired(limit) = c
            .require_member_seat("free", 30, Seat::Membership)
            .unwrap_err()
        else {
            panic!("not PAYMENT_REQUIRED")
        };
        assert_eq!(limit.upgrade_to.as_deref(), Some("pro"));
        assert!(
            c.require_member_seat("unknown", 0, Seat::Membership)
                .is_err()
        );
    }

    #[test]
    fn quotas_are_read_by_metric() {
        assert_eq!(
            monthly_quotas(&plan("free", 0, 5, false, true)),
            vec![("api_calls".to_owned(), 100), ("emails".to_owned(), 5)]
        );
    }
}
