//! `admin { … }`: the platform admins' view across tenants. Every read of a
//! tenant's data through it is written to the audit trail.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::admin_tenants::{self, TenantOrder};
use super::api_key::KeyEnvironment;
use super::plan::AdminPlan;
use super::tenant::{Reader, Tenant, TenantStatus};
use super::usage_series::{ConsumerTenant, UsageConsumer, UsageGranularity, UsageSeries};
use super::user::User;
use crate::admin::{self, TenantFilter};
use crate::db::tenants::Order;
use crate::error::AppError;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::cursor;
use crate::mail;
use crate::tenancy::Scope;

/// The admin entry point (only platform admins reach it).
pub struct AdminQuery;

/// Counts across the platform.
#[derive(SimpleObject)]
pub struct PlatformStats {
    /// All tenants.
    pub tenants: i64,
    /// Tenants in normal use.
    pub active_tenants: i64,
    /// Suspended tenants.
    pub suspended_tenants: i64,
    /// All users.
    pub users: i64,
    /// People who used the product in the last 30 days (a session of theirs
    /// was used: a sign-in or a token refresh).
    pub active_users: i64,
    /// Tenants per plan.
    pub tenants_by_plan: Vec<PlanCount>,
    /// Subscriptions that pay or will (active, trialing, past_due), from the
    /// subscriptions mirrored from Stripe.
    pub active_subscriptions: i64,
    /// Monthly recurring revenue per currency: active and past_due
    /// subscriptions at what Stripe charges them (unit amount × quantity; a
    /// yearly price counts a twelfth; trials count nothing until they pay).
    pub mrr: Vec<Revenue>,
    /// Subscriptions and MRR per plan (plans with at least one subscription).
    pub by_plan: Vec<PlanRevenue>,
    /// Live `api_calls` of every tenant today (since UTC midnight, by when
    /// the calls happened).
    pub api_calls_today: i64,
    /// Live usage events of every metric and tenant today (since UTC
    /// midnight, by when they happened).
    pub events_today: i64,
}

/// An amount of monthly revenue in one currency.
#[derive(SimpleObject)]
pub struct Revenue {
    /// ISO currency code, lower case (`usd`).
    pub currency: String,
    /// Amount in the currency's smallest unit (cents).
    pub amount: i64,
}

/// One plan's subscriptions and revenue.
#[derive(SimpleObject)]
pub struct PlanRevenue {
    /// The plan's key.
    pub plan_key: String,
    /// Subscriptions on it that pay or will (active, trialing, past_due).
    pub active_subscriptions: i64,
    /// Its monthly recurring revenue.
    pub mrr: Revenue,
}

/// How many tenants are on one plan.
#[derive(SimpleObject)]
pub struct PlanCount {
    /// The plan's key.
    pub plan_key: String,
    /// How many tenants are on it.
    pub tenants: i64,
}

