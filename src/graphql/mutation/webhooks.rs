//! Webhook endpoints: create (the secret shown once), update, delete,
//! rotate the secret, replay a delivery, send a test event. Admins and
//! owners acting in the tenant, or API keys with `webhooks:write`; each
//! audited (see `webhooks::endpoints`).

use async_graphql::{Context, ID, InputObject, Object, Result};

use crate::graphql::context::{key_manager as manager, meta, services};
use crate::graphql::types::webhook::{WebhookDelivery, WebhookEndpoint, WebhookEndpointSecret};
use crate::tenancy::Scope;
use crate::webhooks::endpoints::{EndpointChanges, NewEndpointInput};

/// What `createWebhookEndpoint` needs.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where to POST events: `https://`, at most 2,048 characters, no user
    /// name or password, not a private, loopback or metadata address.
    pub url: String,
    /// What it is for (at most 500 characters).
    pub description: Option<String>,
    /// The event types it wants (see `webhookEventTypes`); empty or absent:
    /// every type, those added later included.
    #[graphql(default)]
    pub event_types: Vec<String>,
}

/// What `updateWebhookEndpoint` changes (absent: unchanged).
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint.
    pub id: ID,
    /// A new URL (same rules as when created).
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// New event types (empty: every type).
    pub event_types: Option<Vec<String>>,
    /// `false` disables it (its pending deliveries are canceled); `true`
    /// enables it again (the failure streak starts over).
    pub enabled: Option<bool>,
}

/// Webhook endpoint mutations.
#[derive(Default)]
pub struct WebhooksMutation;

fn endpoint(row: crate::db::webhook_endpoints::Endpoint) -> WebhookEndpoint {
    WebhookEndpoint {
        scope: Scope::tenant(row.tenant_id),
        row,
    }
}

#[Object]
impl WebhooksMutation {
    /// Adds a webhook endpoint to the active tenant (at most 20; CONFLICT
    /// past that) and returns its signing secret, shown this once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<WebhookEndpointSecret> {
        let by = manager(ctx).await?;
        let (row, secret) = services(ctx)
            .webhooks
            .create(
                meta(ctx),
                &by,
                NewEndpointInput {
                    url: input.url,
                    description: input.description,
                    event_types: input.event_types,
                },
            )
            .await?;
        Ok(WebhookEndpointSecret {
            endpoint: endpoint(row),
            secret: secret.expose().to_owned(),
        })
    }

    /// Changes an endpoint's URL, description, event types, or enables or
    /// disables it.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpoint> {
        let by = manager(ctx).await?;
        let row = services(ctx)
            .webhooks
            .update(
                meta(ctx),
                &by,
                &input.id,
                EndpointChanges {
                    url: input.url,
                    description: input.description,
                    event_types: input.event_types,
                    enabled: input.enabled,
                },
            )
            .await?;
        Ok(endpoint(row))
    }

    /// Deletes an endpoint and its delivery log; returns it as it was.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        let by = manager(ctx).await?;
        let row = services(ctx).webhooks.delete(meta(ctx), &by, &id).await?;
        Ok(endpoint(row))
    }

    /// Issues a new signing secret, shown this once. The previous secret
    /// keeps signing for 24 hours: both signatures are sent meanwhile, so
    /// receivers can switch without missing a message.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<WebhookEndpointSecret> {
        let by = manager(ctx).await?;
        let (row, secret) = services(ctx).webhooks.rotate(meta(ctx), &by, &id).await?;
        Ok(WebhookEndpointSecret {
            endpoint: endpoint(row),
            secret: secret.expose().to_owned(),
        })
    }

    /// Sends a delivery's message again to its endpoint, as a new delivery
    /// (any delivery, successes too; the same `webhook-id`). CONFLICT when
    /// the endpoint is disabled.
    async fn replay_webhook_delivery(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookDelivery> {
        let by = manager(ctx).await?;
        let row = services(ctx).webhooks.replay(meta(ctx), &by, &id).await?;
        Ok(WebhookDelivery::fresh(row))
    }

    /// Sends a `webhook.test` event to one endpoint. CONFLICT when it is
    /// disabled.
    async fn send_test_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookDelivery> {
        let by = manager(ctx).await?;
        let row = services(ctx)
            .webhooks
            .send_test(meta(ctx), &by, &id)
            .await?;
        Ok(WebhookDelivery::fresh(row))
    }
}
