//! The delivery worker, on every instance: claims due deliveries
//! (`tg_webhook_claim`: FOR UPDATE SKIP LOCKED and a 60 s lease on the
//! database's clock, so each attempt is made by one instance; round-robin
//! across tenants; each delivery returned with its endpoint's URL and sealed
//! secrets and its message), makes each attempt in a task of its own
//! holding one of the instance's slots (at most `per_endpoint` of them to one
//! endpoint, so a slow receiver never holds them all), and records it in the
//! delivery's tenant scope, if the lease is still its own: the next attempt
//! on the schedule, success, or the end. A 410 disables the endpoint at
//! once; failing for 5 days does too; the owners are emailed either way.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::deliver::{self, Outcome};
use super::secret::Secret;
use super::service::Webhooks;
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::webhook_deliveries::{self as deliveries, Claimed, NewAttempt, Next};
use crate::db::webhook_endpoints::{self as rows, Changes, Endpoint};
use crate::error::AppResult;
use crate::mail::Mail;
use crate::tenancy::Scope;
use crate::usage::Stop;

/// How long a claim holds a delivery (longer than an attempt's deadline).
const LEASE_SECS: i32 = 60;
/// How long an endpoint may fail before it is disabled.
pub const FAILING_LIMIT: chrono::Duration = chrono::Duration::days(5);
/// How often an idle worker looks for due deliveries (emitted events do not
/// wake it: they are written by other code, maybe on another instance).
const POLL: Duration = Duration::from_secs(1);

/// A kept claim's place in this instance's in-flight count of its
/// endpoint: given back when dropped, however the attempt ends (recorded,
/// failed to record, its task panicked or was aborted, or the claim's
/// give-backs failed before it started).
struct InFlight {
    hooks: Webhooks,
    endpoint: Uuid,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.hooks.done(self.endpoint);
    }
}

/// What the worker has for one attempt: the claimed delivery and its
/// opened secrets.
struct Job {
    delivery: Claimed,
    secrets: Vec<Secret>,
}

impl Webhooks {
    /// Claims up to `n` due deliveries and keeps those this instance may
    /// start now (per-endpoint cap); the others are given back, due in 1 s.
    async fn claim(&self, lease: Uuid, n: usize) -> AppResult<Vec<(Claimed, InFlight)>> {
        let skew = self.clock().skew_ms();
        let n = i32::try_from(n.clamp(1, 500)).unwrap_or(500);
        let cap = self.settings().per_endpoint.max(1);
        // Endpoints at their cap here, and each tenant's attempts in flight
        // here (the claim ranks a busy tenant's deliveries after others').
        let (busy, loads) = {
            let in_flight = self.0.in_flight.lock().expect("in-flight map");
            let busy: Vec<Uuid> = in_flight
                .iter()
                .filter(|(_, (_, n))| *n >= cap)
                .map(|(id, _)| *id)
                .collect();
            let mut loads: std::collections::HashMap<Uuid, i32> = Default::default();
            for (tenant, n) in in_flight.values() {
                *loads.entry(*tenant).or_default() += i32::try_from(*n).unwrap_or(i32::MAX);
            }
            (busy, loads.into_iter().collect::<Vec<_>>())
        };
        let per_endpoint = i32::try_from(cap).unwrap_or(i32::MAX);
        let claimed = self
            .0
            .db
            .scoped(Scope::webhook_worker(), |conn| {
                async move {
                    let batch = (n, skew, LEASE_SECS);
                    let load = (busy.as_slice(), loads.as_slice());
                    Ok(deliveries::claim(conn, lease, batch, per_endpoint, load).await?)
                }
                .scope_boxed()
            })
            .await?;
        let (mut keep, mut give_back) = (Vec::new(), Vec::new());
        {
            let mut in_flight = self.0.in_flight.lock().expect("in-flight map");
            for c in claimed {
                let (_, count) = in_flight.entry(c.endpoint_id).or_insert((c.tenant_id, 0));
                if *count < cap {
                    *count += 1;
                    let slot = InFlight {
                        hooks: self.clone(),
                        endpoint: c.endpoint_id,
                    };
                    keep.push((c, slot));
                } else {
                    give_back.push(c);
                }
            }
        }
        for c in give_back {
            self.0
                .db
                .scoped(Scope::tenant(c.tenant_id), |conn| {
                    async move { Ok(deliveries::release(conn, lease, c.id, skew).await?) }
                        .scope_boxed()
                })
                .await?;
        }
        Ok(keep)
    }

