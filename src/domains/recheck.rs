//! The re-check of verified custom domains, hourly on every instance: each
//! verified domain whose record was last looked at more than
//! `recheck_every` (a day) ago is looked at again. The rule:
//!
//! - the record holds the token: the domain stays verified (and any
//!   `missing_since` is cleared);
//! - the record is missing or holds something else: the time it was first
//!   found missing is kept, and once it has been missing for `unverify_after`
//!   (72 hours: three daily looks in a row), the domain is un-verified, stops
//!   routing, an audit entry (`tenant.custom_domain.unverified`, by the
//!   system) is written and every owner is emailed; verifying again restores it;
//! - the name servers do not answer: only the note is recorded (an outage of
//!   ours or theirs never un-verifies anyone).
//!
//! Each domain is updated in its own tenant's scope, with its row locked; the
//! list of due domains comes from `tg_domains_due` (SECURITY DEFINER: tenant
//! ids and domains only). A verified domain whose record is missing is due at
//! every run whatever its last look (a tenant pressing Verify cannot push its
//! re-check back), and a manual verification applies the same 72-hour rule.
//! One domain's failure is logged and the run goes on; its schedule still
//! advances, so it never blocks the queue. Two instances may look at the same domain at once:
//! both write the same outcome.

use std::time::Duration;

use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use serde_json::json;

use super::{Domains, Found, dns::Dns};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::{Db, domains as db_domains};
use crate::error::AppResult;
use crate::mail::Mail;
use crate::tenancy::Scope;
use crate::usage::Stop;

/// How often an instance looks for due domains.
const EVERY: Duration = Duration::from_secs(3600);
/// Domains looked at per run at most.
const BATCH: i32 = 200;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rechecked {
    pub looked: usize,
    pub unverified: usize,
}

/// Looks at the verified domains due at `now` (a clock passed in, so tests
/// can move it).
pub async fn run(domains: &Domains, db: &Db, now: DateTime<Utc>) -> AppResult<Rechecked> {
    let mailer = domains.mailer();
    let settings = domains.settings().clone();
    let before = now - chrono::Duration::from_std(settings.recheck_every).unwrap_or_default();
    let due = db
        .scoped(Scope::anonymous(), |conn| {
            async move { Ok(db_domains::due(conn, before, BATCH).await?) }.scope_boxed()
        })
        .await?;
    let mut done = Rechecked::default();
    for item in due {
        // The token is compared below, with the row in hand.
        let values = match domains.dns().values(&item.domain).await {
            Ok(values) => Some(values),
            Err(err) => {
                tracing::info!(domain = %item.domain, error = %err, "domain re-check: no answer");
                None
            }
        };
        let limit = chrono::Duration::from_std(settings.unverify_after).unwrap_or_default();
        let (mailer, tenant, domain) = (mailer.clone(), item.tenant_id, item.domain.clone());
        let unverified = db
            .scoped(Scope::tenant(tenant), |conn| {
                async move {
                    let Some(row) = db_domains::find(conn, tenant, true).await? else {
                        return Ok(false);
                    };
                    if row.domain != domain || row.verified_at.is_none() {
                        return Ok(false);
                    }
                    let name = Dns::record_name(&domain);
                    let Some(values) = values else {
                        db_domains::record_check(
                            conn,
                            tenant,
                            row.verified_at,
                            row.missing_since,
                            "the name servers did not answer; looked again later",
                            now,
                        )
                        .await?;
                        return Ok(false);
                    };
                    let found = Found::of(values, &row.token);
                    let note = found.describe(&name);
                    if found == Found::Match {
                        db_domains::record_check(conn, tenant, row.verified_at, None, &note, now)
                            .await?;
                        return Ok(false);
                    }
                    let since = row.missing_since.unwrap_or(now);
                    if now - since < limit {
                        db_domains::record_check(
                            conn,
                            tenant,
                            row.verified_at,
                            Some(since),
                            &note,
                            now,
                        )
                        .await?;
                        return Ok(false);
                    }
                    let after =
                        db_domains::record_check(conn, tenant, None, None, &note, now).await?;
                    crate::webhooks::tenant::domain_changed(conn, tenant, Some(&after), Some(&row))
                        .await?;
                    announce_unverified(
                        conn,
                        &mailer,
                        &RequestMeta::default(),
                        Actor::System,
                        tenant,
                        &domain,
                        since,
                        &note,
                    )
                    .await?;
                    Ok(true)
                }
                .scope_boxed()
            })
            .await;
        let unverified = match unverified {
            Ok(unverified) => unverified,
            Err(err) => {
                // One domain's failure never stalls the others: logged, and
                // its schedule still moves on (it goes to the queue's end).
                tracing::warn!(domain = %item.domain, error = %err, "domain re-check failed");
                let (tenant, note) = (item.tenant_id, "the last look could not be recorded");
                let touched = db
                    .scoped(Scope::tenant(tenant), |conn| {
                        async move { Ok(db_domains::touch(conn, tenant, note, now).await?) }
                            .scope_boxed()
                    })
                    .await;
                if let Err(err) = touched {
                    tracing::warn!(domain = %item.domain, error = %err, "domain re-check: schedule not advanced");
                }
                false
            }
        };
        done.looked += 1;
        done.unverified += usize::from(unverified);
        if unverified {
            domains.changed(db, item.tenant_id).await;
        }
    }
    Ok(done)
}

/// What follows a verified domain's un-verification, in its transaction:
/// the audit entry (`tenant.custom_domain.unverified`, by `actor`) and an
/// email to every owner.
#[allow(clippy::too_many_arguments)]
pub(super) async fn announce_unverified(
    conn: &mut diesel_async::AsyncPgConnection,
    mailer: &crate::mail::Mailer,
    meta: &RequestMeta,
    actor: Actor,
    tenant: uuid::Uuid,
    domain: &str,
    since: DateTime<Utc>,
    note: &str,
) -> AppResult<()> {
    let name = Dns::record_name(domain);
    audit::record(
        conn,
        meta,
        Entry::new(Some(tenant), actor, "tenant.custom_domain.unverified")
            .target("tenant", tenant)
            .change(
                Some(json!({ "domain": domain, "verified": true })),
                Some(json!({
                    "domain": domain,
                    "verified": false,
                    "missingSince": since,
                    "found": note,
                })),
            ),
    )
    .await?;
    let subject = format!("{domain} no longer serves your tenant");
    for to in crate::db::usage::owner_emails(conn, tenant).await? {
        mailer
            .queue(
                conn,
                Mail {
                    to,
                    subject: subject.clone(),
                    body: format!(
                        "The TXT record {name} has not held your tenant's token \
                         since {since} ({note}), so {domain} no longer routes to \
                         your tenant. Publish the record again and press Verify \
                         in the tenant's settings to restore it.\n\n{}\n",
                        mailer.public_url
                    ),
                },
            )
            .await?;
    }
    Ok(())
}

/// Runs [`run`] a minute after start and then hourly until `stop`.
pub fn start(domains: Domains, db: Db, stop: Stop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(60);
        loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.stopped() => break,
            }
            wait = EVERY;
            match run(&domains, &db, Utc::now()).await {
                Ok(done) if done.looked > 0 => {
                    tracing::info!(
                        looked = done.looked,
                        unverified = done.unverified,
                        "custom domains re-checked"
                    );
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "custom domain re-check failed"),
            }
        }
    })
}
