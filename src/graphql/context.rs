//! Reading what every resolver needs from the GraphQL context.

use async_graphql::{Context, Result};

use crate::app::Services;
use crate::audit::RequestMeta;
use crate::auth::Session;
use crate::auth::keys::Manager;
use crate::db::Db;

/// The shared services (always present: the schema is built with them).
pub fn services<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

/// The database handle of one request, whose reads share one transaction
/// (query requests; the endpoint commits it when the response is ready).
pub struct RequestDb(pub Db);

/// The database handle: the request's own when it has one, else the shared.
pub fn db<'a>(ctx: &Context<'a>) -> &'a Db {
    match ctx.data_opt::<RequestDb>() {
        Some(RequestDb(db)) => db,
        None => &services(ctx).db,
    }
}

/// The request's authentication state (always present: the endpoint puts it in).
pub fn session<'a>(ctx: &Context<'a>) -> &'a Session {
    ctx.data_unchecked::<Session>()
}

/// Where the request came from.
pub fn meta<'a>(ctx: &Context<'a>) -> &'a RequestMeta {
    ctx.data_unchecked::<RequestMeta>()
}

/// The caller as a key manager: the API key of the call, or a member of the
/// active tenant.
pub async fn key_manager(ctx: &Context<'_>) -> Result<Manager> {
    let session = session(ctx);
    if let Some(call) = session.key() {
        return Ok(Manager::Key(call.grant.clone()));
    }
    let verified = session.require_user(db(ctx)).await?;
    let access = session.require_tenant(db(ctx)).await?;
    Ok(Manager::Member { verified, access })
}
