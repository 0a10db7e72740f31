//! Publishable keys and the origin allow-list: admins and owners, signed in
//! (API keys are refused, `keys:write` included).

use async_graphql::{Context, ID, InputObject, Object, Result};
use uuid::Uuid;

use crate::auth::{Role, publishable_admin};
use crate::error::AppError;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::types::api_key::KeyEnvironment;
use crate::graphql::types::publishable::{AllowedOrigin, PublishableKey};

/// What `createPublishableKey` needs.
#[derive(InputObject)]
pub struct CreatePublishableKeyInput {
    /// A name to tell it apart (1 to 100 characters).
    pub name: String,
    /// Live or test (default live).
    #[graphql(default)]
    pub environment: KeyEnvironment,
}

/// Publishable key and allowed origin mutations.
#[derive(Default)]
pub struct PublishableMutation;

async fn caller(ctx: &Context<'_>) -> Result<(crate::auth::Verified, crate::auth::TenantAccess)> {
    let me = session(ctx).require_user(db(ctx)).await?;
    let access = session(ctx).require_role(db(ctx), Role::Admin).await?;
    Ok((me, access))
}

/// Drops this instance's cached copies of the tenant's publishable keys at
/// once (the announcement reaches every instance moments later).
fn forget(ctx: &Context<'_>, tenant: Uuid) {
    services(ctx).api_keys.invalidate(&format!("p:{tenant}"));
}

#[Object]
impl PublishableMutation {
    /// Makes a publishable key (admins and owners; at most 10 that are not
    /// revoked: CONFLICT past that). It is not a secret and is shown again.
    async fn create_publishable_key(
        &self,
        ctx: &Context<'_>,
        input: CreatePublishableKeyInput,
    ) -> Result<PublishableKey> {
        let (me, access) = caller(ctx).await?;
        let row = publishable_admin::create(
            db(ctx),
            meta(ctx),
            &me,
            &access,
            &input.name,
            input.environment.into(),
        )
        .await?;
        Ok(PublishableKey(row))
    }

    /// Revokes a publishable key (admins and owners): refused at once on every
    /// instance. NOT_FOUND for an id that is not one of the tenant's keys.
    async fn revoke_publishable_key(&self, ctx: &Context<'_>, id: ID) -> Result<PublishableKey> {
        let id = Uuid::parse_str(&id)
            .map_err(|_| AppError::bad_field("id", "not a publishable key id"))?;
        let (me, access) = caller(ctx).await?;
        let row = publishable_admin::revoke(db(ctx), meta(ctx), &me, &access, id).await?;
        forget(ctx, access.tenant_id);
        Ok(PublishableKey(row))
    }

    /// Allows an origin's pages to use the publishable keys (admins and
    /// owners): `scheme://host[:port]`, https (http only for localhost outside
    /// production), no path or wildcard; normalised; at most 50. CONFLICT when
    /// already allowed.
    async fn add_allowed_origin(&self, ctx: &Context<'_>, origin: String) -> Result<AllowedOrigin> {
        let (me, access) = caller(ctx).await?;
        let production = services(ctx).settings.is_production();
        let row =
            publishable_admin::add_origin(db(ctx), meta(ctx), &me, &access, &origin, production)
                .await?;
        forget(ctx, access.tenant_id);
        Ok(row.into())
    }

    /// Removes an origin from the allow-list (admins and owners) and returns
    /// it, normalised; its pages are refused at once on every instance.
    /// NOT_FOUND when it is not on the list.
    async fn remove_allowed_origin(&self, ctx: &Context<'_>, origin: String) -> Result<String> {
        let (me, access) = caller(ctx).await?;
        let removed =
            publishable_admin::remove_origin(db(ctx), meta(ctx), &me, &access, &origin).await?;
        forget(ctx, access.tenant_id);
        Ok(removed)
    }
}
