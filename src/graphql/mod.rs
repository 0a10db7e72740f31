//! The GraphQL schema: roots, types, guards, loaders, and the limits the schema
//! itself enforces.
//!
//! Only this module knows GraphQL types. Resolvers read the request's
//! [`crate::auth::Session`] from the context and reach data only through
//! [`crate::db::Db::scoped`].

pub mod compiled;
pub mod context;
pub mod cursor;
pub mod document;
pub mod errors;
pub mod guards;
pub mod loaders;
pub mod sockets;
pub mod trusted;
pub mod types;

mod live_usage;
mod mutation;
mod query;
mod subscription;

use async_graphql::Schema;

use crate::app::Services;
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

/// The schema type of the API.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The root fields that start or change a session: at most one of them runs per
/// request, so aliases cannot multiply sign-in attempts.
pub const SESSION_FIELDS: &[&str] = &[
    "signUp",
    "logIn",
    "refreshSession",
    "verifyMagicLink",
    "requestMagicLink",
    "requestPasswordReset",
    "resetPassword",
    "acceptInvitation",
    "verifyEmail",
];

/// Builds the schema with its services and limits. Token, nesting, expansion,
/// depth, alias, directive and session-field limits need the raw document and
/// are enforced by [`document::check`] (over HTTP and WebSocket) before
/// anything else walks the document; complexity (the list-aware cost) is
/// enforced here, after that check has bounded the expanded size.
pub fn build_schema(services: Services) -> AppSchema {
    let limits = services.settings.limits.clone();
    let max_subscriptions = services.settings.connections.ws_subscriptions_per_socket;
    let production = services.settings.is_production();
    let rules = sockets::SocketRules {
        limits: limits.clone(),
        max_subscriptions,
        documents: services.settings.documents.clone(),
        trusted_mode: services.settings.trusted_documents,
        db: services.db.clone(),
    };
    let mut builder = Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .data(services)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits.max_directives)
        .limit_recursive_depth(32)
        .extension(rules);
    // A span per request, parse, validation and field costs real time on every
    // request; they exist only when the log filter asks for them
    // (`--log info,async_graphql=debug`).
    if tracing::enabled!(target: "async_graphql", tracing::Level::DEBUG) {
        builder = builder.extension(async_graphql::extensions::Tracing);
    }
    if production {
        // With suggestions on, a schema can be rebuilt even with introspection off.
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .finish()
        .sdl()
}
