//! Monthly quotas: a plan's limit per metric, enforced exactly.
//!
//! The period is the calendar month in UTC. Live usage only counts (test
//! keys never do), and only metrics that add up (SUM: the quantity, COUNT:
//! one an event; a MAX or UNIQUE_COUNT metric has no meaningful running
//! total and is not limited). Before anything is recorded the amount is
//! reserved on a counter per (tenant, metric, month): in this process (a
//! mutex per counter, seeded once from the whole-tenant daily rollups, lazily)
//! or, with Redis, in Redis (one Lua script: INCRBY if it stays within the
//! limit), so every instance sharing Redis shares one counter. A reservation
//! that is not kept (the write failed, the event was a duplicate, the caller
//! went away) is given back. The limit is read from the plan catalogue on
//! every call, so a plan change applies at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use diesel_async::AsyncPgConnection;
use moka::sync::Cache;
use redis::aio::ConnectionManager;
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::limits::Limiter;
use super::store::Aggregation;
use crate::db::Db;
use crate::db::usage::QuotaMark;
use crate::error::{AppError, AppResult, QuotaLimit};
use crate::tenancy::Scope;

/// The calendar month (UTC) holding `at`: its first instant and the next
/// month's (when the quota resets).
pub fn period(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let first = NaiveDate::from_ymd_opt(at.year(), at.month(), 1).unwrap_or_default();
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let start = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
    (start(first), start(next))
}

/// How much of a quota one event takes: its quantity (SUM or a metric the
/// catalogue does not know), one (COUNT), or nothing limited (MAX,
/// UNIQUE_COUNT).
pub fn amount(aggregation: Option<&Aggregation>, quantity: i64) -> Option<i64> {
    match aggregation {
        None | Some(Aggregation::Sum) => Some(quantity),
        Some(Aggregation::Count) => Some(1),
        Some(Aggregation::Max | Aggregation::UniqueCount(_)) => None,
    }
}

/// The limit of `metric` in `plan`'s quotas, if it has one.
pub fn limit_of(plan: &crate::plans::Plan, metric: &str) -> Option<i64> {
    plan.monthly_quotas.get(metric)?.as_i64()
}

type CounterKey = (Uuid, String, DateTime<Utc>);

/// The quota counters of one instance (or their Redis twins); cheap to clone.
#[derive(Clone)]
pub struct Quotas {
    local: Cache<CounterKey, Arc<tokio::sync::Mutex<Option<i64>>>>,
    redis: Option<(ConnectionManager, Arc<redis::Script>)>,
}

/// Reserves `ARGV[2]` on the counter `KEYS[1]` if it stays within the limit
/// `ARGV[1]`. An absent counter is created with `ARGV[3]` (the seed read
/// from the database; empty: answer -1 so that the caller reads it) and
/// expires `ARGV[4]` ms later. Returns {reserved (1, 0, -1), used}.
const RESERVE: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then
  if ARGV[3] == '' then return {-1, 0} end
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
  cur = ARGV[3]
end
cur = tonumber(cur)
local amount = tonumber(ARGV[2])
if cur + amount > tonumber(ARGV[1]) then return {0, cur} end
return {1, redis.call('INCRBY', KEYS[1], amount)}
";

impl Quotas {
    /// Counters in this process, or in Redis when the rate limits are there.
    pub fn new(limiter: &Limiter) -> Self {
        let redis = match limiter {
            Limiter::Redis(redis) => {
                Some((redis.conn.clone(), Arc::new(redis::Script::new(RESERVE))))
            }
            Limiter::Local(_) => None,
        };
        Self {
            local: Cache::builder()
                .max_capacity(1_000_000)
                // A counter idle for longer than a month is read again.
                .time_to_idle(Duration::from_secs(35 * 86_400))
                .build(),
            redis,
        }
    }

