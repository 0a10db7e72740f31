//! Metering on the hot path: rate limits, the one-step `authorize` check, and
//! usage events recorded in batches.
//!
//! `authorize` makes no database round trip: the key comes from the
//! [`KeyCache`](crate::auth::key_cache::KeyCache), the limits from [`limits`],
//! and the usage event goes to an in-memory buffer that [`Usage::flush`] writes
//! every 250 ms (one transaction per tenant through [`store`]: raw events,
//! idempotency keys and rollups together, deduplicated in the database too). If the database is down, events stay buffered and are
//! retried; past [`MAX_BUFFERED`] events `authorize` answers UNAVAILABLE rather
//! than drop any. On shutdown the buffer is flushed.

mod authorize;
pub mod catalogue;
mod checks;
pub mod distinct;
mod flush;
pub mod ingest;
pub mod limits;
pub mod live;
pub mod partitions;
pub mod quotas;
pub mod reads;
pub mod store;
pub mod thresholds;

use authorize::validate;
pub use authorize::{
    Answer, AuthorizeInput, LimitOutcome, MAX_QUANTITY, Refusal, require_recording_scope,
};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use moka::sync::Cache;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::auth::api_keys::{Environment, KeyGrant, Rate};
use crate::auth::key_cache::KeyCache;
use crate::auth::key_failures::FailedLookups;
use crate::db::Db;
use crate::db::usage::NewUsageEvent;
use crate::error::{AppError, AppResult};
use crate::plans::{Plan, PlanCatalogue};
use limits::Limiter;
use quotas::{Quotas, Reservation, Seed};

/// Most events kept in memory while the database cannot take them.
pub const MAX_BUFFERED: usize = 500_000;
/// How long an idempotency key is remembered on the hot path (the database
/// remembers it for 36 days after it was recorded: see [`partitions`]). A
/// retry after that (or after the key was evicted) is answered
/// `recorded: true` and takes from the quota again, but the database
/// stores it once and [`Usage::flush`] gives the quota back, so it is
/// counted once.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(86_400);
/// Limits and the usage recorder of one instance; cheap to clone.
#[derive(Clone)]
pub struct Usage {
    inner: Arc<Inner>,
}

struct Inner {
    limiter: Limiter,
    quotas: Quotas,
    /// Who emails the owners about crossed quota thresholds (set by the app).
    alerts: std::sync::OnceLock<crate::mail::Mailer>,
    metrics: catalogue::MetricCatalogue,
    /// Announces committed live usage to every instance (`usageUpdated`).
    live: live::Announcer,
    failed_lookups: FailedLookups,
    /// The same for publishable keys (a budget of its own).
    public_failed_lookups: FailedLookups,
    /// Distinct values of UNIQUE_COUNT metrics seen committed.
    known_distinct: distinct::KnownDistinct,
    /// Idempotency keys seen on the hot path, with their event's fingerprint.
    seen: Cache<(Uuid, Environment, String), i64>,
    buffer: Mutex<Vec<NewUsageEvent>>,
    wake: Notify,
    allowed: AtomicU64,
    refused: AtomicU64,
    rejected: AtomicU64,
}

impl Usage {
    pub fn new(limiter: Limiter) -> Self {
        Self {
            inner: Arc::new(Inner {
                failed_lookups: FailedLookups::new(limiter.clone()),
                public_failed_lookups: FailedLookups::named(limiter.clone(), "pkfail"),
                quotas: Quotas::new(&limiter),
                alerts: std::sync::OnceLock::new(),
                limiter,
                metrics: catalogue::MetricCatalogue::default(),
                live: live::Announcer::default(),
                known_distinct: distinct::KnownDistinct::default(),
                seen: Cache::builder()
                    .max_capacity(1_000_000)
                    .time_to_live(IDEMPOTENCY_TTL)
                    .build(),
                buffer: Mutex::new(Vec::new()),
                wake: Notify::new(),
                allowed: AtomicU64::new(0),
                refused: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
            }),
        }
    }

    /// The metric catalogue (cached, dropped on every announced change).
    pub fn metrics(&self) -> &catalogue::MetricCatalogue {
        &self.inner.metrics
    }

    /// Where committed live usage is announced (see [`live`]).
    pub fn live(&self) -> &live::Announcer {
        &self.inner.live
    }

    /// The failed API-key lookup budgets (in the same counters as the limits).
    pub fn failed_lookups(&self) -> &FailedLookups {
        &self.inner.failed_lookups
    }

    /// The failed publishable-key lookup budgets: apart from the secret
    /// keys' (a hostile page can make its visitors' browsers call made-up
    /// publishable keys without a preflight).
    pub fn public_failed_lookups(&self) -> &FailedLookups {
        &self.inner.public_failed_lookups
    }