    /// An attempt to `endpoint` ended: its slot is free, and the loop may
    /// claim again (the endpoint may have been at its cap).
    fn done(&self, endpoint: Uuid) {
        {
            let mut in_flight = self.0.in_flight.lock().expect("in-flight map");
            if let Some((_, n)) = in_flight.get_mut(&endpoint) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    in_flight.remove(&endpoint);
                }
            }
        }
        self.0.wake.notify_one();
    }

    /// One pass, waited for: claims what is due at the worker's clock (up
    /// to the instance's slots), makes those attempts and records them.
    /// Returns how many attempts were made. Tests drive delivery with it.
    pub async fn run_once(&self) -> AppResult<usize> {
        let lease = Uuid::now_v7();
        let claimed = self.claim(lease, self.settings().concurrency).await?;
        let mut tasks = tokio::task::JoinSet::new();
        for (c, slot) in claimed {
            let this = self.clone();
            tasks.spawn(async move { this.attempt(lease, c, slot).await });
        }
        let mut made = 0;
        while let Some(done) = tasks.join_next().await {
            if matches!(done, Ok(Ok(true))) {
                made += 1;
            }
        }
        Ok(made)
    }

    /// Starts the worker loop of this instance (and its upkeep: retention
    /// and the drops' reports, ended with it).
    pub fn start_worker(&self, stop: Stop) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let upkeep = tokio::spawn(this.clone().keep_up(stop.clone()));
            this.work(stop).await;
            let _ = upkeep.await;
        })
    }

    async fn work(self, stop: Stop) {
        let slots: Arc<tokio::sync::Semaphore> = self.0.slots.clone();
        loop {
            if stop.is_stopped() {
                break;
            }
            let free = slots.available_permits();
            if free == 0 {
                tokio::select! {
                    permit = slots.acquire() => drop(permit),
                    _ = stop.stopped() => break,
                }
                continue;
            }
            let lease = Uuid::now_v7();
            let claimed = match self.claim(lease, free.min(100)).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook claim failed");
                    tokio::select! {
                        _ = tokio::time::sleep(POLL) => {},
                        _ = stop.stopped() => break,
                    }
                    continue;
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = self.0.wake.notified() => {},
                    _ = tokio::time::sleep(POLL) => {},
                    _ = stop.stopped() => break,
                }
                continue;
            }
            for (c, slot) in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let this = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = this.attempt(lease, c, slot).await {
                        tracing::warn!(error = %e, "webhook attempt failed to record");
                    }
                    drop(permit);
                });
            }
        }
        // Let attempts in flight finish (at most their deadline).
        let all = u32::try_from(self.settings().concurrency.max(1)).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(
            self.settings().timeout + Duration::from_secs(5),
            slots.acquire_many(all),
        )
        .await;
    }

    /// Makes and records one attempt of a claimed delivery. `Ok(false)`:
    /// nothing to do (gone, disabled, or taken over).
    async fn attempt(&self, lease: Uuid, c: Claimed, slot: InFlight) -> AppResult<bool> {
        let result = self.attempt_inner(lease, c).await;
        drop(slot);
        result
    }

    async fn attempt_inner(&self, lease: Uuid, c: Claimed) -> AppResult<bool> {
        let Some(job) = self.load(c).await? else {
            return Ok(false);
        };
        let attempted_at = self.clock().now();
        let outcome = deliver::attempt(
            &self.0.client,
            &job.delivery.url,
            self.settings().allow_loopback,
            &job.secrets,
            &job.delivery,
        )
        .await;
        self.record(lease, &job, attempted_at, outcome).await
    }

    /// Opens the claimed delivery's secrets (re-sealing under the current
    /// key any opened with the previous one); `None` when its endpoint was
    /// disabled meanwhile (its pending deliveries are then canceled).
    async fn load(&self, c: Claimed) -> AppResult<Option<Job>> {
        if !c.enabled {
            // Disabled while this was pending (or by a path that left it
            // so): canceled, not claimed again every lease forever.
            let (tenant, endpoint, skew) = (c.tenant_id, c.endpoint_id, self.clock().skew_ms());
            self.0
                .db
                .scoped(Scope::tenant(tenant), |conn| {
                    async move { Ok(rows::cancel_pending(conn, endpoint, skew).await?) }
                        .scope_boxed()
                })
                .await?;
            return Ok(None);
        }
        let now = self.clock().now();
        let mut secrets = Vec::with_capacity(2);
        let mut stale = Vec::new();
        match self.0.secrets.open(c.endpoint_id, &c.secret_sealed) {
            Some((s, current)) => {
                if !current {
                    stale.push((false, c.secret_sealed.clone(), s.clone()));
                }
                secrets.push(s);
            }
            None => {
                tracing::error!(endpoint = %c.endpoint_id, "webhook secret cannot be opened with this server's keys")
            }
        }
        if let (Some(sealed), Some(until)) =
            (&c.previous_secret_sealed, c.previous_secret_expires_at)
            && until > now
            && let Some((s, current)) = self.0.secrets.open(c.endpoint_id, sealed)
        {
            if !current {
                stale.push((true, sealed.clone(), s.clone()));
            }
            secrets.push(s);
        }
        if !stale.is_empty() {
            self.reseal(c.tenant_id, c.endpoint_id, stale).await?;
        }
        Ok(Some(Job {
            delivery: c,
            secrets,
        }))
    }

    /// Seals again, under the current key, secrets that opened only with
    /// the previous one (the server's signing secret was rotated), so they
    /// still open once the previous key is dropped. A rotation of the
    /// endpoint's secret since the claim wins (nothing is overwritten).
    async fn reseal(
        &self,
        tenant: Uuid,
        endpoint: Uuid,
        stale: Vec<(bool, Vec<u8>, Secret)>,
    ) -> AppResult<()> {
        let resealed: Vec<(bool, Vec<u8>, Vec<u8>)> = stale
            .into_iter()
            .map(|(previous, was, s)| (previous, was, self.0.secrets.seal(endpoint, &s)))
            .collect();
        self.0
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move {
                    for (previous, was, now) in &resealed {
                        rows::reseal(conn, endpoint, *previous, was, now).await?;
                    }
                    Ok(())
                }
                .scope_boxed()
            })
            .await?;
        tracing::info!(endpoint = %endpoint, "webhook secret re-sealed under the current key");
        Ok(())
    }

    async fn record(
        &self,
        lease: Uuid,
        job: &Job,
        attempted_at: DateTime<Utc>,
        outcome: Outcome,
    ) -> AppResult<bool> {
        let d = &job.delivery;
        let (tenant, endpoint_id) = (d.tenant_id, d.endpoint_id);
        let attempts = d.attempt_count + 1;
        let next = if outcome.succeeded() {
            Next::Succeeded
        } else if outcome.gone() {
            Next::Failed
        } else {
            match deliver::next_attempt(attempts, attempted_at, outcome.retry_after) {
                Some(at) => Next::Retry {
                    delay_ms: (at - attempted_at).num_milliseconds(),
                    skew_ms: self.clock().skew_ms(),
                },
                None => Next::Failed,
            }
        };
        let mailer = self.0.mailer.clone();
        let skew = self.clock().skew_ms();
        let delivery_id = d.id;
        let was_failing = d.failing_since.is_some();
        let recorded = self
            .0
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move {
                    let attempt = NewAttempt {
                        id: Uuid::now_v7(),
                        tenant_id: tenant,
                        delivery_id,
                        status_code: outcome.status.map(i32::from),
                        latency_ms: i32::try_from(outcome.latency.as_millis()).unwrap_or(i32::MAX),
                        response_excerpt: outcome.excerpt.as_deref(),
                        error: outcome.error.as_deref(),
                    };
                    // The endpoint is locked first, as updates and deletes
                    // of endpoints lock it before touching its deliveries
                    // (the other order deadlocks with them). The common case, a
                    // success of an endpoint that was not failing, changes
                    // nothing of the endpoint and locks nothing of it.
                    let endpoint = if outcome.succeeded() && !was_failing {
                        None
                    } else {
                        rows::find_for_update(conn, tenant, endpoint_id).await?
                    };
                    if !deliveries::record(conn, lease, &attempt, next, skew).await? {
                        return Ok(false);
                    }
                    let Some(endpoint) = endpoint else {
                        return Ok(true);
                    };
                    let disable = if outcome.not_sent {
                        // This server's fault, not the receiver's: no
                        // failing_since, no disabling.
                        None
                    } else if outcome.succeeded() {
                        if endpoint.failing_since.is_some() {
                            let clear = Changes {
                                failing_since: Some(None),
                                ..Changes::default()
                            };
                            rows::update(conn, endpoint.id, &clear).await?;
                        }
                        None
                    } else if outcome.gone() {
                        Some("the receiver answered 410 Gone".to_owned())
                    } else {
                        let since = endpoint.failing_since.unwrap_or(attempted_at);
                        if endpoint.failing_since.is_none() {
                            let mark = Changes {
                                failing_since: Some(Some(attempted_at)),
                                ..Changes::default()
                            };
                            rows::update(conn, endpoint.id, &mark).await?;
                        }
                        (attempted_at - since >= FAILING_LIMIT)
                            .then(|| "every delivery failed for 5 days".to_owned())
                    };
                    if let Some(reason) = disable
                        && endpoint.enabled
                    {
                        disable_endpoint(conn, &mailer, &endpoint, &reason, (attempted_at, skew))
                            .await?;
                    }
                    Ok(true)
                }
                .scope_boxed()
            })
            .await?;
        Ok(recorded)
    }
}

