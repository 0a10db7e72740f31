//! Custom domain mutations: `setCustomDomain`, `verifyCustomDomain`,
//! `removeCustomDomain` (admins and owners of the active tenant; signed-in
//! users only, not API keys; setting one needs the plan's `customDomain`).

use async_graphql::{Context, Object, Result};

use crate::auth::Role as AuthRole;
use crate::domains::custom;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::guards::{FeatureGuard, RoleGuard};
use crate::graphql::types::custom_domain::CustomDomain;
use crate::plans::Feature;

#[derive(Default)]
pub struct DomainsMutation;

#[Object]
impl DomainsMutation {
    /// Claims a custom domain for the active tenant (replacing its claim, if
    /// any; the same domain again changes nothing) and issues the token to
    /// publish as a TXT record at `_tenantgate.<domain>`. Admins and owners,
    /// on a plan with custom domains (PAYMENT_REQUIRED otherwise). A domain
    /// another tenant has verified is CONFLICT; an invalid one (an IP
    /// address, a local name, one under the portal's own domain, …)
    /// BAD_USER_INPUT.
    #[graphql(guard = "RoleGuard(AuthRole::Admin).and(FeatureGuard::new(Feature::CustomDomain))")]
    async fn set_custom_domain(&self, ctx: &Context<'_>, domain: String) -> Result<CustomDomain> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        let domains = &services(ctx).domains;
        let row = custom::set(domains, db(ctx), meta(ctx), &me, &access, &domain).await?;
        Ok(row.into())
    }

    /// Looks up the TXT record of the active tenant's custom domain: verified
    /// when it holds the token (then the domain serves the tenant), FAILED
    /// with what it held otherwise. Admins and owners; 20 lookups a tenant an
    /// hour (RATE_LIMITED); UNAVAILABLE when the name servers do not answer;
    /// NOT_FOUND without a custom domain.
    #[graphql(guard = "RoleGuard(AuthRole::Admin)")]
    async fn verify_custom_domain(&self, ctx: &Context<'_>) -> Result<CustomDomain> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        let domains = &services(ctx).domains;
        let row = custom::verify(domains, db(ctx), meta(ctx), &me, &access).await?;
        Ok(row.into())
    }

    /// Removes the active tenant's custom domain (it stops serving the tenant
    /// at once on this instance, within 30 seconds on the others). Admins and
    /// owners; `false` when there was none.
    #[graphql(guard = "RoleGuard(AuthRole::Admin)")]
    async fn remove_custom_domain(&self, ctx: &Context<'_>) -> Result<bool> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Admin).await?;
        let domains = &services(ctx).domains;
        Ok(custom::remove(domains, db(ctx), meta(ctx), &me, &access).await?)
    }
}
