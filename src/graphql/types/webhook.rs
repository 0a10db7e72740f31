//! Webhook endpoints and their delivery log (`Tenant.webhookEndpoints`,
//! `Tenant.webhookEndpoint`): admins and owners of the tenant, API keys with
//! `webhooks:read`. A page of deliveries and their attempts costs two
//! statements whatever its size.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::tenant::{Reader, Tenant};
use crate::auth::Role;
use crate::auth::api_keys::KeyScope;
use crate::db::webhook_deliveries::{Attempt, Delivery};
use crate::db::webhook_endpoints::Endpoint;
use crate::error::AppError;
use crate::graphql::context::{db, services, session};
use crate::graphql::cursor;
use crate::tenancy::Scope;
use crate::webhooks::reads::LoggedDelivery;

/// A receiver of the tenant's events (signed by the Standard Webhooks spec).
pub struct WebhookEndpoint {
    pub row: Endpoint,
    /// The scope it was read in (its deliveries are read in it too).
    pub scope: Scope,
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum WebhookDeliveryStatus {
    /// Attempts to come (`nextAttemptAt`).
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// The retry schedule ran out, or the receiver answered 410 Gone.
    Failed,
    /// The endpoint was disabled before it succeeded.
    Canceled,
}

impl WebhookDeliveryStatus {
    fn from_db(s: &str) -> Self {
        match s {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "canceled" => Self::Canceled,
            _ => Self::Pending,
        }
    }
}

/// One message (an event) to one endpoint, with its attempts.
pub struct WebhookDelivery(pub LoggedDelivery);

/// One attempt of a delivery.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    /// The attempt's id.
    pub id: ID,
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status (null: no answer, see `error`).
    pub status_code: Option<i32>,
    /// From sending to the end of the response's first 1 KB, in milliseconds.
    pub latency_ms: i32,
    /// The first 1 KB of the response body.
    pub response_excerpt: Option<String>,
    /// Why it failed (a refused address, a timeout, a status other than 2xx).
    pub error: Option<String>,
}

impl From<Attempt> for WebhookAttempt {
    fn from(a: Attempt) -> Self {
        Self {
            id: ID(a.id.to_string()),
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response_excerpt: a.response_excerpt,
            error: a.error,
        }
    }
}

