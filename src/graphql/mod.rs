//! The GraphQL schema: roots, types, and the limits the schema itself enforces.
//!
//! Only this module knows GraphQL types. Resolvers read the request's
//! [`crate::auth::Session`] from the context and reach data only through
//! [`crate::db::Db::scoped`].

pub mod types;

mod mutation;
mod query;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema};

use crate::app::Settings;
use crate::auth::jwt::JwtKeys;
use crate::db::Db;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

/// The schema type of the API.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema with its data and limits. Alias and token limits need the
/// raw document and are enforced by the HTTP endpoint before execution.
pub fn build_schema(db: Db, keys: Arc<JwtKeys>, settings: &Settings) -> AppSchema {
    let limits = &settings.limits;
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .data(db)
        .data(keys)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits.max_directives)
        .limit_recursive_depth(32)
        .extension(async_graphql::extensions::Tracing);
    if settings.is_production() {
        // With suggestions on, a schema can be rebuilt even with introspection off.
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    let schema = Schema::build(QueryRoot, MutationRoot, EmptySubscription).finish();
    schema.sdl()
}
