//! `/healthz` (the process is alive) and `/readyz` (it can serve: database
//! reachable, migrations applied; it also says whether key changes are being
//! received, which does not affect readiness: without them every key is
//! checked in the database, and whether Redis answers, which does not either:
//! key calls answer UNAVAILABLE without it, on every instance alike).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::AppState;

/// Alive: answers as long as the process serves HTTP.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: the database answers within 2 s and every migration is applied.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<Value>) {
    let key_changes = if app.api_keys.is_live() {
        "received"
    } else {
        "not received"
    };
    // Redis holds the shared rate-limit counters: without it key calls answer
    // UNAVAILABLE, but everything else serves, and every instance shares the
    // same Redis, so it is reported without making the instance unready.
    let redis = match tokio::time::timeout(Duration::from_secs(1), app.usage.redis_status()).await {
        Ok(None) => "not configured",
        Ok(Some(Ok(()))) => "ok",
        Ok(Some(Err(reason))) => {
            tracing::warn!(%reason, "redis does not answer");
            "unreachable"
        }
        Err(_) => "unreachable",
    };
    let check = tokio::time::timeout(Duration::from_secs(2), app.db.readiness()).await;
    match check {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(json!({
                "status": "ready", "database": "ok", "migrations": "current",
                "keyChanges": key_changes, "redis": redis,
            })),
        ),
        Ok(Err(reason)) => {
            // The detail (driver messages, host names) goes to the log only.
            tracing::warn!(%reason, "not ready");
            let public = if reason.starts_with("migrations") {
                "migrations are not applied"
            } else {
                "the database is unreachable"
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": public })),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": "database: no answer within 2 s" })),
        ),
    }
}