/// A queued email (development only).
#[derive(SimpleObject)]
pub struct OutboxEmail {
    /// The message id.
    pub id: ID,
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The body (holds sign-in links); null once delivered (delivered mail
    /// keeps no body).
    pub body: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

fn parse_id(id: &ID, field: &str) -> Result<Uuid> {
    Ok(Uuid::parse_str(id).map_err(|_| AppError::bad_field(field, "not a valid id"))?)
}

/// What platform admins can read across tenants; each read is audited.
#[Object]
impl AdminQuery {
    /// Tenants matching `search` (in name or slug, case-insensitive; at most
    /// 100 characters), `status` and `plan` (a plan's key), sorted by
    /// `orderBy` (newest first when absent). A cursor continues the ordering
    /// it was made in; one from another ordering is BAD_USER_INPUT.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    #[expect(clippy::too_many_arguments)]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
        status: Option<TenantStatus>,
        plan: Option<String>,
        order_by: Option<TenantOrder>,
    ) -> Result<Connection<String, Tenant, EmptyFields, EmptyFields>> {
        let admin = session(ctx).require_platform_admin(db(ctx)).await?;
        let limit = cursor::page_size(first)?;
        let order = Order::from(order_by);
        let after = after
            .as_deref()
            .map(|c| admin_tenants::decode(order, c))
            .transpose()?;
        if let Some(plan) = &plan
            && services(ctx).plans.plan(db(ctx), plan).await?.is_none()
        {
            return Err(AppError::bad_field("plan", "no plan has this key").into());
        }
        let filter = TenantFilter {
            search,
            status: status.map(|s| s.as_db().to_owned()),
            plan,
        };
        let look = ctx.look_ahead();
        let with_counts = look.field("nodes").field("memberCount").exists()
            || look
                .field("edges")
                .field("node")
                .field("memberCount")
                .exists();
        let after_cursor = after.is_some();
        let rows = admin::tenants_page(
            db(ctx),
            meta(ctx),
            &admin,
            filter,
            order,
            after,
            limit,
            with_counts,
        )
        .await?;
        Ok(admin_tenants::connection(
            rows,
            order,
            limit,
            after_cursor,
            |(r, value, _)| (value, r.id),
            |(row, _, member_count)| Tenant {
                row,
                reader: Reader::Admin(admin.clone()),
                member_count,
            },
        ))
    }

    /// One tenant, with everything a member could see of it.
    async fn tenant(&self, ctx: &Context<'_>, id: ID) -> Result<Tenant> {
        let admin = session(ctx).require_platform_admin(db(ctx)).await?;
        let row = admin::tenant(db(ctx), meta(ctx), &admin, parse_id(&id, "id")?).await?;
        Ok(Tenant {
            row,
            reader: Reader::Admin(admin),
            member_count: None,
        })
    }

    /// Users by email.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(Some(first), child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<User>> {
        let admin = session(ctx).require_platform_admin(db(ctx)).await?;
        let limit = cursor::page_size(Some(first))?;
        let rows = admin::users(db(ctx), meta(ctx), &admin, search, limit).await?;
        Ok(rows.into_iter().map(User).collect())
    }

    /// Every plan, offered or not, in catalogue order, with its Stripe
    /// prices. (The catalogue is platform data, not a tenant's: reading it is
    /// not audited.)
    async fn plans(&self, ctx: &Context<'_>) -> Result<Vec<AdminPlan>> {
        session(ctx).require_platform_admin(db(ctx)).await?;
        let catalogue = services(ctx).plans.get(db(ctx)).await?;
        Ok(catalogue
            .all()
            .iter()
            .map(|p| AdminPlan::from(&**p))
            .collect())
    }

    /// Platform-wide counts.
    async fn stats(&self, ctx: &Context<'_>) -> Result<PlatformStats> {
        let admin = session(ctx).require_platform_admin(db(ctx)).await?;
        let stats = admin::stats(db(ctx), meta(ctx), &admin).await?;
        Ok(PlatformStats {
            tenants: stats.tenants,
            active_tenants: stats.active_tenants,
            suspended_tenants: stats.suspended_tenants,
            users: stats.users,
            active_users: stats.active_users,
            tenants_by_plan: stats
                .tenants_by_plan
                .into_iter()
                .map(|(plan_key, tenants)| PlanCount { plan_key, tenants })
                .collect(),
            active_subscriptions: stats.active_subscriptions,
            mrr: stats
                .mrr
                .into_iter()
                .map(|(currency, amount)| Revenue { currency, amount })
                .collect(),
            by_plan: stats
                .by_plan
                .into_iter()
                .map(
                    |(plan_key, currency, active_subscriptions, amount)| PlanRevenue {
                        plan_key,
                        active_subscriptions,
                        mrr: Revenue { currency, amount },
                    },
                )
                .collect(),
            api_calls_today: stats.api_calls_today,
            events_today: stats.events_today,
        })
    }