/// Disables `endpoint` (its pending deliveries canceled), audits it as the
/// system, and emails the tenant's owners.
async fn disable_endpoint(
    conn: &mut diesel_async::AsyncPgConnection,
    mailer: &crate::mail::Mailer,
    endpoint: &Endpoint,
    reason: &str,
    (at, skew_ms): (DateTime<Utc>, i64),
) -> AppResult<()> {
    let changes = Changes {
        enabled: Some(false),
        disabled_reason: Some(Some(reason.to_owned())),
        disabled_at: Some(Some(at)),
        updated_at: Some(Utc::now()),
        ..Changes::default()
    };
    let after = rows::update(conn, endpoint.id, &changes).await?;
    rows::cancel_pending(conn, endpoint.id, skew_ms).await?;
    audit::record(
        conn,
        &system_meta(),
        Entry::new(
            Some(endpoint.tenant_id),
            Actor::System,
            "webhook_endpoint.disable",
        )
        .target("webhook_endpoint", endpoint.id)
        .change(
            Some(super::endpoints::summary(endpoint)),
            Some(super::endpoints::summary(&after)),
        ),
    )
    .await?;
    let owners = crate::db::usage::owner_emails(conn, endpoint.tenant_id).await?;
    let subject = "A webhook endpoint was disabled".to_owned();
    for to in owners {
        mailer
            .queue(
                conn,
                Mail {
                    to,
                    subject: subject.clone(),
                    body: format!(
                        "Your webhook endpoint {} was disabled: {reason}. Events are no longer \
                         sent to it. Fix the receiver, then enable it again in the portal \
                         (Webhooks) or with updateWebhookEndpoint.\n\n{}\n",
                        endpoint.url, mailer.public_url
                    ),
                },
            )
            .await?;
    }
    Ok(())
}

/// The request metadata of what the worker and the upkeep audit as the
/// system (no address, no agent; a request id of their own).
pub(super) fn system_meta() -> RequestMeta {
    RequestMeta {
        request_id: format!("webhooks-{}", Uuid::now_v7()),
        ip: None,
        user_agent: None,
        bound_tenant: None,
    }
}