    /// Takes one call from the key's limit and then from its tenant's (test
    /// keys have their own tenant bucket, so test traffic never eats into live
    /// capacity).
    pub async fn check_limits(&self, grant: &KeyGrant) -> AppResult<LimitOutcome> {
        let limiter = &self.inner.limiter;
        let key = limiter
            .check(&format!("k:{}", grant.key_id), grant.effective_key_rate())
            .await?;
        if !key.allowed {
            return Ok(LimitOutcome { key, tenant: None });
        }
        let tenant = limiter
            .check(
                &format!("t:{}:{}", grant.tenant_id, grant.environment.as_str()),
                grant.tenant_rate,
            )
            .await?;
        Ok(LimitOutcome {
            key,
            tenant: Some(tenant),
        })
    }

    /// Takes one call from a bucket of its own (the publishable keys' budgets
    /// per key and per client address), in the same counters as the limits.
    pub async fn check_bucket(&self, bucket: &str, rate: Rate) -> AppResult<limits::Decision> {
        self.inner.limiter.check(bucket, rate).await
    }

    /// Emails the owners about crossed quota thresholds through `mailer`
    /// from now on (the first call wins; see [`thresholds`]).
    pub fn alert_with(&self, mailer: crate::mail::Mailer) {
        let _ = self.inner.alerts.set(mailer);
    }

    /// The mailer of the quota threshold emails, once set.
    pub fn alert_mailer(&self) -> Option<&crate::mail::Mailer> {
        self.inner.alerts.get()
    }

    /// The distinct values of UNIQUE_COUNT metrics this instance saw
    /// committed.
    pub fn known_distinct(&self) -> &distinct::KnownDistinct {
        &self.inner.known_distinct
    }

    /// The quota counters.
    pub fn quotas(&self) -> &Quotas {
        &self.inner.quotas
    }

    /// Reserves `quantity` of `metric` (used at `at`) for `tenant` under
    /// `plan`'s monthly quota: `None` when nothing is limited (no quota for
    /// the metric, or a metric that does not add up); QUOTA_EXCEEDED when it
    /// would go past the limit. The caller keeps the reservation once the
    /// usage is recorded (dropped, it is given back).
    pub async fn reserve_quota(
        &self,
        db: &Db,
        plan: &Plan,
        tenant: Uuid,
        metric: &str,
        quantity: i64,
        at: chrono::DateTime<Utc>,
    ) -> AppResult<Option<Reservation>> {
        let Some(limit) = quotas::limit_of(plan, metric) else {
            return Ok(None);
        };
        let catalogue = self.inner.metrics.get(db).await?;
        let aggregation = catalogue
            .iter()
            .find(|m| m.key == metric)
            .and_then(store::Aggregation::of);
        let Some(amount) = quotas::amount(aggregation.as_ref(), quantity) else {
            return Ok(None);
        };
        self.inner
            .quotas
            .reserve(&mut Seed::Db(db), tenant, metric, at, amount, limit)
            .await
            .map(Some)
    }

    /// Whether `quantity` more of `metric` for `tenant` would stay within
    /// `plan`'s monthly quota, without reserving anything (so asking cannot
    /// refuse real traffic nor lose a unit): true when nothing is limited.
    pub async fn quota_allows(
        &self,
        db: &Db,
        plan: &Plan,
        tenant: Uuid,
        metric: &str,
        quantity: i64,
        at: chrono::DateTime<Utc>,
    ) -> AppResult<bool> {
        let Some(limit) = quotas::limit_of(plan, metric) else {
            return Ok(true);
        };
        let catalogue = self.inner.metrics.get(db).await?;
        let aggregation = catalogue
            .iter()
            .find(|m| m.key == metric)
            .and_then(store::Aggregation::of);
        let Some(amount) = quotas::amount(aggregation.as_ref(), quantity) else {
            return Ok(true);
        };
        let used = self.inner.quotas.used(db, tenant, metric, at).await?;
        Ok(used.saturating_add(amount) <= limit)
    }

