//! `POST /webhooks/stripe`: Stripe's events, verified over the raw bytes
//! before anything reads them, stored once, answered at once (the work runs
//! after the answer; see `billing::events`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;
use crate::billing::WebhookError;

/// Receives one delivery: 200 for a new or already-stored event (whatever its
/// type: Stripe disables endpoints that keep failing), 400 for a bad
/// signature or body (nothing stored), 404 with billing off, 503 when the
/// event could not be stored (Stripe delivers it again).
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    // A header that is not text is a bad signature, not a missing one.
    let signature = headers
        .get("stripe-signature")
        .map(|v| v.to_str().unwrap_or("unreadable"));
    match state.billing.receive_webhook(&body, signature).await {
        Ok(new) => (
            StatusCode::OK,
            axum::Json(json!({ "received": true, "new": new })),
        )
            .into_response(),
        Err(err) => {
            let status = match err {
                WebhookError::NotConfigured => StatusCode::NOT_FOUND,
                WebhookError::MissingSignature
                | WebhookError::BadSignature
                | WebhookError::BadPayload => StatusCode::BAD_REQUEST,
                WebhookError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            };
            if status == StatusCode::BAD_REQUEST {
                // Anyone can send these: one warning per 10 s at most (a
                // wrong secret shows at once; a flood does not flood the log).
                if warn_now() {
                    tracing::warn!(error = %err, "a Stripe webhook delivery was refused (further refusals within 10 s are logged at debug)");
                } else {
                    tracing::debug!(error = %err, "a Stripe webhook delivery was refused");
                }
            }
            (status, axum::Json(json!({ "error": err.to_string() }))).into_response()
        }
    }
}

/// Whether a refusal may be logged at warn now (at most one per 10 s).
fn warn_now() -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST.load(Ordering::Relaxed);
    now >= last + 10
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}
