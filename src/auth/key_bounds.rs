//! How far an API key with `keys:write` reaches: the keys it makes, rotates or
//! changes never exceed it — no scope it lacks, no other environment, no higher
//! rate limit, no later expiry. The bounds are read from the key's own row
//! inside the mutating transaction (locked), not from the cached grant.

use chrono::{DateTime, Utc};

use super::api_keys::{Environment, KeyGrant, KeyScope, Rate, Scopes};
use crate::db::api_keys::ApiKey;
use crate::error::{AppError, AppResult};

/// What a key-made key may have at most: the maker's own reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub environment: Environment,
    pub scopes: Scopes,
    /// The maker's own rate limit, when it has one.
    pub own_rate: Option<Rate>,
    /// The plan's API calls per hour (the limit of keys without their own).
    pub plan_rate: Rate,
    /// When the maker stops working: its expiry, or for a secret being rotated
    /// out, the end of its grace period if that comes first.
    pub deadline: Option<DateTime<Utc>>,
}

/// `rate` allows no more calls than `cap` in any window: no larger burst and
/// no faster refill (GCRA admits `limit` at once, then `limit` per `period`).
pub fn within(rate: Rate, cap: Rate) -> bool {
    rate.limit <= cap.limit
        && u64::from(rate.limit) * u64::from(cap.period_seconds)
            <= u64::from(cap.limit) * u64::from(rate.period_seconds)
}

fn describe(rate: Rate) -> String {
    format!("{} per {} s", rate.limit, rate.period_seconds)
}

/// A stored key's own rate limit.
pub fn own_rate(key: &ApiKey) -> Option<Rate> {
    key.rate_limit
        .zip(key.rate_limit_period)
        .map(|(limit, period)| Rate {
            limit: limit.max(0) as u32,
            period_seconds: period.max(0) as u32,
        })
}

impl Bounds {
    /// The bounds of the calling key `grant`, from its row `row` as it stands
    /// now: UNAUTHENTICATED when it was revoked, expired or rotated out since
    /// the request began, FORBIDDEN when it lost `keys:write`.
    pub fn of(grant: &KeyGrant, row: &ApiKey, now: DateTime<Utc>) -> AppResult<Self> {
        if row.revoked_at.is_some() {
            return Err(AppError::unauthenticated("this API key was revoked"));
        }
        if row.expires_at.is_some_and(|at| at <= now) {
            return Err(AppError::unauthenticated("this API key expired"));
        }
        let grace = if grant.is_previous {
            match row.previous_valid_until {
                Some(at) if at > now => Some(at),
                _ => {
                    return Err(AppError::unauthenticated(
                        "this API key was rotated and its grace period is over: use the new secret",
                    ));
                }
            }
        } else {
            None
        };
        let scopes = Scopes::from_names(&row.scope_names());
        if !scopes.contains(KeyScope::KeysWrite) {
            return Err(AppError::forbidden(
                "this API key lacks the keys:write scope",
            ));
        }
        Ok(Self {
            environment: Environment::parse(&row.environment).unwrap_or(Environment::Live),
            scopes,
            own_rate: own_rate(row),
            plan_rate: grant.tenant_rate,
            deadline: match (row.expires_at, grace) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        })
    }

    /// The maker's limit: its own, else the plan's.
    pub fn rate(&self) -> Rate {
        self.own_rate.unwrap_or(self.plan_rate)
    }

    /// FORBIDDEN unless keys of `environment` with `scopes` are within reach.
    pub fn allows(&self, environment: Environment, scopes: Scopes) -> AppResult<()> {
        if environment != self.environment {
            return Err(AppError::forbidden(format!(
                "environment: a {0} key manages {0} keys only",
                self.environment.as_str()
            )));
        }
        if !scopes.is_subset_of(self.scopes) {
            return Err(AppError::forbidden(
                "scopes: an API key cannot grant or touch scopes it does not hold",
            ));
        }
        Ok(())
    }

    /// The rate limit of a key this key makes: `asked` if within the maker's,
    /// none asked → the maker's own (a maker without one: none, so both follow
    /// the plan's API calls per hour).
    pub fn child_rate(&self, asked: Option<Rate>) -> AppResult<Option<Rate>> {
        match asked {
            None => Ok(self.own_rate),
            Some(rate) if within(rate, self.rate()) => Ok(Some(rate)),
            Some(rate) => Err(AppError::forbidden(format!(
                "rateLimit: {} is above this API key's own limit ({}); a key cannot make a key \
                 allowed more calls than itself",
                describe(rate),
                describe(self.rate())
            ))),
        }
    }

