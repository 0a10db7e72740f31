//! Quota thresholds: when a tenant's use of a metric crosses 80, 90 or
//! 100 % of its monthly quota, an audit entry (`quota.threshold`), a
//! `usage.threshold_reached` webhook event and an email to every owner are
//! written, once per month and threshold. They are written in the
//! transaction that stores the usage crossing the threshold (the
//! `recordUsage` batch, or the flush of `authorize`'s buffer), so a
//! rolled-back write announces nothing and a committed one is never missing
//! its announcement. The row of `quota_alerts` (tenant, metric, month,
//! threshold), inserted with ON CONFLICT DO NOTHING, decides "once" across
//! instances (a concurrent crossing waits for the first one's commit and
//! then writes nothing); the event's id is derived from the same four values
//! (`emit_once`), so a retried write cannot send it twice either.

use diesel::prelude::*;
use diesel_async::AsyncPgConnection;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::usage::NewUsageEvent;
use crate::error::AppResult;
use crate::mail::{Mail, Mailer};
use crate::webhooks::{self, EventType};

use super::store::Stored;

/// The thresholds, in percent of the quota.
pub const THRESHOLDS: [i16; 3] = [80, 90, 100];

/// The thresholds a use going from `before` to `after` crosses under
/// `limit`.
pub fn crossed(before: i64, after: i64, limit: i64) -> Vec<i16> {
    THRESHOLDS
        .into_iter()
        .filter(|t| {
            let mark = i128::from(limit) * i128::from(*t);
            i128::from(before) * 100 < mark && mark <= i128::from(after) * 100
        })
        .collect()
}

/// One crossing to announce.
pub type Crossing = crate::db::usage::QuotaCrossing;

/// Announces, inside the caller's transaction (scoped to the events'
/// tenant), what the newly stored `events` crossed: `stored` is what became
/// of each. Owners are emailed when `mailer` is given.
pub async fn record_crossed(
    conn: &mut AsyncPgConnection,
    mailer: Option<&Mailer>,
    events: &[NewUsageEvent],
    stored: &[Stored],
) -> AppResult<()> {
    for (event, stored) in events.iter().zip(stored) {
        if let (Some(crossing), Stored::Recorded) = (&event.crossing, stored) {
            record(conn, mailer, crossing).await?;
        }
    }
    Ok(())
}

/// Announces `crossing` inside the caller's transaction: each threshold not
/// announced yet this month gets its audit entry, its webhook event and an
/// email to every owner.
pub async fn record(
    conn: &mut AsyncPgConnection,
    mailer: Option<&Mailer>,
    crossing: &Crossing,
) -> AppResult<()> {
    for threshold in &crossing.thresholds {
        if first_time(conn, crossing, *threshold).await? {
            notify(conn, mailer, crossing, *threshold).await?;
        }
    }
    Ok(())
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

async fn first_time(
    conn: &mut AsyncPgConnection,
    c: &Crossing,
    threshold: i16,
) -> QueryResult<bool> {
    crate::db::usage::first_quota_alert(
        conn,
        c.tenant,
        &c.metric,
        c.period.date_naive(),
        threshold,
        c.used,
        c.limit,
    )
    .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_threshold_is_crossed_by_the_step_that_reaches_it() {
        assert_eq!(crossed(0, 7, 10), Vec::<i16>::new());
        assert_eq!(crossed(7, 8, 10), vec![80]);
        assert_eq!(crossed(8, 9, 10), vec![90]);
        assert_eq!(crossed(9, 10, 10), vec![100]);
        assert_eq!(crossed(0, 10, 10), vec![80, 90, 100]);
        assert_eq!(crossed(10, 10, 10), Vec::<i16>::new());
        // 80 % of 3 is 2.4: the third unit crosses 80, 90 and 100.
        assert_eq!(crossed(2, 3, 3), vec![80, 90, 100]);
    }
}
