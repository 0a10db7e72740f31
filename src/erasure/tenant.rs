//! Scheduling a tenant's deletion and cancelling it. Both are an owner's,
//! audited in the tenant's trail and emailed to every owner; deleting also
//! needs a fresh sign-in and the tenant's slug typed as a confirmation. The
//! status change (to `pending_deletion` and back) is the database's
//! (`tg_tenant_request_deletion`, `tg_tenant_cancel_deletion`), and its
//! `tenants_keys_notify` trigger drops the tenant's keys from every
//! instance's cache, so they are refused (or work again) at once.

use std::time::Duration;

use diesel_async::AsyncPgConnection;
use scoped_futures::ScopedFutureExt;
use serde_json::json;

use crate::audit::{self, Entry, RequestMeta};
use crate::auth::{Role, TenantAccess, Verified};
use crate::db::{self, Db, tenants::Tenant};
use crate::error::{AppError, AppResult};
use crate::mail::{Mail, Mailer};
use crate::members::actor;
use crate::tenancy::not_found;
use crate::webhooks::{self, EventType};

/// Schedules the caller's active tenant for deletion after `grace`.
pub async fn request_deletion(
    db: &Db,
    mailer: &Mailer,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
    confirm_slug: &str,
    grace: Duration,
) -> AppResult<Tenant> {
    access.require(Role::Owner)?;
    let (meta, actor, me) = (meta.clone(), actor(verified), access.clone());
    let (session_id, confirm) = (verified.session_id, confirm_slug.trim().to_owned());
    let grace_secs = i64::try_from(grace.as_secs()).unwrap_or(i64::MAX);
    let mailer = mailer.clone();
    db.scoped(access.scope(), |conn| {
        async move {
            let before = db::tenants::find(conn, me.tenant_id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            if before.status == "pending_deletion" {
                return Err(AppError::conflict(
                    "this tenant is already scheduled for deletion",
                ));
            }
            if confirm != before.slug {
                return Err(AppError::bad_field(
                    "confirmSlug",
                    format!("type the tenant's slug, {}, to confirm", before.slug),
                ));
            }
            super::require_fresh_sign_in(conn, session_id).await?;
            if !owner_now(conn, &me).await? {
                return Err(AppError::forbidden("only an owner can delete the tenant"));
            }
            db::erasure::request_deletion(conn, grace_secs).await?;
            let after = db::tenants::find(conn, me.tenant_id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            let purge_after = after.purge_after.map(|t| t.to_rfc3339());
            audit::record(
                conn,
                &meta,
                Entry::new(Some(me.tenant_id), actor, "tenant.deletion_request")
                    .target("tenant", me.tenant_id)
                    .change(
                        Some(json!({ "status": before.status })),
                        Some(json!({ "status": after.status, "purgeAfter": purge_after })),
                    ),
            )
            .await?;
            let data = json!({
                "tenantId": after.id,
                "name": after.name,
                "slug": after.slug,
                "status": after.status,
                "requestedBy": me.user_id,
                "purgeAfter": after.purge_after,
            });
            webhooks::emit(conn, me.tenant_id, EventType::TenantDeletionScheduled, data).await?;
            let when = after
                .purge_after
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            tell_owners(
                conn,
                &mailer,
                &after,
                format!("{} will be deleted on {when}", after.name),
                format!(
                    "An owner asked to delete the workspace {} ({}). Its API keys stop working \
                     now; its members can still read and export its data until {when}, when \
                     everything is erased for good (its Stripe subscription too).\n\n\
                     Changed your mind? An owner can cancel the deletion until then: {}/settings\n",
                    after.name,
                    after.slug,
                    mailer.public_url.trim_end_matches('/'),
                ),
            )
            .await?;
            Ok(after)
        }
        .scope_boxed()
    })
    .await
}

/// Cancels the deletion of the caller's active tenant while its grace
/// period runs.
pub async fn cancel_deletion(
    db: &Db,
    mailer: &Mailer,
    meta: &RequestMeta,
    verified: &Verified,
    access: &TenantAccess,
) -> AppResult<Tenant> {
    access.require(Role::Owner)?;
    let (meta, actor, me) = (meta.clone(), actor(verified), access.clone());
    let mailer = mailer.clone();
    db.scoped(access.scope(), |conn| {
        async move {
            let before = db::tenants::find(conn, me.tenant_id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            if before.status != "pending_deletion" {
                return Err(AppError::conflict(
                    "this tenant is not scheduled for deletion",
                ));
            }
            if !owner_now(conn, &me).await? {
                return Err(AppError::forbidden("only an owner can cancel the deletion"));
            }
            if !db::erasure::cancel_deletion(conn).await? {
                return Err(AppError::conflict(
                    "too late: the grace period is over and the purge has begun",
                ));
            }
            let after = db::tenants::find(conn, me.tenant_id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(me.tenant_id), actor, "tenant.deletion_cancel")
                    .target("tenant", me.tenant_id)
                    .change(
                        Some(json!({
                            "status": before.status,
                            "purgeAfter": before.purge_after.map(|t| t.to_rfc3339()),
                        })),
                        Some(json!({ "status": after.status })),
                    ),
            )
            .await?;
            let data = json!({
                "tenantId": after.id,
                "name": after.name,
                "slug": after.slug,
                "status": after.status,
                "canceledBy": me.user_id,
                "purgeAfter": before.purge_after,
            });
            webhooks::emit(conn, me.tenant_id, EventType::TenantDeletionCanceled, data).await?;
            tell_owners(
                conn,
                &mailer,
                &after,
                format!("The deletion of {} was cancelled", after.name),
                format!(
                    "An owner cancelled the deletion of the workspace {} ({}). Everything is as \
                     it was: its API keys work again.\n\n{}\n",
                    after.name,
                    after.slug,
                    mailer.public_url.trim_end_matches('/'),
                ),
            )
            .await?;
            Ok(after)
        }
        .scope_boxed()
    })
    .await
}

/// Whether the caller is an owner as it stands now (read in the changing
/// transaction, not taken from the start of the request).
async fn owner_now(conn: &mut AsyncPgConnection, me: &TenantAccess) -> AppResult<bool> {
    let role = db::memberships::role_for_share(conn, me.tenant_id, me.user_id).await?;
    Ok(role.as_deref() == Some(Role::Owner.as_str()))
}

/// Emails every owner of `tenant` (in its scope, inside the transaction).
async fn tell_owners(
    conn: &mut AsyncPgConnection,
    mailer: &Mailer,
    tenant: &Tenant,
    subject: String,
    body: String,
) -> AppResult<()> {
    for to in db::usage::owner_emails(conn, tenant.id).await? {
        mailer
            .queue(
                conn,
                Mail {
                    to,
                    subject: subject.clone(),
                    body: body.clone(),
                },
            )
            .await?;
    }
    Ok(())
}