    /// Reserves `amount` of `metric` for `tenant` in the month of `at`
    /// under `limit`; QUOTA_EXCEEDED (nothing reserved) when it would go
    /// past it. The counter is seeded from the database once (`seed`).
    pub async fn reserve(
        &self,
        seed: &mut Seed<'_>,
        tenant: Uuid,
        metric: &str,
        at: DateTime<Utc>,
        amount: i64,
        limit: i64,
    ) -> AppResult<Reservation> {
        let (start, resets_at) = period(at);
        let exceeded = |used: i64| {
            AppError::quota_exceeded(QuotaLimit {
                metric: metric.to_owned(),
                limit,
                used,
                resets_at,
            })
        };
        let key = (tenant, metric.to_owned(), start);
        if let Some((conn, script)) = &self.redis {
            let name = redis_key(&key);
            let ttl_ms = (resets_at - Utc::now()).num_milliseconds().max(0) + 7 * 86_400_000;
            let call = |seed: Option<i64>| {
                let mut conn = conn.clone();
                let mut invocation = script.key(&name);
                invocation
                    .arg(limit)
                    .arg(amount)
                    .arg(seed.map(|s| s.to_string()).unwrap_or_default())
                    .arg(ttl_ms);
                async move {
                    invocation
                        .invoke_async::<(i64, i64)>(&mut conn)
                        .await
                        .map_err(unavailable)
                }
            };
            let (mut reserved, mut used) = call(None).await?;
            if reserved == -1 {
                let seeded = seed.used(tenant, metric, start, resets_at).await?;
                (reserved, used) = call(Some(seeded)).await?;
            }
            return match reserved {
                1 => Ok(Reservation::held(self.clone(), key, amount, limit)),
                _ => Err(exceeded(used)),
            };
        }
        let counter = self.local.get_with(key.clone(), Default::default);
        // The counter is never held while the database is asked: a
        // `recordUsage` reserves inside its write transaction, holding a
        // connection (and its keys' row locks), so a holder waiting for a
        // pool connection could wait on it. The seed is read unlocked; the
        // first to lock with a value sets it (the others use the counter).
        let mut seeded = None;
        loop {
            {
                let mut guard = counter.lock().await;
                if let Some(used) = guard.or(seeded) {
                    if used.saturating_add(amount) > limit {
                        *guard = Some(used);
                        return Err(exceeded(used));
                    }
                    *guard = Some(used + amount);
                    return Ok(Reservation::held(self.clone(), key, amount, limit));
                }
            }
            seeded = Some(seed.used(tenant, metric, start, resets_at).await?);
        }
    }

    /// How much of `metric` `tenant` has used this month, as the counters
    /// know it (`None`: no counter yet; read the rollups).
    pub async fn known_used(&self, tenant: Uuid, metric: &str, at: DateTime<Utc>) -> Option<i64> {
        let key = (tenant, metric.to_owned(), period(at).0);
        if let Some((conn, _)) = &self.redis {
            let mut conn = conn.clone();
            return redis::cmd("GET")
                .arg(redis_key(&key))
                .query_async::<Option<i64>>(&mut conn)
                .await
                .ok()
                .flatten();
        }
        let counter = self.local.get(&key)?;
        let guard = counter.lock().await;
        *guard
    }

    /// How much of `metric` `tenant` has used in the month of `at`: the
    /// counter when there is one, else read from the database (the counter
    /// is neither created nor changed: a read-only answer).
    pub async fn used(
        &self,
        db: &Db,
        tenant: Uuid,
        metric: &str,
        at: DateTime<Utc>,
    ) -> AppResult<i64> {
        if let Some(used) = self.known_used(tenant, metric, at).await {
            return Ok(used);
        }
        let (start, resets_at) = period(at);
        Seed::Db(db).used(tenant, metric, start, resets_at).await
    }

