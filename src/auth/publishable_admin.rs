//! Managing publishable keys and the origin allow-list: admins and owners
//! only (a secret key, even with `keys:write`, cannot: the allow-list decides
//! which sites may act for the tenant, a choice for people in the portal).
//! Every change is audited in the transaction that makes it, with the
//! tenant's row locked so the bounds ([`MAX_ACTIVE_KEYS`], [`MAX_ORIGINS`])
//! hold under concurrency.

use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::api_keys::Environment;
use super::origins::{self, MAX_ORIGINS};
use super::publishable::{self, MAX_ACTIVE_KEYS};
use super::{Role, TenantAccess, Verified};
use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::db::Db;
use crate::db::publishable_keys::{self as rows, AllowedOrigin, NewPublishableKey, PublishableKey};
use crate::error::{AppError, AppResult};
use crate::tenancy::not_found;

fn actor(verified: &Verified) -> Actor {
    Actor::User {
        id: verified.user_id,
        email: Some(verified.email.clone()),
    }
}

/// The tenant's publishable keys (revoked ones too), oldest first.
pub async fn list(db: &Db, access: &TenantAccess) -> AppResult<Vec<PublishableKey>> {
    access.require(Role::Admin)?;
    let tenant = access.tenant_id;
    db.scoped(access.scope(), |conn| {
        async move { Ok(rows::list(conn, tenant).await?) }.scope_boxed()
    })
    .await
}

/// The tenant's allowed origins, in order.
pub async fn list_origins(db: &Db, access: &TenantAccess) -> AppResult<Vec<AllowedOrigin>> {
    access.require(Role::Admin)?;
    let tenant = access.tenant_id;
    db.scoped(access.scope(), |conn| {
        async move { Ok(rows::origins(conn, tenant).await?) }.scope_boxed()
    })
    .await
}

/// Makes a publishable key (1 to 100 characters of name; at most
/// [`MAX_ACTIVE_KEYS`] unrevoked keys per tenant: CONFLICT past it).
pub async fn create(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    name: &str,
    environment: Environment,
) -> AppResult<PublishableKey> {
    access.require(Role::Admin)?;
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "name",
            "1 to 100 characters, no control characters",
        ));
    }
    let (meta, actor, tenant, user) = (
        meta.clone(),
        actor(verified),
        access.tenant_id,
        verified.user_id,
    );
    let key = publishable::mint(environment);
    db.scoped(access.scope(), |conn| {
        async move {
            rows::lock_tenant(conn, tenant).await?;
            if rows::count_active(conn, tenant).await? >= MAX_ACTIVE_KEYS {
                return Err(AppError::conflict(format!(
                    "a tenant has at most {MAX_ACTIVE_KEYS} publishable keys: revoke one first"
                )));
            }
            let row = rows::insert(
                conn,
                &NewPublishableKey {
                    id: Uuid::now_v7(),
                    tenant_id: tenant,
                    created_by: Some(user),
                    name: &name,
                    environment: environment.as_str(),
                    key: &key,
                },
            )
            .await?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant), actor, "publishable_key.create")
                    .target("publishable_key", row.id)
                    .change(
                        None,
                        Some(json!({ "name": row.name, "environment": row.environment, "key": row.key })),
                    ),
            )
            .await?;
            Ok(row)
        }
        .scope_boxed()
    })
    .await
}

/// Revokes a publishable key of the tenant (NOT_FOUND for another tenant's
/// or an unknown id; revoking twice changes nothing and is not audited again).
pub async fn revoke(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    id: Uuid,
) -> AppResult<PublishableKey> {
    access.require(Role::Admin)?;
    let (meta, actor, tenant) = (meta.clone(), actor(verified), access.tenant_id);
    db.scoped(access.scope(), |conn| {
        async move {
            // Only the revoke that changes the row audits (of two at once,
            // the second finds it revoked); an already revoked key answers
            // as it is.
            let Some(row) = rows::revoke(conn, tenant, id).await? else {
                return rows::list(conn, tenant)
                    .await?
                    .into_iter()
                    .find(|k| k.id == id)
                    .ok_or_else(|| not_found("publishable key"));
            };
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant), actor, "publishable_key.revoke")
                    .target("publishable_key", row.id)
                    .change(
                        Some(json!({ "name": row.name, "key": row.key })),
                        Some(json!({ "revokedAt": row.revoked_at })),
                    ),
            )
            .await?;
            Ok(row)
        }
        .scope_boxed()
    })
    .await
}

