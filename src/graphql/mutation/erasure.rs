//! Erasure: deleting the active tenant (and cancelling that), deleting
//! one's own account, and a platform admin's immediate purge.

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use crate::auth::Role as AuthRole;
use crate::erasure::{self, Purger};
use crate::error::AppError;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::guards::{PlatformAdmin, RoleGuard};
use crate::graphql::types::erasure::PurgeResult;
use crate::graphql::types::tenant::{Reader, Tenant};

/// Deleting data for good.
#[derive(Default)]
pub struct ErasureMutation;

#[Object]
impl ErasureMutation {
    /// Schedules the active tenant for deletion (owners only). Needs a
    /// sign-in of the last 5 minutes (REAUTHENTICATION_REQUIRED otherwise:
    /// sign in again and retry) and the tenant's slug typed as
    /// `confirmSlug` (BAD_USER_INPUT otherwise). The tenant becomes
    /// PENDING_DELETION at once: its API keys are refused everywhere, its
    /// members keep reading and exporting, every other change is refused
    /// (TENANT_PENDING_DELETION), and an owner can cancel until
    /// `deletion.purgeAfter` (14 days by default), when everything of it is
    /// erased (its Stripe customer too). The owners are emailed.
    #[graphql(guard = "RoleGuard(AuthRole::Owner)")]
    async fn delete_tenant(&self, ctx: &Context<'_>, confirm_slug: String) -> Result<Tenant> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_role(db(ctx), AuthRole::Owner).await?;
        let s = services(ctx);
        let row = erasure::request_deletion(
            db(ctx),
            &s.mailer,
            meta(ctx),
            &me,
            &access,
            &confirm_slug,
            s.settings.deletion_grace,
        )
        .await?;
        // Its keys stop here at once (every other instance on the announcement).
        s.api_keys.invalidate(&format!("t:{}", row.id));
        Ok(Tenant {
            row,
            reader: Reader::Member(access),
            member_count: None,
        })
    }

    /// Cancels the active tenant's scheduled deletion (owners only), while
    /// its grace period runs: everything is as it was, its API keys work
    /// again. CONFLICT when it is not scheduled, or the purge has begun. The
    /// owners are emailed.
    async fn cancel_tenant_deletion(&self, ctx: &Context<'_>) -> Result<Tenant> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let access = session(ctx).require_tenant_while_deleting(db(ctx)).await?;
        let s = services(ctx);
        let row = erasure::cancel_deletion(db(ctx), &s.mailer, meta(ctx), &me, &access).await?;
        s.api_keys.invalidate(&format!("t:{}", row.id));
        Ok(Tenant {
            row,
            reader: Reader::Member(access),
            member_count: None,
        })
    }

    /// Deletes the signed-in person's account for good: they leave every
    /// tenant (their API keys revoked, as when a member leaves), their
    /// sessions end and their user record is erased; audit trails keep
    /// their entries under an opaque id, without their email. Needs a
    /// sign-in of the last 5 minutes (REAUTHENTICATION_REQUIRED). CONFLICT
    /// while they are the last owner of a tenant (`extensions.tenants` lists
    /// them: id, name, slug), and for platform admins. FORBIDDEN for a
    /// session signed in on a tenant's custom domain.
    async fn delete_my_account(&self, ctx: &Context<'_>) -> Result<bool> {
        let me = session(ctx).require_user(db(ctx)).await?;
        // The account is everyone's business, not one tenant's.
        me.require_unbound_or(None)?;
        let left =
            erasure::delete_my_account(db(ctx), &services(ctx).exports, meta(ctx), &me).await?;
        for tenant in left {
            services(ctx).api_keys.invalidate(&format!("t:{tenant}"));
        }
        Ok(true)
    }

    /// Purges a tenant at once, whatever its status (platform admins): every
    /// row of it, its Stripe customer, and the people who belong to no other
    /// tenant. Audited in the platform's trail; its tombstone remains.
    #[graphql(guard = "PlatformAdmin")]
    async fn purge_tenant(&self, ctx: &Context<'_>, id: ID) -> Result<PurgeResult> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let tenant =
            Uuid::parse_str(&id).map_err(|_| AppError::bad_field("id", "not a valid id"))?;
        let s = services(ctx);
        let purger = Purger::new(db(ctx).clone(), s.billing.clone(), s.exports.clone());
        let (run, stone) =
            crate::admin::purge_tenant(db(ctx), &purger, meta(ctx), &me, tenant).await?;
        s.api_keys.invalidate(&format!("t:{tenant}"));
        Ok(PurgeResult {
            people_erased: run.people_erased,
            rows_deleted: run.rows_deleted,
            tombstone: stone.map(Into::into),
        })
    }
}
