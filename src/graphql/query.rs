//! The query root.

use async_graphql::{Context, Object, Result};
use scoped_futures::ScopedFutureExt;

use super::context::{db, services, session};
use super::guards::PlatformAdmin;
use super::types::admin::AdminQuery;
use super::types::custom_domain::HostTenant;
use super::types::metric::Metric;
use super::types::plan::Plan;
use super::types::tenant::{Reader, Tenant};
use super::types::viewer::Viewer;
use crate::auth::api_keys::KeyScope;
use crate::db::{tenants, users};
use crate::error::AppError;
use crate::tenancy::{Scope, not_found};

/// Entry points for reading.
#[derive(Default)]
pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The caller: the signed-in user, the active tenant and the user's role in
    /// it, and all their tenants. `null` for anonymous callers.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<Viewer>> {
        let Some(verified) = session(ctx).verify(db(ctx)).await? else {
            return Ok(None);
        };
        let scope = match &verified.access {
            Some(access) => access.scope(),
            None => Scope::user(verified.user_id),
        };
        let (user_id, tenant_id) = (
            verified.user_id,
            verified.access.as_ref().map(|a| a.tenant_id),
        );
        let (user, tenant) = db(ctx)
            .scoped(scope, |conn| {
                async move {
                    let user = users::find(conn, user_id).await?;
                    let tenant = match tenant_id {
                        Some(id) => tenants::find(conn, id).await?,
                        None => None,
                    };
                    Ok((user, tenant))
                }
                .scope_boxed()
            })
            .await?;
        let user =
            user.ok_or_else(|| AppError::unauthenticated("this account no longer exists"))?;
        Ok(Some(Viewer {
            verified,
            user,
            tenant,
        }))
    }

    /// The active tenant (X-Tenant-ID, else the session's default), with its
    /// members, invitations, API keys and audit log as the caller's role
    /// allows. With an API key: the key's tenant (`tenant:read`), its lists by
    /// the key's scopes.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        if let Some(call) = session(ctx).key() {
            // An API key reads its own tenant with `tenant:read`; each list
            // needs its own scope too.
            call.grant.require(KeyScope::TenantRead)?;
            let grant = call.grant.clone();
            let tenant_id = grant.tenant_id;
            let row = db(ctx)
                .scoped(Scope::tenant(tenant_id), |conn| {
                    async move { Ok(tenants::find(conn, tenant_id).await?) }.scope_boxed()
                })
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            return Ok(Tenant {
                row,
                reader: Reader::Key(grant),
                member_count: None,
            });
        }
        let access = session(ctx).require_tenant(db(ctx)).await?;
        // The session check read the tenant's row already.
        let verified = session(ctx).require_user(db(ctx)).await?;
        let tenant_id = access.tenant_id;
        let row = match verified.tenant.filter(|t| t.id == tenant_id) {
            Some(row) => *row,
            None => db(ctx)
                .scoped(access.scope(), |conn| {
                    async move { Ok(tenants::find(conn, tenant_id).await?) }.scope_boxed()
                })
                .await?
                .ok_or_else(|| not_found("tenant"))?,
        };
        Ok(Tenant {
            row,
            reader: Reader::Member(access),
            member_count: None,
        })
    }

    /// The tenant the address this request was sent to belongs to (its
    /// subdomain of the portal's base domain, or its verified custom domain),
    /// with its public look for the sign-in page; `null` on the portal's own
    /// addresses. No sign-in needed; nothing private.
    async fn host_tenant(&self, ctx: &Context<'_>) -> Result<Option<HostTenant>> {
        let Some(host) = ctx
            .data_opt::<crate::domains::RequestHost>()
            .and_then(|h| h.0.as_deref())
        else {
            return Ok(None);
        };
        // Read on the pool, outside this request's transaction: the value is
        // shared with every request of this host.
        let services = services(ctx);
        let face = services.domains.face(&services.db, host.id).await?;
        Ok(face.as_deref().map(HostTenant::from))
    }

    /// The plans on offer, in catalogue order, with their prices, limits and
    /// features (no sign-in needed; plans that are not offered are not
    /// listed).
    async fn plans(&self, ctx: &Context<'_>) -> Result<Vec<Plan>> {
        let catalogue = services(ctx).plans.get(db(ctx)).await?;
        Ok(catalogue.public().map(|p| Plan::from(&**p)).collect())
    }

    /// The event types webhook endpoints may subscribe to (`member.joined`,
    /// …), as they appear in `type` of the body; no sign-in needed.
    /// (`webhook.test`, sent by `sendTestWebhook`, goes to every endpoint it
    /// is sent to and is not subscribable.)
    async fn webhook_event_types(&self) -> Vec<&'static str> {
        crate::webhooks::EventType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect()
    }

    /// The usage metrics that can be recorded, by key (no sign-in needed).
    async fn metrics(&self, ctx: &Context<'_>) -> Result<Vec<Metric>> {
        let rows = services(ctx).usage.metrics().get(db(ctx)).await?;
        Ok(rows.iter().map(Metric::from).collect())
    }

    /// The platform admins' view across tenants (platform admins only; every
    /// read of a tenant's data through it is audited).
    #[graphql(guard = "PlatformAdmin")]
    async fn admin(&self) -> AdminQuery {
        AdminQuery
    }
}