    /// The one-step check: the key is verified and `limits` taken by the
    /// caller; this checks that a key recording usage holds `usage:write`,
    /// validates the input, checks the plan's monthly quota of the metric
    /// (live keys; QUOTA_EXCEEDED and nothing recorded past it) and records
    /// the usage.
    pub async fn authorize(
        &self,
        db: &Db,
        plans: &PlanCatalogue,
        grant: &KeyGrant,
        limits: &LimitOutcome,
        input: AuthorizeInput,
    ) -> AppResult<Answer> {
        require_recording_scope(grant, &input)?;
        validate(&input)?;
        if let Some(metric) = &input.metric {
            self.require_known_metric(db, metric).await?;
        }
        let binding = limits.binding();
        let now = Utc::now();
        let mut answer = Answer {
            allowed: limits.allowed(),
            refusal: limits.refusal(),
            remaining: binding.remaining,
            reset_at: now + chrono::Duration::from_std(binding.reset_after).unwrap_or_default(),
            retry_after: (!binding.allowed).then_some(binding.retry_after),
            recorded: false,
            duplicate: false,
        };
        let counter = if answer.allowed {
            &self.inner.allowed
        } else {
            &self.inner.refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let Some(metric) = input.metric.filter(|_| answer.allowed) else {
            return Ok(answer);
        };
        // Refuse before marking the idempotency key, so a retry is not
        // mistaken for a duplicate of a call that recorded nothing.
        if self.pending() >= MAX_BUFFERED {
            return Err(AppError::unavailable(
                "usage cannot be recorded right now (the database is behind); try again",
            ));
        }
        let fingerprint = store::fingerprint(&metric, input.quantity, None, None);
        if let Some(idem) = &input.idempotency_key
            && !self.first_use(grant, idem, fingerprint).await?
        {
            answer.duplicate = true;
            return Ok(answer);
        }
        let reservation = match self
            .authorize_quota(db, plans, grant, &metric, input.quantity, now)
            .await
        {
            Ok(reservation) => reservation,
            Err(err) => {
                // Nothing recorded: a retry must not count as a duplicate.
                if let Some(idem) = &input.idempotency_key {
                    self.inner
                        .seen
                        .invalidate(&(grant.tenant_id, grant.environment, idem.clone()));
                }
                return Err(err);
            }
        };
        let event = NewUsageEvent {
            tenant_id: grant.tenant_id,
            metric,
            quantity: input.quantity,
            environment: grant.environment.as_str(),
            api_key_id: Some(grant.key_id),
            idempotency_key: input.idempotency_key,
            properties: serde_json::Value::Object(Default::default()),
            occurred_at: now,
            fingerprint,
            held: reservation.as_ref().map_or(0, Reservation::amount),
            quota: reservation.as_ref().and_then(Reservation::mark),
        };
        let pending = {
            let mut buffer = self
                .inner
                .buffer
                .lock()
                .map_err(|_| AppError::internal(anyhow::anyhow!("usage buffer poisoned")))?;
            buffer.push(event);
            buffer.len()
        };
        if pending >= 1000 {
            self.inner.wake.notify_one();
        }
        if let Some(reservation) = reservation {
            reservation.keep();
        }
        answer.recorded = true;
        Ok(answer)
    }

    /// BAD_USER_INPUT (field `metric`) unless the catalogue has `metric`
    /// (read from the in-process copy: no SQL while it is current).
    pub async fn require_known_metric(&self, db: &Db, metric: &str) -> AppResult<()> {
        let catalogue = self.inner.metrics.get(db).await?;
        if catalogue.iter().any(|m| m.key == metric) {
            return Ok(());
        }
        Err(AppError::bad_field(
            "metric",
            format!("no metric has the key {metric}: see the `metrics` query"),
        ))
    }

    /// [`Usage::reserve_quota`] for a key's call (test keys: nothing).
    async fn authorize_quota(
        &self,
        db: &Db,
        plans: &PlanCatalogue,
        grant: &KeyGrant,
        metric: &str,
        quantity: i64,
        now: chrono::DateTime<Utc>,
    ) -> AppResult<Option<Reservation>> {
        if grant.environment != Environment::Live {
            return Ok(None);
        }
        let Some(plan) = plans.plan(db, &grant.plan_key).await? else {
            return Ok(None);
        };
        self.reserve_quota(db, &plan, grant.tenant_id, metric, quantity, now)
            .await
    }

    /// Whether this idempotency key is new for the key's tenant and
    /// environment. It is a duplicate when this process has it (recorded in
    /// its buffer or written) or, with Redis, when any instance has written it
    /// (marks are set in Redis only once the event is in the database, so an
    /// event lost with a crashed instance is never answered as a duplicate).
    ///
    /// A key seen with another fingerprint (another metric or quantity) is
    /// CONFLICT: the key was used for something else.
    async fn first_use(&self, grant: &KeyGrant, idem: &str, fingerprint: i64) -> AppResult<bool> {
        let key = (grant.tenant_id, grant.environment, idem.to_owned());
        let entry = self.inner.seen.entry(key.clone()).or_insert(fingerprint);
        if !entry.is_fresh() {
            return match store::same_content(Some(*entry.value()), fingerprint) {
                store::Stored::KeyReused => Err(key_reused()),
                _ => Ok(false),
            };
        }
        if let Limiter::Redis(redis) = &self.inner.limiter {
            let stored = redis.marked(&shared_key(&key)).await;
            if !matches!(stored, Ok(None)) {
                // Not recorded by this call: a retry must not count as a duplicate.
                self.inner.seen.invalidate(&key);
            }
            return match stored? {
                None => Ok(true),
                Some(print) => match store::same_content(print, fingerprint) {
                    store::Stored::KeyReused => Err(key_reused()),
                    _ => Ok(false),
                },
            };
        }
        Ok(true)
    }

    /// Forgets that this process saw `event`'s idempotency key (it will
    /// never be written), so a corrected retry is recorded.
    fn forget(&self, event: &NewUsageEvent) {
        if let (Some(idem), Some(env)) = (
            &event.idempotency_key,
            Environment::parse(event.environment),
        ) {
            self.inner
                .seen
                .invalidate(&(event.tenant_id, env, idem.clone()));
        }
    }

    /// Marks the idempotency keys of events now in the database as seen by
    /// every instance. A failure costs only cross-instance duplicate answers
    /// (the database's unique index still stores each event once).
    async fn mark_stored(&self, events: &[NewUsageEvent]) {
        let Limiter::Redis(redis) = &self.inner.limiter else {
            return;
        };
        let keys: Vec<(String, i64)> = events
            .iter()
            .filter_map(|e| {
                let env = Environment::parse(e.environment)?;
                let idem = e.idempotency_key.clone()?;
                Some((shared_key(&(e.tenant_id, env, idem)), e.fingerprint))
            })
            .collect();
        if keys.is_empty() {
            return;
        }
        if let Err(err) = redis.mark(&keys, IDEMPOTENCY_TTL).await {
            tracing::warn!(error = %err, events = keys.len(), "idempotency marks not shared; the database still stores each event once");
        }
    }

    /// (allowed, refused) `authorize` answers so far.
    pub fn decisions(&self) -> (u64, u64) {
        (
            self.inner.allowed.load(Ordering::Relaxed),
            self.inner.refused.load(Ordering::Relaxed),
        )
    }

    /// Events set aside because the database refused them (see [`Usage::flush`]).
    pub fn rejected(&self) -> u64 {
        self.inner.rejected.load(Ordering::Relaxed)
    }

    /// Whether Redis answers, when counters live there (for `/readyz`).
    pub async fn redis_status(&self) -> Option<Result<(), String>> {
        match &self.inner.limiter {
            Limiter::Redis(redis) => Some(redis.ping().await),
            Limiter::Local(_) => None,
        }
    }

    /// How many events wait to be written.
    pub fn pending(&self) -> usize {
        self.inner.buffer.lock().map(|b| b.len()).unwrap_or(0)
    }

    /// Writes buffered usage and key last-use times in the background until
    /// `stop` is cancelled; then flushes once more.
    pub fn start_flusher(&self, db: Db, keys: KeyCache, stop: Stop) -> tokio::task::JoinHandle<()> {
        let usage = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut ticks: u64 = 0;
            let mut upkeep = tokio::time::interval(Duration::from_secs(86_400));
            upkeep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    // At start and daily: partitions ahead, old ones dropped.
                    _ = upkeep.tick() => {
                        match partitions::maintain(&db, Utc::now()).await {
                            Ok(done) if done.deferred.is_empty() => {}
                            // A step gave way to ingest (or to another instance).
                            Ok(_) => upkeep.reset_after(Duration::from_secs(60)),
                            Err(err) => {
                                tracing::warn!(error = %err, "usage partitions not maintained; retrying in a minute");
                                upkeep.reset_after(Duration::from_secs(60));
                            }
                        }
                        continue;
                    }
                    () = usage.inner.wake.notified() => {}
                    () = stop.stopped() => break,
                }
                ticks += 1;
                if let Err(err) = usage.flush(&db).await {
                    tracing::warn!(error = %err, pending = usage.pending(), "usage not written yet; will retry");
                }
                if ticks.is_multiple_of(20)
                    && let Err(err) = keys.flush_last_used(&db).await
                {
                    tracing::warn!(error = %err, "key last-use times not written yet; will retry");
                }
            }
            if let Err(err) = usage.flush(&db).await {
                tracing::error!(error = %err, pending = usage.pending(), "usage lost at shutdown");
            }
            let _ = keys.flush_last_used(&db).await;
        })
    }
}

/// CONFLICT for an idempotency key reused with other content.
fn key_reused() -> AppError {
    AppError::conflict(
        "IDEMPOTENCY_KEY_REUSED: this idempotency key was used for another metric or quantity; \
         a retry must send the same call, a new call a new key",
    )
}

/// The Redis name of an idempotency key.
fn shared_key((tenant, environment, idem): &(Uuid, Environment, String)) -> String {
    format!("{tenant}:{}:{idem}", environment.as_str())
}

/// Stops background tasks that hold a clone of it.
#[derive(Clone)]
pub struct Stop(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Stop {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::watch::channel(false).0))
    }
}

impl Stop {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }

    /// Whether [`Self::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    pub async fn stopped(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}
