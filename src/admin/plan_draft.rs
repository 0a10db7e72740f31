//! What a plan is made of, as a platform admin gives it (`createPlan`,
//! `updatePlan`): every field optional, each validated and bounded before
//! anything is read or written (BAD_USER_INPUT naming the field).

use serde_json::{Value, json};

use crate::db::plans::PlanValues;
use crate::error::{AppError, AppResult};

/// Highest price, in cents (a million a month or a year).
pub const MAX_PRICE_CENTS: i32 = 100_000_000;
/// Most members a plan may allow.
pub const MAX_MEMBERS: i32 = 1_000_000;
/// Most API calls an hour a plan may allow.
pub const MAX_CALLS_PER_HOUR: i32 = 1_000_000_000;
/// Most monthly quotas (metrics) of one plan.
pub const MAX_QUOTAS: usize = 32;
/// Highest monthly quota of one metric.
pub const MAX_QUOTA: i64 = 2_000_000_000;
/// Longest trial, in days (two years, as the database allows).
pub const MAX_TRIAL_DAYS: i32 = 730;
/// Longest audit retention, in days (ten years, as the database allows).
pub const MAX_RETENTION_DAYS: i32 = 3650;
/// The range of `sortOrder`.
pub const SORT_ORDER: std::ops::RangeInclusive<i32> = -10_000..=10_000;

/// What a plan is made of, or what changes of it (`None`: unchanged, or the
/// default for a new plan; `Some(None)` clears a Stripe price id).
#[derive(Debug, Clone, Default)]
pub struct PlanDraft {
    pub name: Option<String>,
    pub monthly_price_cents: Option<i32>,
    pub yearly_price_cents: Option<i32>,
    pub currency: Option<String>,
    pub stripe_monthly_price_id: Option<Option<String>>,
    pub stripe_yearly_price_id: Option<Option<String>>,
    pub max_members: Option<i32>,
    pub api_calls_per_hour: Option<i32>,
    pub monthly_quotas: Option<Vec<(String, i64)>>,
    pub custom_branding: Option<bool>,
    pub audit_retention_days: Option<i32>,
    pub sso_ready: Option<bool>,
    pub custom_domain: Option<bool>,
    pub trial_days: Option<i32>,
    pub public: Option<bool>,
    pub sort_order: Option<i32>,
}

impl PlanDraft {
    pub(super) fn is_empty(&self) -> bool {
        let Self {
            name,
            monthly_price_cents,
            yearly_price_cents,
            currency,
            stripe_monthly_price_id,
            stripe_yearly_price_id,
            max_members,
            api_calls_per_hour,
            monthly_quotas,
            custom_branding,
            audit_retention_days,
            sso_ready,
            custom_domain,
            trial_days,
            public,
            sort_order,
        } = self;
        name.is_none()
            && monthly_price_cents.is_none()
            && yearly_price_cents.is_none()
            && currency.is_none()
            && stripe_monthly_price_id.is_none()
            && stripe_yearly_price_id.is_none()
            && max_members.is_none()
            && api_calls_per_hour.is_none()
            && monthly_quotas.is_none()
            && custom_branding.is_none()
            && audit_retention_days.is_none()
            && sso_ready.is_none()
            && custom_domain.is_none()
            && trial_days.is_none()
            && public.is_none()
            && sort_order.is_none()
    }