/// Adds an origin to the allow-list (validated and normalised: see
/// [`origins::normalize`]; CONFLICT when already there or past
/// [`MAX_ORIGINS`]).
pub async fn add_origin(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    origin: &str,
    production: bool,
) -> AppResult<AllowedOrigin> {
    access.require(Role::Admin)?;
    let origin = origins::normalize(origin, production)?;
    let (meta, actor, tenant, user) = (
        meta.clone(),
        actor(verified),
        access.tenant_id,
        verified.user_id,
    );
    db.scoped(access.scope(), |conn| {
        async move {
            rows::lock_tenant(conn, tenant).await?;
            let previous = crate::webhooks::tenant::allowed_origins(conn, tenant).await?;
            if rows::count_origins(conn, tenant).await? >= MAX_ORIGINS {
                return Err(AppError::conflict(format!(
                    "a tenant allows at most {MAX_ORIGINS} origins: remove one first"
                )));
            }
            let row = rows::add_origin(conn, tenant, &origin, Some(user))
                .await?
                .ok_or_else(|| AppError::conflict(format!("{origin} is already allowed")))?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant), actor, "allowed_origin.add")
                    .target("allowed_origin", &row.origin)
                    .change(None, Some(json!({ "origin": row.origin }))),
            )
            .await?;
            let now = crate::webhooks::tenant::allowed_origins(conn, tenant).await?;
            crate::webhooks::tenant::updated(conn, tenant, "allowedOrigins", now, previous).await?;
            Ok(row)
        }
        .scope_boxed()
    })
    .await
}

/// Removes an origin from the allow-list (given as typed or normalised;
/// NOT_FOUND when it is not on the list).
pub async fn remove_origin(
    db: &Db,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    origin: &str,
) -> AppResult<String> {
    access.require(Role::Admin)?;
    // Anything stored passed `normalize` (outside production, http for
    // localhost included): normalise the same way to find it.
    let origin = origins::normalize(origin, false)?;
    let (meta, actor, tenant) = (meta.clone(), actor(verified), access.tenant_id);
    db.scoped(access.scope(), |conn| {
        async move {
            rows::lock_tenant(conn, tenant).await?;
            let previous = crate::webhooks::tenant::allowed_origins(conn, tenant).await?;
            if !rows::remove_origin(conn, tenant, &origin).await? {
                return Err(not_found("allowed origin"));
            }
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant), actor, "allowed_origin.remove")
                    .target("allowed_origin", &origin)
                    .change(Some(json!({ "origin": origin })), None),
            )
            .await?;
            let now = crate::webhooks::tenant::allowed_origins(conn, tenant).await?;
            crate::webhooks::tenant::updated(conn, tenant, "allowedOrigins", now, previous).await?;
            Ok(origin)
        }
        .scope_boxed()
    })
    .await
}

/// Notes in the key's tenant's trail that a secret key came from a browser
/// page of another origin (`api_key.browser_use`, with that origin): a leak
/// made visible. The caller keeps it to once per key per hour.
pub async fn record_browser_use(
    db: &Db,
    meta: &RequestMeta,
    grant: &super::api_keys::KeyGrant,
    origin: Option<String>,
) -> AppResult<()> {
    let (meta, tenant) = (meta.clone(), grant.tenant_id);
    let actor = Actor::ApiKey {
        id: grant.key_id,
        label: grant.display_prefix.clone(),
    };
    let key_id = grant.key_id;
    db.scoped(crate::tenancy::Scope::tenant(tenant), |conn| {
        async move {
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant), actor, "api_key.browser_use")
                    .target("api_key", key_id)
                    .change(None, Some(json!({ "origin": origin }))),
            )
            .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}
