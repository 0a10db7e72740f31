//! Quota thresholds: when a tenant's use of a metric reaches 80, 90 or
//! 100 % of its monthly quota, an audit entry (`quota.threshold`), a
//! `usage.threshold_reached` webhook event and an email to every owner are
//! written, once per month and threshold. They are written in the
//! transaction that stores the usage (the `recordUsage` batch, or the flush
//! of `authorize`'s buffer), and decided there from what is STORED: after
//! the rollups are written, one statement reads the month's stored total of
//! each limited metric the batch recorded and inserts a `quota_alerts` row
//! (tenant, metric, month, threshold) for every threshold already reached,
//! in (metric, month, threshold) order, ON CONFLICT DO NOTHING. A row that
//! was inserted is announced. So a rolled-back write announces nothing; a
//! write retried after a failed or unknown COMMIT, or a batch whose events
//! turned out duplicates, announces exactly what the stored total reached;
//! a concurrent crossing on another instance waits for the first one's
//! commit and then writes nothing; the event's id is derived from the same
//! four values (`emit_once`), so a retried write cannot send it twice.
//!
//! The announcement runs in a savepoint: if it fails (say the mail cannot
//! be queued), it is rolled back alone, logged, and the usage is still
//! stored. The `quota_alerts` rows roll back with it, so the next stored
//! usage of that metric in the month announces the threshold then.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::usage::{NewUsageEvent, QuotaMark, ReachedThreshold};
use crate::error::{AppError, AppResult};
use crate::mail::{Mail, Mailer};
use crate::webhooks::{self, EventType};

use super::store::Stored;

/// The thresholds, in percent of the quota.
pub const THRESHOLDS: [i16; 3] = [80, 90, 100];

/// One threshold to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub tenant: Uuid,
    pub metric: String,
    /// The month's first instant (UTC).
    pub period: chrono::DateTime<chrono::Utc>,
    /// The month's stored total when the threshold was found reached.
    pub used: i64,
    pub limit: i64,
}

/// The limited (metric, month) pairs among the newly stored `events`,
/// sorted, each once.
fn touched<'a>(events: &'a [NewUsageEvent], stored: &[Stored]) -> Vec<(&'a str, QuotaMark)> {
    let marks: std::collections::BTreeMap<(&str, chrono::DateTime<chrono::Utc>), QuotaMark> =
        events
            .iter()
            .zip(stored)
            .filter(|(_, s)| **s == Stored::Recorded)
            .filter_map(|(e, _)| Some(((e.metric.as_str(), e.quota?.period), e.quota?)))
            .collect();
    marks.into_iter().map(|((m, _), q)| (m, q)).collect()
}

/// Announces, inside the caller's transaction (scoped to `tenant`), every
/// threshold the stored totals of the metrics `events` recorded have
/// reached and that is not announced yet this month: `stored` is what
/// became of each event. Owners are emailed when `mailer` is given. A
/// failing announcement is rolled back to a savepoint and logged: the
/// usage is kept (see the module doc).
pub async fn record_crossed(
    conn: &mut AsyncPgConnection,
    mailer: Option<&Mailer>,
    tenant: Uuid,
    events: &[NewUsageEvent],
    stored: &[Stored],
) -> AppResult<()> {
    let quotas = touched(events, stored);
    if quotas.is_empty() {
        return Ok(());
    }
    let announced = conn
        .transaction::<_, AppError, _>(async |conn: &mut AsyncPgConnection| {
            let reached =
                crate::db::usage::record_reached_thresholds(conn, tenant, &quotas, &THRESHOLDS)
                    .await?;
            for r in &reached {
                notify(conn, mailer, &crossing(tenant, r), r.threshold).await?;
            }
            Ok(())
        })
        .await;
    if let Err(err) = announced {
        tracing::warn!(tenant.id = %tenant, error = %err, "quota thresholds not announced (the usage is stored; the next usage of the metric this month announces them)");
    }
    Ok(())
}

fn crossing(tenant: Uuid, r: &ReachedThreshold) -> Crossing {
    Crossing {
        tenant,
        metric: r.metric.clone(),
        period: r.period,
        used: r.used,
        limit: r.quota,
    }
}

/// The id of the event announcing `threshold` of `c`: the same for every
/// write of the same crossing.
pub fn event_id(c: &Crossing, threshold: i16) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!(
            "tenantgate:usage.threshold_reached:{}:{}:{}:{threshold}",
            c.tenant,
            c.metric,
            c.period.format("%Y-%m")
        )
        .as_bytes(),
    )
}

async fn notify(
    conn: &mut AsyncPgConnection,
    mailer: Option<&Mailer>,
    c: &Crossing,
    threshold: i16,
) -> AppResult<()> {
    let month = c.period.format("%B %Y");
    audit::record(
        conn,
        &RequestMeta::default(),
        Entry::new(Some(c.tenant), Actor::System, "quota.threshold")
            .target("metric", &c.metric)
            .change(
                None,
                Some(json!({
                    "threshold": threshold,
                    "used": c.used,
                    "limit": c.limit,
                    "period": c.period.format("%Y-%m").to_string(),
                })),
            ),
    )
    .await?;
    let data = json!({
        "metric": c.metric,
        "threshold": threshold,
        "used": c.used,
        "limit": c.limit,
        "period": c.period.format("%Y-%m").to_string(),
        "periodStart": c.period,
    });
    webhooks::emit_once(
        conn,
        event_id(c, threshold),
        c.tenant,
        EventType::UsageThresholdReached,
        data,
    )
    .await?;
    let Some(mailer) = mailer else {
        return Ok(());
    };
    let owners = crate::db::usage::owner_emails(conn, c.tenant).await?;
    let subject = if threshold >= 100 {
        format!("Your {} quota for {month} is used up", c.metric)
    } else {
        format!(
            "You have used {threshold}% of your {} quota for {month}",
            c.metric
        )
    };
    for to in owners {
        mailer
            .queue(
                conn,
                Mail {
                    to,
                    subject: subject.clone(),
                    body: format!(
                        "{subject}: {} of {}. Calls past the quota are refused \
                         (QUOTA_EXCEEDED) until the month ends; a larger plan raises it.\n\n{}\n",
                        c.used, c.limit, mailer.public_url
                    ),
                },
            )
            .await?;
    }
    Ok(())
}
