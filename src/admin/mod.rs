//! The platform admins' path across tenants: the only code that opens
//! [`Scope::platform_admin`] transactions. Every read through it, and every
//! change, is written to the audit trail in the same transaction: reads of a
//! tenant's data into that tenant's trail, platform-wide reads (users, stats,
//! outbox) into the platform's own (entries without a tenant, out of every
//! tenant's reach under row-level security). `plans.rs`: the plan catalogue
//! and tenants' plans, with `plan_draft.rs` (a plan as an admin gives it,
//! validated); `metrics.rs`: the metric catalogue; `tenants.rs`: the tenant
//! list (filters, orderings, keyset pages) and a tenant's keys; `erasure.rs`:
//! purging a tenant at once and the tombstones of purged tenants.

mod erasure;
mod metrics;
mod plan_draft;
mod plans;
mod tenants;
mod usage;

pub use erasure::{purge_tenant, tombstones};
pub use metrics::{MetricDraft, create_metric, metric_key, update_metric};
pub use plan_draft::PlanDraft;
pub use plans::{create_plan, set_tenant_plan, update_plan};
pub use tenants::{TenantFilter, tenant_keys, tenants_page};
pub use usage::{platform_usage, top_consumers};

use chrono::{DurationRound, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::auth::Verified;
use crate::db::{self, Db, tenants::Tenant, users::User};
use crate::error::{AppError, AppResult};
use crate::tenancy::{Scope, not_found};
use crate::webhooks::{self, EventType};

fn actor(admin: &Verified) -> Actor {
    Actor::PlatformAdmin { id: admin.user_id }
}

fn scope(admin: &Verified) -> Scope {
    Scope::platform_admin(admin.user_id)
}

/// One tenant by id; the read is recorded in that tenant's audit trail.
pub async fn tenant(db: &Db, meta: &RequestMeta, admin: &Verified, id: Uuid) -> AppResult<Tenant> {
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let tenant = db::tenants::find(conn, id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(id), actor, "admin.tenant.read").target("tenant", id),
            )
            .await?;
            Ok(tenant)
        }
        .scope_boxed()
    })
    .await
}

/// Users whose email contains `search`, first `limit` by email. Users belong
/// to no one tenant: the read is recorded in the platform's own trail (an
/// entry without a tenant, which no tenant's row-level security shows).
pub async fn users(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    search: Option<String>,
    limit: i64,
) -> AppResult<Vec<User>> {
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let rows = db::users::search_by_email(conn, search.as_deref(), limit).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, actor, "admin.users.list")
                    .change(None, Some(json!({ "search": search, "rows": rows.len() }))),
            )
            .await?;
            Ok(rows)
        }
        .scope_boxed()
    })
    .await
}

/// Platform-wide counts.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub tenants: i64,
    pub active_tenants: i64,
    pub suspended_tenants: i64,
    pub users: i64,
    /// People with a session used in the last 30 days.
    pub active_users: i64,
    pub tenants_by_plan: Vec<(String, i64)>,
    /// Subscriptions that pay or will (active, trialing, past_due).
    pub active_subscriptions: i64,
    /// Monthly recurring revenue in cents per currency (active and past_due
    /// subscriptions at their plan's price; yearly ones count a twelfth).
    pub mrr: Vec<(String, i64)>,
    /// Per plan with subscriptions: (plan, currency, active subscriptions, MRR cents).
    pub by_plan: Vec<(String, String, i64, i64)>,
    /// Live `api_calls` since UTC midnight, every tenant.
    pub api_calls_today: i64,
    /// Live events of every metric recorded since UTC midnight, every tenant.
    pub events_today: i64,
}

/// MRR and subscription counts from the subscriptions we hold.
async fn subscription_stats(
    conn: &mut diesel_async::AsyncPgConnection,
    stats: &mut Stats,
) -> AppResult<()> {
    use std::collections::BTreeMap;
    let prices: BTreeMap<String, (i32, i32, String)> = db::billing::plan_amounts(conn)
        .await?
        .into_iter()
        .map(|(key, monthly, yearly, currency)| (key, (monthly, yearly, currency)))
        .collect();
    let mut by_plan: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut mrr: BTreeMap<String, i64> = BTreeMap::new();
    for group in db::billing::subscription_counts(conn).await? {
        if !crate::billing::pays(&group.status) {
            continue;
        }
        stats.active_subscriptions += group.subscriptions;
        let plan = group.plan_key.as_ref().and_then(|k| prices.get(k));
        let Some(currency) = group
            .currency
            .clone()
            .or_else(|| plan.map(|(_, _, c)| c.clone()))
        else {
            continue;
        };
        let yearly = group.interval.as_deref() == Some("year");
        // A trial pays nothing yet. What Stripe charges counts; a row from
        // before amounts were kept counts at its plan's current price.
        let monthly_cents = if group.status == "trialing" {
            0
        } else {
            let known = if yearly {
                group.amount / 12
            } else {
                group.amount
            };
            let unknown = (group.subscriptions - group.with_amount)
                * plan.map_or(0, |(m, y, _)| {
                    if yearly {
                        i64::from(*y) / 12
                    } else {
                        i64::from(*m)
                    }
                });
            known + unknown
        };
        *mrr.entry(currency.clone()).or_default() += monthly_cents;
        if let Some(key) = &group.plan_key {
            let entry = by_plan.entry((key.clone(), currency)).or_default();
            entry.0 += group.subscriptions;
            entry.1 += monthly_cents;
        }
    }
    stats.by_plan = by_plan
        .into_iter()
        .map(|((plan, currency), (n, cents))| (plan, currency, n, cents))
        .collect();
    stats.mrr = mrr.into_iter().collect();
    Ok(())
}