    /// The expiry of a key this key makes: `asked` if not after the maker's
    /// deadline, none asked → the maker's deadline.
    pub fn child_expiry(&self, asked: Option<DateTime<Utc>>) -> AppResult<Option<DateTime<Utc>>> {
        match (asked, self.deadline) {
            (None, deadline) => Ok(deadline),
            (Some(at), Some(deadline)) if at > deadline => Err(AppError::forbidden(format!(
                "expiresAt: this API key stops working at {}; a key cannot make a key that \
                 outlives it",
                deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))),
            (Some(at), _) => Ok(Some(at)),
        }
    }

    /// FORBIDDEN unless `target` (a key this key would rotate or change) is
    /// within reach: environment, scopes, rate limit and expiry.
    pub fn covers(&self, target: &ApiKey) -> AppResult<()> {
        self.allows(
            Environment::parse(&target.environment).unwrap_or(Environment::Live),
            Scopes::from_names(&target.scope_names()),
        )?;
        let rate = own_rate(target).unwrap_or(self.plan_rate);
        if !within(rate, self.rate()) {
            return Err(AppError::forbidden(format!(
                "rateLimit: that key's limit ({}) is above this API key's ({}); ask an admin or owner",
                describe(rate),
                describe(self.rate())
            )));
        }
        if let Some(deadline) = self.deadline
            && target.expires_at.is_none_or(|at| at > deadline)
        {
            return Err(AppError::forbidden(
                "expiresAt: that key outlives this API key (a rotated or changed key would too); \
                 ask an admin or owner",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(limit: u32, period_seconds: u32) -> Rate {
        Rate {
            limit,
            period_seconds,
        }
    }

    fn bounds(own: Option<Rate>, deadline: Option<DateTime<Utc>>) -> Bounds {
        Bounds {
            environment: Environment::Live,
            scopes: [KeyScope::KeysWrite, KeyScope::TenantRead]
                .into_iter()
                .collect(),
            own_rate: own,
            plan_rate: rate(1000, 3600),
            deadline,
        }
    }

    #[test]
    fn a_rate_is_within_another_by_burst_and_refill() {
        let cap = rate(1000, 3600);
        assert!(within(cap, cap));
        assert!(within(rate(100, 600), cap));
        // A faster refill with a small burst is still more calls per hour.
        assert!(!within(rate(10, 1), cap));
        // A slower refill with a larger burst is more calls at once.
        assert!(!within(rate(2000, 36_000), cap));
        assert!(!within(rate(1001, 3600), cap));
        assert!(within(
            rate(1_000_000_000, 86_400),
            rate(1_000_000_000, 86_400)
        ));
    }

    #[test]
    fn children_inherit_and_never_exceed() {
        let soon = Utc::now() + chrono::Duration::hours(1);
        let b = bounds(Some(rate(10, 60)), Some(soon));
        assert_eq!(b.child_rate(None).unwrap(), Some(rate(10, 60)));
        assert_eq!(b.child_rate(Some(rate(5, 60))).unwrap(), Some(rate(5, 60)));
        assert_eq!(
            b.child_rate(Some(rate(11, 60)))
                .unwrap_err()
                .code()
                .as_str(),
            "FORBIDDEN"
        );
        assert_eq!(b.child_expiry(None).unwrap(), Some(soon));
        let earlier = soon - chrono::Duration::minutes(1);
        assert_eq!(b.child_expiry(Some(earlier)).unwrap(), Some(earlier));
        let later = soon + chrono::Duration::minutes(1);
        let err = b.child_expiry(Some(later)).unwrap_err();
        assert_eq!(err.code().as_str(), "FORBIDDEN");
        assert!(err.public_message().starts_with("expiresAt"));

        // A maker without its own limit or expiry: the plan's, and never.
        let open = bounds(None, None);
        assert_eq!(open.child_rate(None).unwrap(), None);
        assert!(open.child_rate(Some(rate(1000, 3600))).is_ok());
        assert!(open.child_rate(Some(rate(1001, 3600))).is_err());
        assert_eq!(open.child_expiry(None).unwrap(), None);
        assert_eq!(open.child_expiry(Some(later)).unwrap(), Some(later));
    }
}
