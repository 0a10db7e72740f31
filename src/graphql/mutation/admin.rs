//! Platform admins' changes to tenants.

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use crate::admin;
use crate::error::AppError;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::guards::PlatformAdmin;
use crate::graphql::types::tenant::{Reader, Tenant};

fn parse_id(id: &ID) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::bad_field("id", "not a valid id"))
}

/// Changes only platform admins can make.
#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Suspends a tenant: its users and keys get FORBIDDEN with the reason.
    #[graphql(guard = "PlatformAdmin")]
    async fn suspend_tenant(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<Tenant> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let row =
            admin::set_suspended(db(ctx), meta(ctx), &me, parse_id(&id)?, Some(reason)).await?;
        // Its keys stop here at once (every other instance on the announcement).
        services(ctx).api_keys.invalidate(&format!("t:{}", row.id));
        Ok(Tenant {
            row,
            reader: Reader::Admin(me),
            member_count: None,
        })
    }

    /// Lifts a suspension.
    #[graphql(guard = "PlatformAdmin")]
    async fn reactivate_tenant(&self, ctx: &Context<'_>, id: ID) -> Result<Tenant> {
        let me = session(ctx).require_platform_admin(db(ctx)).await?;
        let row = admin::set_suspended(db(ctx), meta(ctx), &me, parse_id(&id)?, None).await?;
        services(ctx).api_keys.invalidate(&format!("t:{}", row.id));
        Ok(Tenant {
            row,
            reader: Reader::Admin(me),
            member_count: None,
        })
    }
}
