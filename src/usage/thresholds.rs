//! Quota thresholds: when a tenant's use of a metric crosses 80, 90 or
//! 100 % of its monthly quota, an audit entry (`quota.threshold`) and a
//! `usage.threshold_reached` webhook event are written and the owners are
//! emailed, once per month and threshold. The row of
//! `quota_alerts` (tenant, metric, month, threshold), inserted with ON
//! CONFLICT DO NOTHING, decides "once" across instances; the entry and the
//! mail are written in the same transaction. It runs in the background after
//! the usage is recorded: the call that crossed does not wait for it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::AsyncPgConnection;
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::Db;
use crate::error::AppResult;
use crate::mail::{Mail, Mailer};
use crate::tenancy::Scope;
use crate::webhooks::{self, EventType};

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
#[derive(Debug, Clone)]
pub struct Crossing {
    pub tenant: Uuid,
    pub metric: String,
    /// The month's first instant (UTC).
    pub period: DateTime<Utc>,
    pub used: i64,
    pub limit: i64,
    pub thresholds: Vec<i16>,
}

/// Announces `crossing`: each threshold not announced yet this month gets
/// its audit entry and an email to every owner.
pub async fn announce(db: &Db, mailer: &Mailer, crossing: &Crossing) -> AppResult<()> {
    let tenant = crossing.tenant;
    db.scoped(Scope::tenant(tenant), |conn| {
        async move {
            for threshold in &crossing.thresholds {
                if first_time(conn, crossing, *threshold).await? {
                    notify(conn, mailer, crossing, *threshold).await?;
                }
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
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
    mailer: &Mailer,
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
    webhooks::emit(conn, c.tenant, EventType::UsageThresholdReached, data).await?;
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
