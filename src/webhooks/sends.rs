//! Sends a member asks for: `replayWebhookDelivery` (a new delivery of any
//! delivery's message, successes too) and `sendTestWebhook` (a
//! `webhook.test` event to one endpoint). Both make outgoing HTTP on
//! request, so both spend one budget per tenant ([`SENDS`]: RATE_LIMITED
//! with retryAfter past it), inside their transaction (a refused or failed
//! send costs nothing). One path: standing confirmed, budget spent, the
//! endpoint locked and required enabled, the delivery written and audited,
//! then read back.

use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::access::{confirm, key_may_read, require_write};
use super::service::Webhooks;
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::keys::Manager;
use crate::auth::throttle::{self, Budget};
use crate::db::webhook_deliveries::{self as deliveries, Delivery};
use crate::db::webhook_endpoints::{self as rows, Endpoint};
use crate::error::{AppError, AppResult};
use crate::tenancy::not_found;

/// Test sends and replays per tenant (together): each is one outgoing
/// request on demand, up to the 8 attempts of the schedule.
pub const SENDS: Budget = Budget {
    max: 60,
    window: std::time::Duration::from_secs(60 * 60),
};

/// What a send is of.
#[derive(Debug, Clone, Copy)]
enum Send {
    /// A new delivery of this delivery's message.
    Replay(Uuid),
    /// A test event to this endpoint.
    Test(Uuid),
}

impl Webhooks {
    /// A new delivery of `delivery`'s message to its endpoint (successes
    /// too), due at once. CONFLICT when the endpoint is disabled.
    pub async fn replay(
        &self,
        meta: &RequestMeta,
        by: &Manager,
        delivery: &str,
    ) -> AppResult<Delivery> {
        require_write(by)?;
        let id = Uuid::parse_str(delivery)
            .map_err(|_| AppError::bad_field("id", "not a webhook delivery id"))?;
        self.send(meta, by, Send::Replay(id)).await
    }

    /// Sends a `webhook.test` event to one endpoint (CONFLICT when it is
    /// disabled).
    pub async fn send_test(
        &self,
        meta: &RequestMeta,
        by: &Manager,
        endpoint: &str,
    ) -> AppResult<Delivery> {
        require_write(by)?;
        let id = Uuid::parse_str(endpoint)
            .map_err(|_| AppError::bad_field("id", "not a webhook endpoint id"))?;
        self.send(meta, by, Send::Test(id)).await
    }

    async fn send(&self, meta: &RequestMeta, by: &Manager, what: Send) -> AppResult<Delivery> {
        let (meta, by) = (meta.clone(), by.clone());
        let tenant = by.tenant_id();
        let row = self
            .0
            .db
            .scoped(by.scope(), |conn| {
                async move {
                    confirm(conn, &by).await?;
                    spend(conn, tenant).await?;
                    let (original, endpoint) = match what {
                        Send::Replay(id) => {
                            let o = deliveries::find(conn, tenant, id)
                                .await?
                                .ok_or_else(|| not_found("webhook delivery"))?;
                            if let Manager::Key(grant) = &by
                                && !key_may_read(grant.scopes, &o.event_type)
                            {
                                return Err(AppError::forbidden(format!(
                                    "this API key may not replay a {} delivery: its data \
                                     needs a scope the key lacks",
                                    o.event_type
                                )));
                            }
                            let endpoint = o.endpoint_id;
                            (Some(o), endpoint)
                        }
                        Send::Test(id) => (None, id),
                    };
                    let endpoint = rows::find_for_update(conn, tenant, endpoint)
                        .await?
                        .ok_or_else(|| not_found("webhook endpoint"))?;
                    require_enabled(&endpoint)?;
                    let (id, action, target, after) = match original {
                        Some(o) => {
                            let id = deliveries::insert(
                                conn,
                                tenant,
                                endpoint.id,
                                o.event_id,
                                Some(o.id),
                            )
                            .await?;
                            let after = json!({
                                "endpointId": endpoint.id,
                                "eventId": o.event_id,
                                "eventType": o.event_type,
                                "replayOf": o.id,
                            });
                            (
                                id,
                                "webhook_delivery.replay",
                                ("webhook_delivery", id),
                                after,
                            )
                        }
                        None => {
                            let event = super::emit_test(
                                conn,
                                tenant,
                                json!({
                                    "endpointId": endpoint.id,
                                    "message": "A test event, sent with sendTestWebhook.",
                                }),
                            )
                            .await?;
                            let id =
                                deliveries::insert(conn, tenant, endpoint.id, event, None).await?;
                            let after = json!({ "deliveryId": id, "eventId": event });
                            let target = ("webhook_endpoint", endpoint.id);
                            (id, "webhook_endpoint.test", target, after)
                        }
                    };
                    audit::record(
                        conn,
                        &meta,
                        Entry::new(Some(tenant), by.actor(), action)
                            .target(target.0, target.1)
                            .change(None, Some(after)),
                    )
                    .await?;
                    deliveries::find(conn, tenant, id)
                        .await?
                        .ok_or_else(|| AppError::internal(anyhow::anyhow!("send vanished")))
                }
                .scope_boxed()
            })
            .await?;
        self.wake();
        Ok(row)
    }
}

/// Spends one send of the tenant's budget (in the caller's transaction).
async fn spend(conn: &mut diesel_async::AsyncPgConnection, tenant: Uuid) -> AppResult<()> {
    throttle::spend_on(conn, &[(format!("webhook-send:{tenant}"), SENDS)])
        .await
        .map_err(|err| match err {
            AppError::RateLimited { retry_after, .. } => AppError::rate_limited(
                format!(
                    "too many webhook test sends and replays: at most {} an hour per tenant",
                    SENDS.max
                ),
                retry_after,
            ),
            other => other,
        })
}

fn require_enabled(endpoint: &Endpoint) -> AppResult<()> {
    if endpoint.enabled {
        Ok(())
    } else {
        Err(AppError::conflict(
            "this webhook endpoint is disabled: enable it (updateWebhookEndpoint) first",
        ))
    }
}
