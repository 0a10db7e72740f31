//! The failed API-key lookup budget of each client address.
//!
//! A well-formed key with a valid checksum that names no key costs a database
//! lookup (once per key: misses are cached). Each "no such key" answer spends
//! one of the client address's budget ([`RATE`], IPv6 per /64); past it the
//! address gets RATE_LIMITED (with `retryAfter`) before any lookup, until the
//! budget refills. Verified keys already cached keep working from that address.
//!
//! The counters live where the rate limits live ([`Limiter`]): in Redis with
//! `REDIS_URL`, so every instance shares one budget per address; in process
//! otherwise (each instance then allows [`RATE`] on its own). A refusal is also
//! remembered in process until it expires, so an address past its budget costs
//! neither a lookup nor a Redis call. At most [`LOOKUPS_IN_FLIGHT`] lookups of
//! one address run at once, so a concurrent burst cannot outrun its budget:
//! it costs at most the budget plus that many lookups.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::api_keys::Rate;
use super::throttle;
use crate::error::{AppError, AppResult};
use crate::usage::limits::Limiter;

/// Failed key lookups allowed per client address: 20 a minute.
pub const RATE: Rate = Rate {
    limit: 20,
    period_seconds: 60,
};

/// Database lookups of unknown keys one client address may have in flight at
/// once (in this instance); more wait their turn.
pub const LOOKUPS_IN_FLIGHT: usize = 4;

/// The failed-lookup budgets of this instance; cheap to clone.
#[derive(Clone)]
pub struct FailedLookups {
    limiter: Limiter,
    /// The budget's name in the counters (`keyfail`, `pkfail`).
    kind: &'static str,
    /// Addresses refused, until when.
    blocked: Arc<Cache<String, Instant>>,
    /// Lookups in flight per address.
    turns: Arc<Cache<String, Arc<Semaphore>>>,
}

impl FailedLookups {
    pub fn new(limiter: Limiter) -> Self {
        Self::named(limiter, "keyfail")
    }

    /// A separate budget named `kind` (publishable keys have their own, so
    /// that pages calling made-up publishable keys from visitors' browsers
    /// cannot lock their address out of secret-key lookups).
    pub fn named(limiter: Limiter, kind: &'static str) -> Self {
        Self {
            limiter,
            kind,
            blocked: Arc::new(
                Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(Duration::from_secs(u64::from(RATE.period_seconds)))
                    .build(),
            ),
            turns: Arc::new(
                Cache::builder()
                    .max_capacity(100_000)
                    .time_to_idle(Duration::from_secs(60))
                    .build(),
            ),
        }
    }

    /// Waits until `client` has fewer than [`LOOKUPS_IN_FLIGHT`] lookups
    /// running; the turn ends when the permit is dropped. Without it, a
    /// concurrent burst of unknown keys would all reach the database before the
    /// first failure was counted.
    pub async fn lookup_turn(&self, client: Option<&str>) -> Option<OwnedSemaphorePermit> {
        let turns = self.turns.get_with(self.bucket(client), || {
            Arc::new(Semaphore::new(LOOKUPS_IN_FLIGHT))
        });
        turns.acquire_owned().await.ok()
    }

    fn bucket(&self, client: Option<&str>) -> String {
        throttle::address_key(self.kind, client.unwrap_or("unknown"))
    }

    fn refused(wait: Duration) -> AppError {
        AppError::rate_limited(
            "too many unknown API keys from this address; try again later",
            wait.max(Duration::from_secs(1)),
        )
    }

    /// RATE_LIMITED when `client` is past its budget (before a lookup).
    pub fn check(&self, client: Option<&str>) -> AppResult<()> {
        let bucket = self.bucket(client);
        match self.blocked.get(&bucket) {
            Some(until) if until > Instant::now() => Err(Self::refused(until - Instant::now())),
            _ => Ok(()),
        }
    }

    /// Spends one failed lookup of `client`: RATE_LIMITED when none was left.
    pub async fn spend(&self, client: Option<&str>) -> AppResult<()> {
        self.check(client)?;
        let bucket = self.bucket(client);
        let decision = self.limiter.check(&bucket, RATE).await?;
        if decision.allowed {
            return Ok(());
        }
        self.blocked
            .insert(bucket, Instant::now() + decision.retry_after);
        Err(Self::refused(decision.retry_after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_address_past_its_budget_is_refused_others_are_not() {
        let failures = FailedLookups::new(Limiter::local());
        for _ in 0..RATE.limit {
            failures.spend(Some("203.0.113.5")).await.unwrap();
        }
        failures.check(Some("203.0.113.5")).unwrap();
        let err = failures.spend(Some("203.0.113.5")).await.unwrap_err();
        assert_eq!(err.code().as_str(), "RATE_LIMITED");
        // Refused before any lookup from now on.
        assert_eq!(
            failures
                .check(Some("203.0.113.5"))
                .unwrap_err()
                .code()
                .as_str(),
            "RATE_LIMITED"
        );
        failures.check(Some("203.0.113.6")).unwrap();
        failures.spend(Some("203.0.113.6")).await.unwrap();
    }
}
