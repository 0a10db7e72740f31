//! Outgoing webhooks end to end. `api.rs`: managing endpoints (who may, bad
//! inputs with their codes and nothing changed, the bound per tenant, other
//! tenants never reach them, every change audited, secrets never stored in
//! the clear); `delivery.rs`: deliveries checked by the Standard Webhooks
//! reference library in a Node receiver (`tests/fixtures/webhook_receiver.mjs`),
//! the retry schedule on an advanced clock, `Retry-After`, 410, replay,
//! rotation, outbox atomicity, two instances; `ssrf.rs`: refused addresses in
//! production; `limits.rs`: the send budget, the pending cap, retention;
//! `review.rs`: the fair claim on the database's clock, re-sealing, a key's
//! scopes re-checked, the failure streak reset.

mod api;
mod delivery;
mod hardening;
mod limits;
mod receiver;
mod review;
mod scopes;
mod ssrf;

use serde_json::{Value, json};

use crate::support::TestApp;

pub(crate) const CREATE: &str = "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id url description eventTypes enabled previousSecretExpiresAt } } }";
pub(crate) const UPDATE: &str = "mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { id url description eventTypes enabled disabledReason disabledAt } }";
pub(crate) const DELETE: &str = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id url } }";
pub(crate) const ROTATE: &str = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id previousSecretExpiresAt } } }";
pub(crate) const REPLAY: &str = "mutation($id: ID!) { replayWebhookDelivery(id: $id) { id eventId eventType status replayOf attemptCount } }";
pub(crate) const TEST: &str =
    "mutation($id: ID!) { sendTestWebhook(id: $id) { id eventId eventType status payload } }";
pub(crate) const LIST: &str =
    "{ tenant { webhookEndpoints { id url eventTypes enabled disabledReason failingSince } } }";
pub(crate) const ONE: &str = "query($id: ID!, $first: Int) { tenant { webhookEndpoint(id: $id) { id url enabled disabledReason failingSince deliveries(first: $first) { pageInfo { hasNextPage endCursor } edges { node { id eventId eventType status attemptCount nextAttemptAt replayOf payload attempts { attemptedAt statusCode latencyMs responseExcerpt error } } } } } } }";

/// Creates an endpoint as `token`; returns (id, secret).
pub(crate) async fn create(app: &TestApp, token: &str, input: Value) -> (String, String) {
    let a = app.gql(CREATE, json!({ "i": input }), Some(token)).await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    let p = &a.body["data"]["createWebhookEndpoint"];
    (
        p["endpoint"]["id"].as_str().unwrap().to_owned(),
        p["secret"].as_str().unwrap().to_owned(),
    )
}

/// The endpoint's deliveries (newest first) as `token` sees them.
pub(crate) async fn deliveries(app: &TestApp, token: &str, endpoint: &str) -> Vec<Value> {
    let a = app
        .gql(ONE, json!({ "id": endpoint, "first": 50 }), Some(token))
        .await;
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    a.body["data"]["tenant"]["webhookEndpoint"]["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}