/// Counts across the platform (no tenant's rows leave the database); the
/// read is recorded in the platform's own trail (no tenant).
pub async fn stats(db: &Db, meta: &RequestMeta, admin: &Verified) -> AppResult<Stats> {
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let mut stats = Stats::default();
            for (key, n) in db::tenants::platform_counts(conn).await? {
                match key.split_once(':') {
                    Some(("status", status)) => {
                        stats.tenants += n;
                        match status {
                            "active" => stats.active_tenants = n,
                            "suspended" => stats.suspended_tenants = n,
                            _ => {}
                        }
                    }
                    Some(("plan", plan)) => stats.tenants_by_plan.push((plan.to_owned(), n)),
                    None if key == "active_users" => stats.active_users = n,
                    _ => stats.users = n,
                }
            }
            stats.tenants_by_plan.sort();
            subscription_stats(conn, &mut stats).await?;
            let now = Utc::now();
            let midnight = now
                .duration_trunc(chrono::TimeDelta::days(1))
                .unwrap_or(now);
            (stats.api_calls_today, stats.events_today) =
                db::usage_reads::platform_day(conn, midnight).await?;
            audit::record(conn, &meta, Entry::new(None, actor, "admin.stats.read")).await?;
            Ok(stats)
        }
        .scope_boxed()
    })
    .await
}

/// Suspends (`Some(reason)`) or reactivates (`None`) a tenant.
pub async fn set_suspended(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    id: Uuid,
    reason: Option<String>,
) -> AppResult<Tenant> {
    if let Some(r) = &reason
        && (r.trim().is_empty() || r.chars().count() > 500)
    {
        return Err(AppError::bad_field(
            "reason",
            "give a reason of 1 to 500 characters",
        ));
    }
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let before = db::tenants::find(conn, id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            let (status, action) = match reason {
                Some(_) => ("suspended", "tenant.suspend"),
                None => ("active", "tenant.reactivate"),
            };
            if before.status == "pending_deletion" {
                return Err(AppError::conflict(
                    "this tenant is scheduled for deletion: its owners can cancel it, or purge \
                     it at once (purgeTenant)",
                ));
            }
            if before.status == status {
                return Err(AppError::conflict(format!(
                    "the tenant is already {status}"
                )));
            }
            let updated = db::tenants::set_status_from(
                conn,
                id,
                &before.status,
                status,
                reason.as_deref().map(str::trim),
            )
            .await?
            .ok_or_else(|| {
                AppError::conflict("the tenant's status changed meanwhile: reload and try again")
            })?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(id), actor, action)
                    .target("tenant", id)
                    .change(
                        Some(json!({ "status": before.status, "reason": before.status_reason })),
                        Some(json!({ "status": updated.status, "reason": updated.status_reason })),
                    ),
            )
            .await?;
            let event = if updated.status == "suspended" {
                EventType::TenantSuspended
            } else {
                EventType::TenantReactivated
            };
            let data = json!({
                "tenantId": id,
                "name": updated.name,
                "slug": updated.slug,
                "status": updated.status,
                "previousStatus": before.status,
                "reason": updated.status_reason,
            });
            webhooks::emit(conn, id, event, data).await?;
            Ok(updated)
        }
        .scope_boxed()
    })
    .await
}

/// `tenantgate admin promote|demote EMAIL`: adds or removes the user in
/// `platform_admins` over the owner connection (the runtime roles cannot), with
/// an audit entry.
pub async fn set_platform_admin(owner_url: &str, email: &str, admin: bool) -> anyhow::Result<Uuid> {
    let email = crate::auth::signup::normalize_email(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = db::owner_connection(owner_url).await?;
    conn.transaction::<_, anyhow::Error, _>(async |conn: &mut AsyncPgConnection| {
        db::users::allow_email_lookup(conn, &email).await?;
        let user = db::users::find_by_email(conn, &email)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no user has the email {email}"))?;
        let changed = if admin {
            db::platform_admins::add(conn, user.id).await?
        } else {
            db::platform_admins::remove(conn, user.id).await?
        };
        if changed > 0 {
            audit::record(
                conn,
                &RequestMeta {
                    request_id: format!("cli-{}", Uuid::now_v7()),
                    ip: None,
                    user_agent: Some("tenantgate admin".into()),
                    bound_tenant: None,
                },
                Entry::new(
                    None,
                    Actor::System,
                    if admin { "user.promote" } else { "user.demote" },
                )
                .target("user", user.id)
                .change(None, Some(json!({ "platformAdmin": admin }))),
            )
            .await?;
        }
        Ok(user.id)
    })
    .await
}
