//! The query root.

use async_graphql::{Context, Object, Result};
use scoped_futures::ScopedFutureExt;

use super::types::tenant::Tenant;
use super::types::user::User;
use super::types::viewer::Viewer;
use crate::auth::{Principal, Session};
use crate::db::{Db, tenants, users};
use crate::error::AppError;
use crate::tenancy::Scope;

/// Entry points for reading.
#[derive(Default)]
pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The caller: the signed-in user, the active tenant and the user's role in it.
    /// `null` for anonymous callers.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<Viewer>> {
        let session = ctx.data::<Session>()?;
        let db = ctx.data::<Db>()?;
        let Principal::User { user_id } = session.principal else {
            return Ok(None);
        };
        let access = session.tenant_access(db).await?;
        let scope = match &access {
            Some(access) => access.scope(),
            None => Scope::user(user_id),
        };
        let tenant_id = access.as_ref().map(|a| a.tenant_id);
        let (user, tenant) = db
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
        // A valid token for a user that no longer exists.
        let user =
            user.ok_or_else(|| AppError::unauthenticated("this account no longer exists"))?;
        Ok(Some(Viewer {
            user: User(user),
            tenant: tenant.map(Tenant),
            role: access.map(|a| a.role.into()),
        }))
    }
}
