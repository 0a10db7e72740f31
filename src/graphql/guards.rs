//! Field guards: what a field needs, declared on the field.

use async_graphql::{Context, Guard, Result};

use scoped_futures::ScopedFutureExt;

use super::context::{db, services, session};
use crate::auth::Role;
use crate::db::tenants;
use crate::error::AppError;
use crate::plans::Feature;
use crate::tenancy::not_found;

/// The caller must be signed in.
pub struct SignedIn;

impl Guard for SignedIn {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        session(ctx).require_user(db(ctx)).await?;
        Ok(())
    }
}

/// The caller must be a member of the active tenant (any role).
pub struct TenantMember;

impl Guard for TenantMember {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        session(ctx).require_tenant(db(ctx)).await?;
        Ok(())
    }
}

/// The caller must hold at least `role` in the active tenant.
pub struct RoleGuard(pub Role);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        session(ctx).require_role(db(ctx), self.0).await?;
        Ok(())
    }
}

/// The caller must be a platform admin.
pub struct PlatformAdmin;

impl Guard for PlatformAdmin {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        session(ctx).require_platform_admin(db(ctx)).await?;
        Ok(())
    }
}

/// The active tenant's plan must include a feature (PAYMENT_REQUIRED
/// otherwise, naming the feature, the plan and the cheapest public plan that
/// has it), as a field requires a role:
/// `#[graphql(guard = "RoleGuard(Role::Admin).and(FeatureGuard::new(Feature::CustomDomain))")]`.
/// [`FeatureGuard::when`] checks only when an argument asks for the feature
/// (custom branding, not clearing it). It reads the plan from the request's
/// verified session and the cached catalogue: no database round trip. A
/// change that must hold under concurrency checks again in its transaction
/// ([`crate::plans::Catalogue::require_feature`], the same check).
pub struct FeatureGuard {
    feature: Feature,
    needed: bool,
}

impl FeatureGuard {
    /// The field always needs `feature`.
    pub fn new(feature: Feature) -> Self {
        Self {
            feature,
            needed: true,
        }
    }

    /// The field needs `feature` when `needed` (computed from its arguments).
    pub fn when(feature: Feature, needed: bool) -> Self {
        Self { feature, needed }
    }
}

impl Guard for FeatureGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        if !self.needed {
            return Ok(());
        }
        let plan = tenant_plan_key(ctx).await?;
        services(ctx)
            .plans
            .get(db(ctx))
            .await?
            .require_feature(&plan, self.feature)?;
        Ok(())
    }
}

/// The key of the active tenant's plan: from the API key's grant, or from the
/// tenant row the session check read.
async fn tenant_plan_key(ctx: &Context<'_>) -> Result<String> {
    let session = session(ctx);
    if let Some(call) = session.key() {
        return Ok(call.grant.plan_key.clone());
    }
    let access = session.require_tenant(db(ctx)).await?;
    let verified = session.require_user(db(ctx)).await?;
    if let Some(tenant) = verified.tenant.filter(|t| t.id == access.tenant_id) {
        return Ok(tenant.plan_key);
    }
    let tenant_id = access.tenant_id;
    let row = db(ctx)
        .scoped(access.scope(), |conn| {
            async move { Ok(tenants::find(conn, tenant_id).await?) }.scope_boxed()
        })
        .await?;
    Ok(row
        .ok_or_else(|| -> AppError { not_found("tenant") })?
        .plan_key)
}