    /// Live usage of `metric` over `[from, to)` summed over every tenant
    /// (the largest tenant's for max metrics; a unique count adds up each
    /// tenant's distinct values), with the bounds and shape of
    /// `Tenant.usage` (`groups` is empty). Recorded in the platform's trail.
    #[graphql(
        complexity = "super::usage_series::series_cost(from, to, granularity, child_complexity)"
    )]
    async fn usage(
        &self,
        ctx: &Context<'_>,
        metric: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        granularity: UsageGranularity,
    ) -> Result<UsageSeries> {
        let admin = session(ctx).require_platform_admin(db(ctx)).await?;
        let now = Utc::now();
        let range = crate::usage::reads::range(
            db(ctx),
            services(ctx).usage.metrics(),
            &metric,
            from,
            to,
            granularity.into(),
            now,
        )
        .await?;
        let rows = admin::platform_usage(db(ctx), meta(ctx), &admin, &range).await?;
        let distinct = rows.iter().find(|r| r.bucket.is_none()).map(|r| r.value);
        let values = rows.iter().filter_map(|r| Some((r.bucket?, r.value)));
        let series = crate::usage::reads::Series::build(&range, values, distinct, now);
        Ok(UsageSeries::new(range, KeyEnvironment::Live, series))
    }

    /// The `first` tenants (1-100, default 10) with the most live usage of
    /// `metric` over `[from, to)` in whole UTC days (`from` rounds down and
    /// `to` up to midnight; at most 400 days), most first, ties by id. Each
    /// listed tenant gets the read in its own audit trail.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(Some(first), child_complexity)")]
    async fn top_consumers(
        &self,
        ctx: &Context<'_>,
        metric: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default = 10)] first: i32,
    ) -> Result<Vec<UsageConsumer>> {
        let admin = session(ctx).require_platform_admin(db(ctx)).await?;
        if !(1..=100).contains(&first) {
            return Err(AppError::bad_field("first", "must be 1 to 100").into());
        }
        let range = crate::usage::reads::range(
            db(ctx),
            services(ctx).usage.metrics(),
            &metric,
            from,
            to,
            crate::usage::reads::Granularity::Day,
            Utc::now(),
        )
        .await?;
        let rows =
            admin::top_consumers(db(ctx), meta(ctx), &admin, &range, i64::from(first)).await?;
        Ok(rows
            .into_iter()
            .map(|c| UsageConsumer {
                tenant: ConsumerTenant {
                    id: ID(c.id.to_string()),
                    name: c.name,
                    slug: c.slug,
                },
                total: c.total,
            })
            .collect())
    }

    /// Emails queued by this server, newest first (development only: in
    /// production mail goes out and bodies are not readable here).
    #[graphql(complexity = "crate::graphql::cursor::list_cost(Some(first), child_complexity)")]
    async fn outbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<OutboxEmail>> {
        let admin = session(ctx).require_platform_admin(db(ctx)).await?;
        if services(ctx).settings.is_production() {
            return Err(AppError::forbidden("the outbox is readable in development only").into());
        }
        let limit = cursor::page_size(Some(first))?;
        let meta = meta(ctx).clone();
        let sealer = services(ctx).mailer.sealer.clone();
        let rows = db(ctx)
            .scoped(Scope::platform_admin(admin.user_id), |conn| {
                async move {
                    let rows = mail::recent(conn, &sealer, limit).await?;
                    crate::audit::record(
                        conn,
                        &meta,
                        crate::audit::Entry::new(
                            None,
                            crate::audit::Actor::PlatformAdmin { id: admin.user_id },
                            "admin.outbox.read",
                        ),
                    )
                    .await?;
                    Ok(rows)
                }
                .scope_boxed()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| OutboxEmail {
                id: ID(m.id.to_string()),
                to: m.recipient,
                subject: m.subject,
                body: m.body,
                created_at: m.created_at,
            })
            .collect())
    }

    /// What remains of purged tenants (ids and dates, no personal data),
    /// most recently purged first; at most `first` (1 to 100). Audited in
    /// the platform's trail.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(Some(first), child_complexity)")]
    async fn tenant_tombstones(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<super::erasure::TenantTombstone>> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let limit = cursor::page_size(Some(first))?;
        let rows = admin::tombstones(db(ctx), meta(ctx), &me, None, limit).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
