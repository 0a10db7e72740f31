//! One `authorize` call: what it is asked, what it answers, and the rules
//! its input obeys (scope to record, metric, quantity, idempotency key).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::limits::Decision;
use crate::auth::api_keys::{KeyGrant, KeyScope};
use crate::error::{AppError, AppResult};

/// Largest quantity one call may record.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// The outcome of a key's and its tenant's limits for one call.
#[derive(Debug, Clone, Copy)]
pub struct LimitOutcome {
    pub key: Decision,
    /// `None` when the key's own limit refused the call first.
    pub tenant: Option<Decision>,
}

impl LimitOutcome {
    pub fn allowed(&self) -> bool {
        self.key.allowed && self.tenant.is_some_and(|t| t.allowed)
    }

    /// The decision that binds: the refusing one, else the one with fewer
    /// calls left (its numbers go into the `RateLimit-*` headers).
    pub fn binding(&self) -> Decision {
        match self.tenant {
            None => self.key,
            Some(t) if !t.allowed => t,
            Some(t) if t.remaining < self.key.remaining => t,
            Some(_) => self.key,
        }
    }

    /// Which limit refused the call, if one did.
    pub fn refusal(&self) -> Option<Refusal> {
        if !self.key.allowed {
            Some(Refusal::KeyRateLimited)
        } else if self.tenant.is_some_and(|t| !t.allowed) {
            Some(Refusal::TenantRateLimited)
        } else {
            None
        }
    }
}

/// Why `authorize` said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The key's own rate limit.
    KeyRateLimited,
    /// The tenant's plan limit (API calls per hour).
    TenantRateLimited,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeyRateLimited => "KEY_RATE_LIMITED",
            Self::TenantRateLimited => "TENANT_RATE_LIMITED",
        }
    }
}

/// What `authorize` was asked.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeInput {
    /// The usage metric to record (none: verify and apply limits only).
    pub metric: Option<String>,
    pub quantity: i64,
    pub idempotency_key: Option<String>,
}

/// What `authorize` answers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub allowed: bool,
    pub refusal: Option<Refusal>,
    /// Calls left in the binding limit.
    pub remaining: u32,
    pub reset_at: DateTime<Utc>,
    pub retry_after: Option<Duration>,
    /// Whether the usage was recorded by this call (false when refused, when
    /// no metric was given, or for a repeated idempotency key).
    pub recorded: bool,
    /// The idempotency key was seen before: nothing was recorded again.
    pub duplicate: bool,
}

/// FORBIDDEN when `input` records usage (names a metric) and the key lacks
/// `usage:write`; checking a key without recording needs no scope.
pub fn require_recording_scope(grant: &KeyGrant, input: &AuthorizeInput) -> AppResult<()> {
    if input.metric.is_some() {
        grant.require(KeyScope::UsageWrite)?;
    }
    Ok(())
}

/// Input errors: BAD_USER_INPUT naming the field.
pub(super) fn validate(input: &AuthorizeInput) -> AppResult<()> {
    if let Some(metric) = &input.metric {
        let ok = metric.len() <= 64
            && metric.starts_with(|c: char| c.is_ascii_lowercase())
            && metric.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | ':' | '-')
            });
        if !ok {
            return Err(AppError::bad_field(
                "metric",
                "use 1-64 characters: a lower-case letter, then a-z, 0-9, _ . : -",
            ));
        }
    }
    if !(1..=MAX_QUANTITY).contains(&input.quantity) {
        return Err(AppError::bad_field(
            "quantity",
            format!("must be between 1 and {MAX_QUANTITY}"),
        ));
    }
    if let Some(idem) = &input.idempotency_key
        && (idem.is_empty() || idem.len() > 200)
    {
        return Err(AppError::bad_field(
            "idempotencyKey",
            "must be 1 to 200 characters",
        ));
    }
    if input.idempotency_key.is_some() && input.metric.is_none() {
        return Err(AppError::bad_field(
            "idempotencyKey",
            "only means something with a metric to record",
        ));
    }
    Ok(())
}