/// A new endpoint or a rotated secret: the secret is shown this once.
#[derive(SimpleObject)]
pub struct WebhookEndpointSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`): verify `webhook-signature` with it
    /// (any Standard Webhooks library). Not shown again.
    pub secret: String,
}

#[Object]
impl WebhookEndpoint {
    /// The endpoint's id.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// Where events are POSTed (https://).
    async fn url(&self) -> &str {
        &self.row.url
    }

    /// What it is for.
    async fn description(&self) -> &str {
        &self.row.description
    }

    /// The event types it receives; empty: every type (see `webhookEventTypes`).
    async fn event_types(&self) -> Vec<String> {
        self.row.types()
    }

    /// Whether events are sent to it.
    async fn enabled(&self) -> bool {
        self.row.enabled
    }

    /// Why it is disabled (by whom, a 410 Gone, or 5 days of failures).
    async fn disabled_reason(&self) -> Option<&str> {
        self.row.disabled_reason.as_deref()
    }

    /// When it was disabled.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.row.disabled_at
    }

    /// The first failed attempt since its last success (null: not failing).
    /// After 5 days of failures it is disabled.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.row.failing_since
    }

    /// Events not sent to it because it already had 10,000 pending
    /// deliveries (ever; reported to the audit trail once a day at most).
    async fn dropped_events(&self) -> i64 {
        self.row.dropped_count
    }

    /// When an event was last dropped for it (null: never).
    async fn last_dropped_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_dropped_at
    }

    /// Until when the previous secret still signs (both signatures are
    /// sent), after a rotation; null when only one secret signs.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        crate::webhooks::endpoints::previous_valid(&self.row, Utc::now())
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }

    /// Its deliveries, newest first, each with its attempts.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, WebhookDelivery, EmptyFields, EmptyFields>> {
        let limit = cursor::page_size(first)?;
        let after = cursor::decode_opt(after.as_deref())?;
        let rows = services(ctx)
            .webhooks
            .deliveries(
                db(ctx),
                self.scope.clone(),
                self.row.tenant_id,
                self.row.id,
                after,
                limit,
            )
            .await?;
        Ok(cursor::connection(
            rows,
            limit,
            after.is_some(),
            |r| (r.delivery.created_at, r.delivery.id),
            WebhookDelivery,
        ))
    }
}

/// The complexity of `webhookEndpoints`: its selection once for each of
/// the most endpoints a tenant may have, plus one.
pub fn endpoints_cost(child_complexity: usize) -> usize {
    let most = usize::try_from(crate::webhooks::endpoints::MAX_ENDPOINTS).unwrap_or(usize::MAX);
    most.saturating_mul(child_complexity).saturating_add(1)
}

/// The complexity of a delivery's `attempts`: its selection once for each
/// of the most attempts a delivery may have, plus one.
pub fn attempts_cost(child_complexity: usize) -> usize {
    crate::webhooks::deliver::MAX_ATTEMPTS
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

#[Object]
impl WebhookDelivery {
    /// The delivery's id (give it to `replayWebhookDelivery`).
    async fn id(&self) -> ID {
        ID(self.0.delivery.id.to_string())
    }

    /// The endpoint it goes to.
    async fn endpoint_id(&self) -> ID {
        ID(self.0.delivery.endpoint_id.to_string())
    }

    /// The message's id: the `webhook-id` header (the same for every
    /// attempt and replay of the message: receivers deduplicate by it).
    async fn event_id(&self) -> ID {
        ID(self.0.delivery.event_id.to_string())
    }

    /// The event's type (`type` in the body).
    async fn event_type(&self) -> &str {
        &self.0.delivery.event_type
    }

    /// The event's `data`, as sent. To an API key lacking the scope that
    /// reads the event's family (members:read for member.* and
    /// invitation.*, keys:read, billing:read, usage:read, tenant:read):
    /// `{"redacted": "<why>"}` instead.
    async fn payload(&self, ctx: &Context<'_>) -> Json<serde_json::Value> {
        let kind = &self.0.delivery.event_type;
        if let Some(call) = session(ctx).key()
            && !crate::webhooks::endpoints::key_may_read(call.grant.scopes, kind)
        {
            return Json(serde_json::json!({
                "redacted": format!("this API key lacks the scope that reads {kind} data")
            }));
        }
        Json(self.0.delivery.payload.clone())
    }

    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        WebhookDeliveryStatus::from_db(&self.0.delivery.status)
    }

    /// Attempts made so far.
    async fn attempt_count(&self) -> i32 {
        self.0.delivery.attempt_count
    }

    /// When the next attempt is due (while pending).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivery.next_attempt_at
    }

    /// The delivery this one replays.
    async fn replay_of(&self) -> Option<ID> {
        self.0.delivery.replay_of.map(|id| ID(id.to_string()))
    }

    /// When it was made (the event, or the replay or test).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.delivery.created_at
    }

    /// When it ended (succeeded, failed or canceled).
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivery.completed_at
    }

    /// Its attempts, oldest first: at most 8 (the first and the 7 retries of
    /// the schedule), read for the whole page in the page's second statement;
    /// priced as 8 (every field under it counts 8×).
    #[graphql(complexity = "attempts_cost(child_complexity)")]
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        self.0.attempts.iter().cloned().map(Into::into).collect()
    }
}

impl WebhookDelivery {
    /// A delivery with no attempts yet (just made by a replay or test).
    pub fn fresh(delivery: Delivery) -> Self {
        Self(LoggedDelivery {
            delivery,
            attempts: Vec::new(),
        })
    }
}

/// The scope to read `tenant`'s webhooks in: admins and owners acting in
/// it, or its API keys with `webhooks:read`.
fn reader_scope(tenant: &Tenant) -> Result<Scope, AppError> {
    match &tenant.reader {
        Reader::Key(grant) if grant.tenant_id == tenant.row.id => {
            grant.require(KeyScope::WebhooksRead)?;
            Ok(Scope::tenant(grant.tenant_id))
        }
        Reader::Member(access) if access.tenant_id == tenant.row.id => {
            access.require(Role::Admin)?;
            Ok(access.scope())
        }
        _ => Err(AppError::forbidden(
            "only the tenant's admins and owners (acting in it) and its API keys with \
             webhooks:read see its webhooks",
        )),
    }
}

/// `Tenant.webhookEndpoints`.
pub async fn list(tenant: &Tenant, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
    let scope = reader_scope(tenant)?;
    let rows = services(ctx)
        .webhooks
        .list(db(ctx), scope.clone(), tenant.row.id)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| WebhookEndpoint {
            row,
            scope: scope.clone(),
        })
        .collect())
}

/// `Tenant.webhookEndpoint(id)`.
pub async fn one(tenant: &Tenant, ctx: &Context<'_>, id: &ID) -> Result<Option<WebhookEndpoint>> {
    let scope = reader_scope(tenant)?;
    let id =
        Uuid::parse_str(id).map_err(|_| AppError::bad_field("id", "not a webhook endpoint id"))?;
    let row = services(ctx)
        .webhooks
        .find(db(ctx), scope.clone(), tenant.row.id, id)
        .await?;
    Ok(row.map(|row| WebhookEndpoint { row, scope }))
}