    /// Every given field, validated (the first bad one is a BAD_USER_INPUT
    /// naming it).
    pub(super) fn validated(mut self) -> AppResult<Self> {
        if let Some(name) = &self.name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(AppError::bad_field("name", "use 1 to 64 characters"));
            }
            self.name = Some(name.to_owned());
        }
        for (field, value) in [
            ("monthlyPrice", self.monthly_price_cents),
            ("yearlyPrice", self.yearly_price_cents),
        ] {
            in_range(field, value, 0, MAX_PRICE_CENTS, "cents")?;
        }
        if let Some(currency) = &self.currency {
            let currency = currency.trim().to_ascii_lowercase();
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(AppError::bad_field(
                    "currency",
                    "an ISO 4217 code of three letters, such as usd",
                ));
            }
            self.currency = Some(currency);
        }
        for (field, value) in [
            ("stripeMonthlyPriceId", &mut self.stripe_monthly_price_id),
            ("stripeYearlyPriceId", &mut self.stripe_yearly_price_id),
        ] {
            if let Some(Some(id)) = value {
                *id = price_id(field, id)?;
            }
        }
        in_range(
            "limits.members",
            self.max_members,
            1,
            MAX_MEMBERS,
            "members",
        )?;
        in_range(
            "limits.apiCallsPerHour",
            self.api_calls_per_hour,
            1,
            MAX_CALLS_PER_HOUR,
            "calls",
        )?;
        if let Some(quotas) = &mut self.monthly_quotas {
            *quotas = validated_quotas(std::mem::take(quotas))?;
        }
        in_range(
            "features.auditRetentionDays",
            self.audit_retention_days,
            1,
            MAX_RETENTION_DAYS,
            "days",
        )?;
        in_range("trialDays", self.trial_days, 0, MAX_TRIAL_DAYS, "days")?;
        in_range(
            "sortOrder",
            self.sort_order,
            *SORT_ORDER.start(),
            *SORT_ORDER.end(),
            "",
        )?;
        Ok(self)
    }

    /// `base` with this draft's fields applied.
    pub(super) fn apply(self, mut base: PlanValues) -> PlanValues {
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(value) = self.$field {
                    base.$field = value;
                }
            )*};
        }
        set!(
            name,
            monthly_price_cents,
            yearly_price_cents,
            currency,
            stripe_monthly_price_id,
            stripe_yearly_price_id,
            max_members,
            api_calls_per_hour,
            custom_branding,
            audit_retention_days,
            sso_ready,
            custom_domain,
            trial_days,
            public,
            sort_order
        );
        if let Some(quotas) = self.monthly_quotas {
            base.monthly_quotas = Value::Object(
                quotas
                    .into_iter()
                    .map(|(metric, limit)| (metric, json!(limit)))
                    .collect(),
            );
        }
        base
    }
}

fn in_range(field: &str, value: Option<i32>, min: i32, max: i32, unit: &str) -> AppResult<()> {
    match value {
        Some(v) if !(min..=max).contains(&v) => Err(AppError::bad_field(
            field,
            format!(
                "must be between {min} and {max}{}{unit}",
                if unit.is_empty() { "" } else { " " }
            ),
        )),
        _ => Ok(()),
    }
}

