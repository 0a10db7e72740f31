//! Reading what every resolver needs from the GraphQL context.

use async_graphql::Context;

use crate::app::Services;
use crate::audit::RequestMeta;
use crate::auth::Session;
use crate::db::Db;

/// The shared services (always present: the schema is built with them).
pub fn services<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

/// The database handle.
pub fn db<'a>(ctx: &Context<'a>) -> &'a Db {
    &services(ctx).db
}

/// The request's authentication state (always present: the endpoint puts it in).
pub fn session<'a>(ctx: &Context<'a>) -> &'a Session {
    ctx.data_unchecked::<Session>()
}

/// Where the request came from.
pub fn meta<'a>(ctx: &Context<'a>) -> &'a RequestMeta {
    ctx.data_unchecked::<RequestMeta>()
}
