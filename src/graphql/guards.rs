//! Field guards: what a field needs, declared on the field.

use async_graphql::{Context, Guard, Result};

use super::context::{db, session};
use crate::auth::Role;

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