/// A Stripe price id: `price_` and 1 to 64 letters, digits or underscores.
fn price_id(field: &str, id: &str) -> AppResult<String> {
    let id = id.trim();
    let ok = id.strip_prefix("price_").is_some_and(|rest| {
        (1..=64).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    if !ok {
        return Err(AppError::bad_field(
            field,
            "a Stripe price id: price_ and up to 64 letters, digits or underscores",
        ));
    }
    Ok(id.to_owned())
}

/// Monthly quotas: metrics named as usage metrics are, each once, with a
/// limit from 0 to [`MAX_QUOTA`].
fn validated_quotas(quotas: Vec<(String, i64)>) -> AppResult<Vec<(String, i64)>> {
    if quotas.len() > MAX_QUOTAS {
        return Err(AppError::bad_field(
            "limits.monthlyQuotas",
            format!("at most {MAX_QUOTAS} metrics"),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(quotas.len());
    for (i, (metric, limit)) in quotas.into_iter().enumerate() {
        let metric = metric.trim().to_owned();
        let named = metric.len() <= 64
            && metric.starts_with(|c: char| c.is_ascii_lowercase())
            && metric.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'.' | b':' | b'-')
            });
        if !named {
            return Err(AppError::bad_field(
                &format!("limits.monthlyQuotas[{i}].metric"),
                "1 to 64 lower-case letters, digits and _ . : -, starting with a letter",
            ));
        }
        if !(0..=MAX_QUOTA).contains(&limit) {
            return Err(AppError::bad_field(
                &format!("limits.monthlyQuotas[{i}].limit"),
                format!("must be between 0 and {MAX_QUOTA}"),
            ));
        }
        if !seen.insert(metric.clone()) {
            return Err(AppError::bad_field(
                &format!("limits.monthlyQuotas[{i}].metric"),
                format!("{metric} is listed twice"),
            ));
        }
        out.push((metric, limit));
    }
    Ok(out)
}

/// A plan key: a lower-case letter, then up to 31 lower-case letters, digits
/// or underscores.
pub fn plan_key(field: &str, key: &str) -> AppResult<String> {
    let key = key.trim();
    let ok = (1..=32).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(AppError::bad_field(
            field,
            "a lower-case letter, then up to 31 lower-case letters, digits or underscores",
        ));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: AppResult<impl std::fmt::Debug>) -> String {
        match r.unwrap_err() {
            AppError::BadUserInput { field, .. } => field.unwrap_or_default(),
            other => panic!("not BAD_USER_INPUT: {other:?}"),
        }
    }

    #[test]
    fn every_field_is_bounded() {
        let bad = |d: PlanDraft| code(d.validated());
        assert_eq!(
            bad(PlanDraft {
                name: Some(" ".into()),
                ..Default::default()
            }),
            "name"
        );
        assert_eq!(
            bad(PlanDraft {
                name: Some("x".repeat(65)),
                ..Default::default()
            }),
            "name"
        );
        assert_eq!(
            bad(PlanDraft {
                monthly_price_cents: Some(-1),
                ..Default::default()
            }),
            "monthlyPrice"
        );
        assert_eq!(
            bad(PlanDraft {
                currency: Some("dollars".into()),
                ..Default::default()
            }),
            "currency"
        );
        assert_eq!(
            bad(PlanDraft {
                stripe_monthly_price_id: Some(Some("prod_123".into())),
                ..Default::default()
            }),
            "stripeMonthlyPriceId"
        );
        assert_eq!(
            bad(PlanDraft {
                stripe_yearly_price_id: Some(Some(format!("price_{}", "a".repeat(65)))),
                ..Default::default()
            }),
            "stripeYearlyPriceId"
        );
        assert_eq!(
            bad(PlanDraft {
                max_members: Some(0),
                ..Default::default()
            }),
            "limits.members"
        );
        assert_eq!(
            bad(PlanDraft {
                monthly_quotas: Some(vec![("Bad Metric".into(), 1)]),
                ..Default::default()
            }),
            "limits.monthlyQuotas[0].metric"
        );
        assert_eq!(
            bad(PlanDraft {
                monthly_quotas: Some(vec![("a".into(), 1), ("a".into(), 2)]),
                ..Default::default()
            }),
            "limits.monthlyQuotas[1].metric"
        );
        assert_eq!(
            bad(PlanDraft {
                monthly_quotas: Some((0..33).map(|i| (format!("m{i}"), 1)).collect()),
                ..Default::default()
            }),
            "limits.monthlyQuotas"
        );
        assert_eq!(
            bad(PlanDraft {
                trial_days: Some(731),
                ..Default::default()
            }),
            "trialDays"
        );
        assert_eq!(
            bad(PlanDraft {
                audit_retention_days: Some(0),
                ..Default::default()
            }),
            "features.auditRetentionDays"
        );
        let ok = PlanDraft {
            currency: Some(" EUR ".into()),
            stripe_monthly_price_id: Some(Some("price_1AbC".into())),
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert_eq!(ok.currency.as_deref(), Some("eur"));
        assert!(PlanDraft::default().is_empty());
        assert_eq!(code(plan_key("key", "Pro")), "key");
        assert_eq!(code(plan_key("key", "9lives")), "key");
        assert_eq!(plan_key("key", " team_2 ").unwrap(), "team_2");
    }
}
