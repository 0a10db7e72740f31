//! Writing `authorize`'s buffered usage: one transaction per tenant and
//! chunk, a refused batch retried row by row, and what the database found
//! already stored given back to the quota.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::{Usage, store, thresholds};
use crate::auth::api_keys::Environment;
use crate::db::Db;
use crate::db::usage::NewUsageEvent;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

impl Usage {
    /// Writes the buffered events: one transaction per tenant. Events that
    /// cannot be written for now (the database is unavailable) go back to the
    /// buffer: nothing is dropped. A batch the database refuses for its data
    /// is written again row by row, so one bad row cannot hold back the
    /// others: each row it still refuses is set aside (logged with its error,
    /// counted in `/metrics` as `tenantgate_usage_events_rejected`, its
    /// idempotency key forgotten) and every other row is written.
    pub async fn flush(&self, db: &Db) -> AppResult<usize> {
        let taken = match self.inner.buffer.lock() {
            Ok(mut buffer) => std::mem::take(&mut *buffer),
            Err(_) => return Ok(0),
        };
        if taken.is_empty() {
            return Ok(0);
        }
        let mut by_tenant: HashMap<Uuid, Vec<NewUsageEvent>> = HashMap::new();
        for event in taken {
            by_tenant.entry(event.tenant_id).or_default().push(event);
        }
        let (mut written, mut failure, mut unwritten) = (0, None, Vec::new());
        // At most FLUSH_CHUNK events per transaction: a large backlog never
        // holds a tenant's rollup rows (and its recordUsage calls) for long.
        let chunks = by_tenant.into_iter().flat_map(|(tenant, events)| {
            let mut chunks = Vec::new();
            let mut events = events;
            while events.len() > FLUSH_CHUNK {
                let rest = events.split_off(FLUSH_CHUNK);
                chunks.push((tenant, events));
                events = rest;
            }
            chunks.push((tenant, events));
            chunks
        });
        for (tenant, events) in chunks {
            match insert(db, self, tenant, &events).await {
                Ok(outcome) => {
                    written += self.settle(&events, &outcome);
                    if outcome.contains(&store::Stored::KeyReused) {
                        // A reused key keeps the fingerprint it was stored with.
                        let kept: Vec<NewUsageEvent> = events
                            .iter()
                            .zip(&outcome)
                            .filter(|(_, s)| **s != store::Stored::KeyReused)
                            .map(|(e, _)| e.clone())
                            .collect();
                        self.mark_stored(&kept).await;
                    } else {
                        self.mark_stored(&events).await;
                    }
                }
                Err((err @ AppError::Unavailable(_), committing)) => {
                    unwritten.extend(unsettled(events, committing));
                    failure = Some(err);
                }
                Err((err, _)) => {
                    tracing::warn!(tenant.id = %tenant, error = %err, events = events.len(), "usage batch refused; writing its rows one by one");
                    for event in events {
                        let one = std::slice::from_ref(&event);
                        match insert(db, self, tenant, one).await {
                            Ok(outcome) => {
                                written += self.settle(one, &outcome);
                                if !outcome.contains(&store::Stored::KeyReused) {
                                    self.mark_stored(one).await;
                                }
                            }
                            Err((err @ AppError::Unavailable(_), committing)) => {
                                unwritten.extend(unsettled(vec![event], committing));
                                failure = Some(err);
                            }
                            Err((err, _)) => self.set_aside(&event, &err),
                        }
                    }
                }
            }
        }
        if !unwritten.is_empty()
            && let Ok(mut buffer) = self.inner.buffer.lock()
        {
            unwritten.append(&mut buffer);
            *buffer = unwritten;
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(written),
        }
    }

    /// After a batch is stored: how many of `events` were new. An event the
    /// database found stored before (a retry that came after this
    /// process's memory of its key, or a key reused for other content)
    /// gives back what `authorize` took from the monthly quota for it, so
    /// the quota counts it once; a reused key is logged and its event is
    /// not written.
    fn settle(&self, events: &[NewUsageEvent], outcome: &[store::Stored]) -> usize {
        let mut new = 0;
        for (event, stored) in events.iter().zip(outcome) {
            if *stored == store::Stored::Recorded {
                new += 1;
                continue;
            }
            if event.held > 0 {
                self.inner.quotas.release(
                    event.tenant_id,
                    &event.metric,
                    event.occurred_at,
                    event.held,
                );
            }
            if *stored == store::Stored::KeyReused {
                tracing::warn!(tenant.id = %event.tenant_id, idempotency_key = ?event.idempotency_key, "authorize event not written: its idempotency key was recorded with other content");
            }
        }
        new
    }

    /// A row the database will not take: logged with its error (its fields
    /// escaped), counted, its idempotency key forgotten.
    fn set_aside(&self, event: &NewUsageEvent, err: &AppError) {
        self.inner.rejected.fetch_add(1, Ordering::Relaxed);
        self.forget(event);
        let cause = match err {
            AppError::Internal(cause) => format!("{cause:#}"),
            other => other.to_string(),
        };
        tracing::error!(
            tenant.id = %event.tenant_id,
            metric = %event.metric.escape_debug(),
            quantity = event.quantity,
            idempotency_key = ?event.idempotency_key,
            error = %cause,
            "usage event set aside: the database refused it"
        );
    }
}

/// Most buffered events written in one transaction.
const FLUSH_CHUNK: usize = 5_000;

/// Events going back to the buffer after a failed write. When the failure
/// came at COMMIT (`committing`: the outcome is unknown, the rows may be
/// stored), they give nothing back to the quota any more: the retry may
/// find them stored by this very write, and what they took was used. At
/// worst (the commit did fail) the quota counts them twice until the
/// counter is read again from the rollups; never less than was stored.
fn unsettled(events: Vec<NewUsageEvent>, committing: bool) -> Vec<NewUsageEvent> {
    if !committing {
        return events;
    }
    events
        .into_iter()
        .map(|event| NewUsageEvent { held: 0, ..event })
        .collect()
}

/// Stores `events` of `tenant` in one transaction (raw events, idempotency
/// keys and rollups together); what became of each. A metric missing from
/// the catalogue is summed. The quota thresholds the new events crossed are
/// announced in the same transaction ([`thresholds`]). New live usage is
/// announced to every instance (`usageUpdated`). An error comes with whether it came at COMMIT (the
/// outcome unknown).
async fn insert(
    db: &Db,
    usage: &Usage,
    tenant: Uuid,
    events: &[NewUsageEvent],
) -> Result<Vec<store::Stored>, (AppError, bool)> {
    let committing = std::sync::atomic::AtomicBool::new(false);
    let committing_ref = &committing;
    let (stored, live) = db
        .scoped(Scope::tenant(tenant), |conn| {
            async move {
                let rules = store::rules(conn, events.iter().map(|e| e.metric.as_str())).await?;
                // One write for the whole transaction: its rows are locked in one
                // sorted order, so it cannot deadlock with a concurrent batch.
                let stored = store::write(conn, tenant, events, &rules).await?;
                // The thresholds the new events crossed, announced with them.
                thresholds::record_crossed(conn, usage.alert_mailer(), tenant, events, &stored)
                    .await?;
                let live = events.iter().zip(&stored).any(|(e, s)| {
                    *s == store::Stored::Recorded && e.environment == Environment::Live.as_str()
                });
                committing_ref.store(true, Ordering::SeqCst);
                Ok((stored, live))
            }
            .scope_boxed()
        })
        .await
        .map_err(|err| (err, committing.load(Ordering::SeqCst)))?;
    if live {
        usage.inner.live.committed(db, tenant);
    }
    Ok(stored)
}
