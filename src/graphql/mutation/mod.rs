//! The mutation root, merged from one object per domain.

mod admin;
mod auth;
mod billing;
mod domains;
mod erasure;
mod exports;
mod keys;
mod publishable;
mod team;
mod usage;
mod webhooks;

use async_graphql::MergedObject;

/// Entry points for changing things.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    auth::AuthMutation,
    team::TeamMutation,
    keys::KeysMutation,
    publishable::PublishableMutation,
    admin::AdminMutation,
    billing::BillingMutation,
    usage::UsageMutation,
    exports::ExportsMutation,
    erasure::ErasureMutation,
    webhooks::WebhooksMutation,
    domains::DomainsMutation,
);
