//! `deleteMyAccount`: a person erased everywhere. Refused while they are the
//! last owner of a tenant (CONFLICT naming those tenants in `extensions`)
//! and for platform admins (demoted first). Otherwise they leave every
//! tenant with the member-removal rules (their keys revoked, a `member.leave`
//! entry in each tenant's trail), each tenant its own transaction; then one
//! transaction ends their sessions and erases them (`tg_user_erase_self`):
//! the trails keep their entries with `actor_id` as an opaque id, without
//! their email, address or user agent. Cut off halfway, the person is still
//! signed in and asks again.

use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::auth::{Role, TenantAccess, Verified};
use crate::db::{self, Db};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// Erases the signed-in person; returns the tenants they left.
pub async fn delete_my_account(
    db: &Db,
    exports: &crate::exports::Exports,
    meta: &RequestMeta,
    verified: &Verified,
) -> AppResult<Vec<Uuid>> {
    if verified.is_platform_admin {
        return Err(AppError::conflict(
            "a platform admin cannot delete their account: be demoted first \
             (tenantgate admin demote)",
        ));
    }
    let (user, session) = (verified.user_id, verified.session_id);
    let memberships = db
        .scoped(Scope::user(user), |conn| {
            async move {
                super::require_fresh_sign_in(conn, session).await?;
                Ok(db::memberships::tenants_of(conn, user).await?)
            }
            .scope_boxed()
        })
        .await?;
    let mut last_owned = Vec::new();
    for (tenant, role) in &memberships {
        if role != Role::Owner.as_str() {
            continue;
        }
        let id = tenant.id;
        let owners = db
            .scoped(Scope::tenant_user(id, user), |conn| {
                async move {
                    Ok(db::memberships::lock_holders_of(conn, id, Role::Owner.as_str()).await?)
                }
                .scope_boxed()
            })
            .await?;
        if owners.len() <= 1 {
            last_owned.push(tenant);
        }
    }
    if !last_owned.is_empty() {
        let names: Vec<&str> = last_owned.iter().map(|t| t.name.as_str()).collect();
        return Err(AppError::conflict_with(
            format!(
                "you are the last owner of {}: make someone else owner there, or delete the \
                 workspace, first",
                names.join(", ")
            ),
            json!({
                "tenants": last_owned
                    .iter()
                    .map(|t| json!({ "id": t.id, "name": t.name, "slug": t.slug }))
                    .collect::<Vec<_>>(),
            }),
        ));
    }
    let mut left = Vec::with_capacity(memberships.len());
    for (tenant, role) in memberships {
        let role = Role::parse(&role)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role {role:?} stored")))?;
        let access = TenantAccess {
            tenant_id: tenant.id,
            user_id: user,
            role,
        };
        crate::members::remove(db, meta, verified, &access, user).await?;
        left.push(tenant.id);
    }
    // Their own stored exports (files live outside the database), before the
    // user row whose deletion takes the export rows with it.
    exports.erase_person(user).await?;
    let meta = meta.clone();
    db.scoped(Scope::user(user), |conn| {
        async move {
            db::sessions::revoke_all_of(conn, user, "account deleted").await?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, Actor::user(user), "user.erase").target("user", user),
            )
            .await?;
            db::erasure::erase_self(conn).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    // Again, once erased: an archive finished meanwhile leaves no file (its
    // row went with the user; a worker that finds it gone deletes its own).
    if let Err(err) = exports.erase_person(user).await {
        tracing::warn!(user.id = %user, error = %err, "an erased person's stored exports not deleted yet");
    }
    tracing::info!(user.id = %user, tenants = left.len(), "a person deleted their account");
    Ok(left)
}