    /// Gives back `amount` of `metric` taken for `tenant` in the month of
    /// `at` by a reservation that was kept (its usage turned out to be a
    /// duplicate).
    pub fn release(&self, tenant: Uuid, metric: &str, at: DateTime<Utc>, amount: i64) {
        self.give_back(&(tenant, metric.to_owned(), period(at).0), amount);
    }

    fn give_back(&self, key: &CounterKey, amount: i64) {
        if let Some((conn, _)) = &self.redis {
            let mut conn = conn.clone();
            let name = redis_key(key);
            tokio::spawn(async move {
                if let Err(err) = redis::cmd("DECRBY")
                    .arg(&name)
                    .arg(amount)
                    .query_async::<i64>(&mut conn)
                    .await
                {
                    tracing::warn!(error = %err, counter = %name, "quota reservation not given back");
                }
            });
            return;
        }
        if let Some(counter) = self.local.get(key) {
            let give = move |slot: &mut Option<i64>| {
                if let Some(used) = slot {
                    *used = (*used - amount).max(0);
                }
            };
            if let Ok(mut slot) = counter.try_lock() {
                give(&mut slot);
                return;
            }
            tokio::spawn(async move { give(&mut *counter.lock().await) });
        }
    }
}

fn redis_key((tenant, metric, start): &CounterKey) -> String {
    format!(
        "tenantgate:quota:{tenant}:{metric}:{}",
        start.format("%Y-%m")
    )
}

fn unavailable(err: redis::RedisError) -> AppError {
    tracing::warn!(error = %err, "redis call failed");
    AppError::unavailable("quotas cannot be checked right now (Redis); try again shortly")
}

/// Where a counter's first value is read: a database handle, or the
/// caller's open transaction.
pub enum Seed<'a> {
    Db(&'a Db),
    Conn(&'a mut AsyncPgConnection),
}

impl Seed<'_> {
    async fn used(
        &mut self,
        tenant: Uuid,
        metric: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> AppResult<i64> {
        match self {
            Seed::Db(db) => {
                let metric = metric.to_owned();
                db.scoped(Scope::tenant(tenant), |conn| {
                    async move { Ok(used_in_db(conn, tenant, &metric, from, to).await?) }
                        .scope_boxed()
                })
                .await
            }
            Seed::Conn(conn) => Ok(used_in_db(conn, tenant, metric, from, to).await?),
        }
    }
}

pub use crate::db::usage::{all_used_in_db, used_in_db};

/// An amount taken from a counter: given back when dropped unless
/// [`Reservation::keep`] was called.
pub struct Reservation {
    held: Option<(Quotas, CounterKey, i64)>,
    /// The limit it was reserved under (for the thresholds).
    limit: i64,
}

impl Reservation {
    fn held(quotas: Quotas, key: CounterKey, amount: i64, limit: i64) -> Self {
        Self {
            held: Some((quotas, key, amount)),
            limit,
        }
    }

    /// How much this reservation took.
    pub fn amount(&self) -> i64 {
        self.held.as_ref().map_or(0, |h| h.2)
    }

    /// Whether the usage was recorded is unknown (its commit failed or its
    /// acknowledgement was lost): the amount stays taken, announcing
    /// nothing, so usage that was stored is never given back.
    pub fn forget(mut self) {
        self.held = None;
    }

    /// The quota the reserved usage counts against (its thresholds are
    /// decided from the stored total, in the transaction that stores it:
    /// see [`super::thresholds`]).
    pub fn mark(&self) -> Option<QuotaMark> {
        let (_, (_, _, start), _) = self.held.as_ref()?;
        Some(QuotaMark {
            period: *start,
            next: period(*start).1,
            limit: self.limit,
        })
    }

    /// The usage was recorded: the amount stays taken.
    pub fn keep(mut self) {
        self.held = None;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some((quotas, key, amount)) = self.held.take() {
            quotas.give_back(&key, amount);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_is_the_utc_calendar_month() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        let (start, end) = period(at);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        let (start, _) = period(end);
        assert_eq!(start, end);
    }
}
