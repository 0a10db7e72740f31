//! Rate limits (GCRA): in process with `governor`, or shared in Redis.
//!
//! A limit of `limit` calls per `period` lets a full burst of `limit` calls
//! through at once and then one call every `period / limit`: the N+1th call in
//! a window is refused. With `REDIS_URL` every instance shares the counters
//! through one small Lua script (the same GCRA, on Redis's clock); a Redis that
//! cannot be reached gives UNAVAILABLE, and the connection heals by itself.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use moka::sync::Cache;
use redis::aio::ConnectionManager;

use crate::auth::api_keys::Rate;
use crate::error::{AppError, AppResult};

/// The answer for one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub rate: Rate,
    /// Calls left right now.
    pub remaining: u32,
    /// When the bucket is full again.
    pub reset_after: Duration,
    /// When a refused call may be retried (zero when allowed).
    pub retry_after: Duration,
}

type Gcra = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Where the counters live.
#[derive(Clone)]
pub enum Limiter {
    Local(Arc<Cache<(String, Rate), Arc<Gcra>>>),
    Redis(RedisLimiter),
}

impl Limiter {
    /// Counters in this process.
    pub fn local() -> Self {
        Self::Local(Arc::new(
            Cache::builder()
                .max_capacity(1_000_000)
                // A bucket idle for longer than any period is full again:
                // forgetting it changes nothing.
                .time_to_idle(Duration::from_secs(86_400 + 60))
                .build(),
        ))
    }

    /// Counters in Redis at `url` (connected lazily; reconnects by itself).
    pub fn redis(url: &str) -> anyhow::Result<Self> {
        Ok(Self::Redis(RedisLimiter::new(url)?))
    }

    /// Takes one call from `bucket`, whose limit is `rate`.
    pub async fn check(&self, bucket: &str, rate: Rate) -> AppResult<Decision> {
        match self {
            Self::Local(cache) => Ok(check_local(cache, bucket, rate)),
            Self::Redis(redis) => redis.check(bucket, rate).await,
        }
    }
}

fn interval(rate: Rate) -> Duration {
    (Duration::from_secs(u64::from(rate.period_seconds)) / rate.limit.max(1))
        .max(Duration::from_nanos(1))
}

fn check_local(cache: &Cache<(String, Rate), Arc<Gcra>>, bucket: &str, rate: Rate) -> Decision {
    let limiter = cache.get_with((bucket.to_owned(), rate), || {
        let burst = NonZeroU32::new(rate.limit.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(interval(rate))
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Arc::new(RateLimiter::direct(quota).with_middleware::<StateInformationMiddleware>())
    });
    match limiter.check() {
        Ok(state) => {
            let remaining = state.remaining_burst_capacity();
            Decision {
                allowed: true,
                rate,
                remaining,
                reset_after: interval(rate) * rate.limit.saturating_sub(remaining),
                retry_after: Duration::ZERO,
            }
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Decision {
                allowed: false,
                rate,
                remaining: 0,
                reset_after: interval(rate) * rate.limit,
                retry_after: wait.max(Duration::from_millis(1)),
            }
        }
    }
}

/// GCRA on Redis's clock. KEYS[1]: the bucket; ARGV: limit, period (ms).
/// Returns {allowed, remaining, reset_ms, retry_ms}.
const GCRA: &str = r"
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local interval = period / limit
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if allow_at > now then
  return {0, 0, math.ceil(tat - now), math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1)
return {1, math.floor((now - allow_at) / interval), math.ceil(new_tat - now), 0}
";

/// Rate-limit counters (and idempotency marks) shared in Redis.
#[derive(Clone)]
pub struct RedisLimiter {
    pub(super) conn: ConnectionManager,
    script: Arc<redis::Script>,
}

impl RedisLimiter {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            conn,
            script: Arc::new(redis::Script::new(GCRA)),
        })
    }

    async fn check(&self, bucket: &str, rate: Rate) -> AppResult<Decision> {
        let mut conn = self.conn.clone();
        let (allowed, remaining, reset_ms, retry_ms): (i64, i64, i64, i64) = self
            .script
            .key(format!("tenantgate:rl:{bucket}"))
            .arg(rate.limit.max(1))
            .arg(u64::from(rate.period_seconds) * 1000)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let ms = |v: i64| Duration::from_millis(v.max(0) as u64);
        Ok(Decision {
            allowed: allowed == 1,
            rate,
            remaining: remaining.clamp(0, i64::from(u32::MAX)) as u32,
            reset_after: ms(reset_ms),
            retry_after: if allowed == 1 {
                Duration::ZERO
            } else {
                ms(retry_ms).max(Duration::from_millis(1))
            },
        })
    }

    /// Whether the idempotency key `key` is marked as stored: `None` when not; else the fingerprint marked with it (`None`
    /// inside for a mark made before fingerprints were kept).
    pub async fn marked(&self, key: &str) -> AppResult<Option<Option<i64>>> {
        let mut conn = self.conn.clone();
        let value: Option<String> = redis::cmd("GET")
            .arg(format!("tenantgate:idem:{key}"))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(value.map(|v| v.strip_prefix("f:").and_then(|p| p.parse().ok())))
    }

    /// Marks the idempotency keys `keys` as stored with their fingerprints,
    /// for `ttl` (one round trip).
    pub async fn mark(&self, keys: &[(String, i64)], ttl: Duration) -> AppResult<()> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        for (key, fingerprint) in keys {
            pipe.cmd("SET")
                .arg(format!("tenantgate:idem:{key}"))
                .arg(format!("f:{fingerprint}"))
                .arg("PX")
                .arg(ttl.as_millis() as u64)
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await.map_err(unavailable)
    }

    /// Whether Redis answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn unavailable(err: redis::RedisError) -> AppError {
    tracing::warn!(error = %err, "redis call failed");
    AppError::unavailable("rate limiting is unavailable right now (Redis); try again shortly")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_limit_passes_and_the_next_call_does_not() {
        let limiter = Limiter::local();
        let Limiter::Local(cache) = &limiter else {
            unreachable!()
        };
        let rate = Rate {
            limit: 5,
            period_seconds: 3600,
        };
        for left in (0..5).rev() {
            let d = check_local(cache, "k", rate);
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
        }
        let refused = check_local(cache, "k", rate);
        assert!(!refused.allowed);
        // One call comes back every period / limit = 12 minutes.
        assert!(refused.retry_after > Duration::from_secs(700));
        assert!(refused.retry_after <= Duration::from_secs(720));
        // Another bucket, and the same bucket with another rate, are separate.
        assert!(check_local(cache, "other", rate).allowed);
        let wider = Rate { limit: 6, ..rate };
        assert!(check_local(cache, "k", wider).allowed);
    }
}
