//! Publishable keys and allowed origins as GraphQL types, and the tenant's
//! lists of them (`Tenant.publishableKeys`, `Tenant.allowedOrigins`: admins
//! and owners acting in the tenant; API keys and the admin path are refused).

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::api_key::KeyEnvironment;
use super::tenant::Reader;
use crate::auth::api_keys::Environment;
use crate::auth::{TenantAccess, publishable_admin};
use crate::db::publishable_keys as rows;
use crate::error::AppError;
use crate::graphql::context::db;

/// A publishable key (`tg_pk_live_…`, `tg_pk_test_…`): not a secret, it ships
/// in the tenant's web pages and is shown every time. It only calls
/// `/v1/public/{key}/check` and `/v1/public/{key}/branding`, from a page on
/// one of the tenant's allowed origins.
pub struct PublishableKey(pub rows::PublishableKey);

#[Object]
impl PublishableKey {
    /// The key's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The name given to tell it apart.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Live or test (a test key's check never counts against quotas).
    async fn environment(&self) -> KeyEnvironment {
        Environment::parse(&self.0.environment)
            .unwrap_or(Environment::Live)
            .into()
    }

    /// The key itself, to put in a web page (not a secret).
    async fn key(&self) -> &str {
        &self.0.key
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was revoked (refused at once on every instance); null while active.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// An origin (`scheme://host[:port]`) whose pages may use the tenant's
/// publishable keys.
#[derive(SimpleObject)]
pub struct AllowedOrigin {
    /// The origin, normalised (lower-case host, punycode, no default port).
    pub origin: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl From<rows::AllowedOrigin> for AllowedOrigin {
    fn from(row: rows::AllowedOrigin) -> Self {
        Self {
            origin: row.origin,
            created_at: row.created_at,
        }
    }
}

/// The member's access to `tenant` when they act in it (roles are checked by
/// the domain functions); FORBIDDEN for keys, other tenants and the admin path.
pub(super) fn member_access(reader: &Reader, tenant: uuid::Uuid) -> Result<&TenantAccess> {
    match reader {
        Reader::Member(access) if access.tenant_id == tenant => Ok(access),
        _ => Err(AppError::forbidden(
            "publishable keys and allowed origins are managed by the tenant's admins and owners, \
             signed in and acting in it",
        )
        .into()),
    }
}

/// `Tenant.publishableKeys`.
pub(super) async fn keys(
    ctx: &Context<'_>,
    reader: &Reader,
    tenant: uuid::Uuid,
) -> Result<Vec<PublishableKey>> {
    let access = member_access(reader, tenant)?;
    let rows = publishable_admin::list(db(ctx), access).await?;
    Ok(rows.into_iter().map(PublishableKey).collect())
}

/// `Tenant.allowedOrigins`.
pub(super) async fn origins(
    ctx: &Context<'_>,
    reader: &Reader,
    tenant: uuid::Uuid,
) -> Result<Vec<AllowedOrigin>> {
    let access = member_access(reader, tenant)?;
    let rows = publishable_admin::list_origins(db(ctx), access).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
