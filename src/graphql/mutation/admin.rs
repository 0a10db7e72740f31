//! Platform admins' changes: tenants' status and plan, the plan catalogue.

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use crate::admin;
use crate::error::AppError;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::guards::PlatformAdmin;
use crate::graphql::types::metric::{CreateMetricInput, Metric, UpdateMetricInput};
use crate::graphql::types::plan::{AdminPlan, CreatePlanInput, UpdatePlanInput};
use crate::graphql::types::tenant::{Reader, Tenant};

fn parse_id(id: &ID) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::bad_field("id", "not a valid id"))
}

/// Changes only platform admins can make.
#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Suspends a tenant: its users and keys get FORBIDDEN with the reason.
    #[graphql(guard = "PlatformAdmin")]
    async fn suspend_tenant(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<Tenant> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let row =
            admin::set_suspended(db(ctx), meta(ctx), &me, parse_id(&id)?, Some(reason)).await?;
        // Its keys stop here at once (every other instance on the announcement).
        services(ctx).api_keys.invalidate(&format!("t:{}", row.id));
        Ok(Tenant {
            row,
            reader: Reader::Admin(me),
            member_count: None,
        })
    }

    /// Lifts a suspension.
    #[graphql(guard = "PlatformAdmin")]
    async fn reactivate_tenant(&self, ctx: &Context<'_>, id: ID) -> Result<Tenant> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let row = admin::set_suspended(db(ctx), meta(ctx), &me, parse_id(&id)?, None).await?;
        services(ctx).api_keys.invalidate(&format!("t:{}", row.id));
        Ok(Tenant {
            row,
            reader: Reader::Admin(me),
            member_count: None,
        })
    }

    /// Creates a plan (not offered in `plans` unless `public`). Every field is
    /// checked (BAD_USER_INPUT naming it); CONFLICT when the key or a Stripe
    /// price is taken. Audited; every instance sees it at once.
    #[graphql(guard = "PlatformAdmin")]
    async fn create_plan(&self, ctx: &Context<'_>, input: CreatePlanInput) -> Result<AdminPlan> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let key = input.key.clone();
        let row = admin::create_plan(db(ctx), meta(ctx), &me, &key, input.into()).await?;
        services(ctx).plans.invalidate();
        Ok(AdminPlan::from(&row))
    }

    /// Changes a plan: only the fields given. Tenants on it get the new
    /// limits and features at once; a lower limit deletes nothing (what is
    /// over it keeps working, new additions are refused). Audited.
    #[graphql(guard = "PlatformAdmin")]
    async fn update_plan(
        &self,
        ctx: &Context<'_>,
        key: String,
        input: UpdatePlanInput,
    ) -> Result<AdminPlan> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let row = admin::update_plan(db(ctx), meta(ctx), &me, &key, input.into()).await?;
        services(ctx).plans.invalidate();
        // A changed API call limit reaches cached keys (every instance drops
        // them on the announcement; this one at once).
        services(ctx).api_keys.invalidate("*");
        Ok(AdminPlan::from(&row))
    }

    /// Adds a usage metric to the catalogue. Every field is checked
    /// (BAD_USER_INPUT naming it); CONFLICT when the key is taken. Audited;
    /// every instance sees it at once.
    #[graphql(guard = "PlatformAdmin")]
    async fn create_metric(&self, ctx: &Context<'_>, input: CreateMetricInput) -> Result<Metric> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let row = admin::create_metric(db(ctx), meta(ctx), &me, input.into()).await?;
        services(ctx).usage.metrics().invalidate();
        Ok(Metric::from(&row))
    }

    /// Changes a metric's name or unit (its aggregation is fixed once
    /// created). Audited.
    #[graphql(guard = "PlatformAdmin")]
    async fn update_metric(
        &self,
        ctx: &Context<'_>,
        key: String,
        input: UpdateMetricInput,
    ) -> Result<Metric> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let row =
            admin::update_metric(db(ctx), meta(ctx), &me, &key, input.name, input.unit).await?;
        services(ctx).usage.metrics().invalidate();
        Ok(Metric::from(&row))
    }

    /// Puts a tenant on a plan, offered or not. CONFLICT when its plan
    /// follows a live Stripe subscription (the tenant's plan follows its
    /// subscription), or it is on that plan already. A downgrade deletes
    /// nothing. Audited in the tenant's trail.
    #[graphql(guard = "PlatformAdmin")]
    async fn set_tenant_plan(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        plan_key: String,
    ) -> Result<Tenant> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let tenant_id = Uuid::parse_str(&tenant_id)
            .map_err(|_| AppError::bad_field("tenantId", "not a valid id"))?;
        let row = admin::set_tenant_plan(db(ctx), meta(ctx), &me, tenant_id, &plan_key).await?;
        services(ctx).api_keys.invalidate(&format!("t:{}", row.id));
        Ok(Tenant {
            row,
            reader: Reader::Admin(me),
            member_count: None,
        })
    }
}
