//! The delivery worker, on every instance: claims due deliveries
//! (`tg_webhook_claim`: FOR UPDATE SKIP LOCKED and a 60 s lease, so each
//! attempt is made by one instance), makes each attempt in a task of its own
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
use crate::db::webhook_deliveries::{self as deliveries, Claimed, Delivery, NewAttempt};
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

/// What the worker loaded for one attempt.
struct Job {
    delivery: Delivery,
    endpoint: Endpoint,
    secrets: Vec<Secret>,
}

impl Webhooks {
    /// Claims up to `n` due deliveries and keeps those this instance may
    /// start now (per-endpoint cap); the others are given back, due in 1 s.
    async fn claim(&self, lease: Uuid, n: usize) -> AppResult<Vec<(Claimed, InFlight)>> {
        let now = self.clock().now();
        let n = i32::try_from(n.clamp(1, 500)).unwrap_or(500);
        let cap = self.settings().per_endpoint.max(1);
        let busy: Vec<Uuid> = {
            let in_flight = self.0.in_flight.lock().expect("in-flight map");
            in_flight
                .iter()
                .filter(|(_, n)| **n >= cap)
                .map(|(id, _)| *id)
                .collect()
        };
        let per_endpoint = i32::try_from(cap).unwrap_or(i32::MAX);
        let claimed = self
            .0
            .db
            .scoped(Scope::anonymous(), |conn| {
                async move {
                    let batch = (n, now, LEASE_SECS);
                    Ok(deliveries::claim(conn, lease, batch, per_endpoint, &busy).await?)
                }
                .scope_boxed()
            })
            .await?;
        let (mut keep, mut give_back) = (Vec::new(), Vec::new());
        {
            let mut in_flight = self.0.in_flight.lock().expect("in-flight map");
            for c in claimed {
                let count = in_flight.entry(c.endpoint_id).or_default();
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
            let at = now + chrono::Duration::seconds(1);
            self.0
                .db
                .scoped(Scope::tenant(c.tenant_id), |conn| {
                    async move { Ok(deliveries::release(conn, lease, c.id, at).await?) }
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
            if let Some(n) = in_flight.get_mut(&endpoint) {
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

    /// Starts the worker loop of this instance.
    pub fn start_worker(&self, stop: Stop) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move { this.work(stop).await })
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
        let result = self.attempt_inner(lease, &c).await;
        drop(slot);
        result
    }

    async fn attempt_inner(&self, lease: Uuid, c: &Claimed) -> AppResult<bool> {
        let Some(job) = self.load(lease, c).await? else {
            return Ok(false);
        };
        let attempted_at = self.clock().now();
        let outcome = deliver::attempt(
            &self.0.client,
            &job.endpoint.url,
            self.settings().allow_loopback,
            &job.secrets,
            &job.delivery,
        )
        .await;
        self.record(lease, &job, attempted_at, outcome).await
    }

    async fn load(&self, lease: Uuid, c: &Claimed) -> AppResult<Option<Job>> {
        let (tenant, id, endpoint) = (c.tenant_id, c.id, c.endpoint_id);
        let found = self
            .0
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move {
                    let d = deliveries::find(conn, tenant, id).await?;
                    let e = rows::find(conn, tenant, endpoint).await?;
                    Ok((d, e))
                }
                .scope_boxed()
            })
            .await?;
        let (Some(delivery), Some(endpoint)) = found else {
            return Ok(None);
        };
        if delivery.leased_by != Some(lease) || delivery.status != "pending" {
            return Ok(None);
        }
        if !endpoint.enabled {
            // Disabled while this was pending (or by a path that left it
            // so): canceled, not claimed again every lease forever.
            let at = self.clock().now();
            self.0
                .db
                .scoped(Scope::tenant(tenant), |conn| {
                    async move { Ok(rows::cancel_pending(conn, endpoint.id, at).await?) }
                        .scope_boxed()
                })
                .await?;
            return Ok(None);
        }
        let now = self.clock().now();
        let mut secrets = Vec::with_capacity(2);
        match self.0.secrets.open(endpoint.id, &endpoint.secret_sealed) {
            Some(s) => secrets.push(s),
            None => {
                tracing::error!(endpoint = %endpoint.id, "webhook secret cannot be opened with this server's keys")
            }
        }
        if let (Some(sealed), Some(until)) = (
            &endpoint.previous_secret_sealed,
            endpoint.previous_secret_expires_at,
        ) && until > now
            && let Some(s) = self.0.secrets.open(endpoint.id, sealed)
        {
            secrets.push(s);
        }
        Ok(Some(Job {
            delivery,
            endpoint,
            secrets,
        }))
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
        let (status, next) = if outcome.succeeded() {
            ("succeeded", None)
        } else if outcome.gone() {
            ("failed", None)
        } else {
            match deliver::next_attempt(attempts, attempted_at, outcome.retry_after) {
                Some(at) => ("pending", Some(at)),
                None => ("failed", None),
            }
        };
        let mailer = self.0.mailer.clone();
        let delivery_id = d.id;
        let was_failing = job.endpoint.failing_since.is_some();
        let recorded = self
            .0
            .db
            .scoped(Scope::tenant(tenant), |conn| {
                async move {
                    let attempt = NewAttempt {
                        id: Uuid::now_v7(),
                        tenant_id: tenant,
                        delivery_id,
                        attempted_at,
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
                    if !deliveries::record(conn, lease, &attempt, status, next).await? {
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
                        disable_endpoint(conn, &mailer, &endpoint, &reason, attempted_at).await?;
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
    at: DateTime<Utc>,
) -> AppResult<()> {
    let changes = Changes {
        enabled: Some(false),
        disabled_reason: Some(Some(reason.to_owned())),
        disabled_at: Some(Some(at)),
        updated_at: Some(Utc::now()),
        ..Changes::default()
    };
    let after = rows::update(conn, endpoint.id, &changes).await?;
    rows::cancel_pending(conn, endpoint.id, at).await?;
    let meta = RequestMeta {
        request_id: format!("webhooks-{}", Uuid::now_v7()),
        ip: None,
        user_agent: None,
        bound_tenant: None,
    };
    audit::record(
        conn,
        &meta,
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
