//! The control API for tests and the demo, under `/_sim` (JSON in and out,
//! the simulator's secret key required as on `/v1`): the clock, cards,
//! delivery mode, held events, endpoints, outages and counters.
//!
//! | request | does |
//! |---|---|
//! | `GET /_sim/status` | clock, delivery mode, endpoints, counters |
//! | `POST /_sim/clock/advance {"seconds"}` (or `"days"`) | moves the clock |
//! | `POST /_sim/customers/{id}/card {"fails"}` | card declines, or works and pays open invoices |
//! | `POST /_sim/delivery {"mode": "held" \| "automatic"}` | delivery mode |
//! | `GET /_sim/events` (`?held=true`) | events (or the held ones) |
//! | `POST /_sim/events/{id}/deliver` | delivers one now; the receivers' answers |
//! | `POST /_sim/events/{id}/drop` | drops a held event |
//! | `POST /_sim/events/release` | queues every held event for automatic delivery |
//! | `POST /_sim/endpoints {"url", "secret"}` | adds a webhook endpoint |
//! | `POST /_sim/outage {"mode": "unavailable" \| "hang" \| "lost_response", "calls"}` | the next calls fail |
//! | `GET /_sim/counts` | counters |

use std::sync::Arc;

use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::authorized;
use super::events::EventSummary;
use super::state::{Endpoint, Outage};
use super::{Shared, clock, delivery, lifecycle};

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/status", get(status))
        .route("/counts", get(counts))
        .route("/clock/advance", post(advance))
        .route("/customers/{id}/card", post(card))
        .route("/delivery", post(mode))
        .route("/events", get(list_events))
        .route("/events/release", post(release))
        .route("/events/{id}/deliver", post(deliver))
        .route("/events/{id}/drop", post(drop_event))
        .route("/endpoints", post(add_endpoint))
        .route("/outage", post(outage))
}

type Answer = Result<Json<Value>, Refused>;

/// A refused control request: its status and why.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": { "message": self.1 } }))).into_response()
    }
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Refused {
    Refused(status, message.into())
}

fn guard(shared: &Shared, headers: &HeaderMap) -> Result<(), Refused> {
    authorized(headers, &shared.secret_key).map_err(|e| refuse(StatusCode::UNAUTHORIZED, e.message))
}

async fn status(AxState(shared): AxState<Arc<Shared>>, headers: HeaderMap) -> Answer {
    guard(&shared, &headers)?;
    let state = shared.lock();
    Ok(Json(json!({
        "now": state.now(),
        "clockOffsetSeconds": state.clock.offset(),
        "apiVersion": super::API_VERSION,
        "delivery": if state.holding { "held" } else { "automatic" },
        "held": state.held.len(),
        "queued": state.queue.len(),
        "endpoints": state.endpoints.iter().map(|e| &e.url).collect::<Vec<_>>(),
        "counts": state.counts,
    })))
}

async fn counts(AxState(shared): AxState<Arc<Shared>>, headers: HeaderMap) -> Answer {
    guard(&shared, &headers)?;
    Ok(Json(json!(shared.lock().counts)))
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: Option<i64>,
    days: Option<i64>,
}

async fn advance(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<AdvanceBody>,
) -> Answer {
    guard(&shared, &headers)?;
    let seconds = body.seconds.unwrap_or(0) + body.days.unwrap_or(0) * 86_400;
    if seconds <= 0 {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "give a positive \"seconds\" or \"days\"",
        ));
    }
    let now = {
        let mut state = shared.lock();
        clock::advance(&mut state, seconds);
        state.now()
    };
    shared.wake.notify_one();
    Ok(Json(json!({ "now": now })))
}

#[derive(Deserialize)]
struct CardBody {
    fails: bool,
}

async fn card(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<CardBody>,
) -> Answer {
    guard(&shared, &headers)?;
    let result = lifecycle::set_card_fails(&mut shared.lock(), &id, body.fails);
    shared.wake.notify_one();
    result.map_err(|r| refuse(StatusCode::NOT_FOUND, r.message))?;
    Ok(Json(json!({ "customer": id, "fails": body.fails })))
}

#[derive(Deserialize)]
struct ModeBody {
    mode: String,
}

async fn mode(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<ModeBody>,
) -> Answer {
    guard(&shared, &headers)?;
    let holding = match body.mode.as_str() {
        "held" => true,
        "automatic" => false,
        other => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("mode is \"held\" or \"automatic\" (got {other:?})"),
            ));
        }
    };
    shared.lock().holding = holding;
    Ok(Json(json!({ "mode": body.mode })))
}

#[derive(Deserialize)]
struct EventsQuery {
    held: Option<bool>,
}

async fn list_events(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Answer {
    guard(&shared, &headers)?;
    let state = shared.lock();
    let events: Vec<EventSummary> = if query.held.unwrap_or(false) {
        state
            .held
            .iter()
            .filter_map(|id| state.event(id))
            .map(EventSummary::of)
            .collect()
    } else {
        state.events.iter().map(EventSummary::of).collect()
    };
    Ok(Json(json!({ "data": events })))
}

async fn deliver(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    guard(&shared, &headers)?;
    let deliveries = delivery::deliver(&shared, &id)
        .await
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no such event: {id}")))?;
    Ok(Json(json!({ "event": id, "deliveries": deliveries })))
}

async fn drop_event(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    guard(&shared, &headers)?;
    let mut state = shared.lock();
    let before = state.held.len();
    state.held.retain(|h| h != &id);
    if before == state.held.len() {
        return Err(refuse(StatusCode::NOT_FOUND, format!("no held event {id}")));
    }
    Ok(Json(json!({ "dropped": id })))
}

async fn release(AxState(shared): AxState<Arc<Shared>>, headers: HeaderMap) -> Answer {
    guard(&shared, &headers)?;
    let released = {
        let mut state = shared.lock();
        let held = std::mem::take(&mut state.held);
        for id in &held {
            for endpoint in 0..state.endpoints.len() {
                state.queue.push_back((endpoint, id.clone()));
            }
        }
        held.len()
    };
    shared.wake.notify_one();
    Ok(Json(json!({ "released": released })))
}

#[derive(Deserialize)]
struct EndpointBody {
    url: String,
    secret: String,
}

async fn add_endpoint(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<EndpointBody>,
) -> Answer {
    guard(&shared, &headers)?;
    if !body.url.starts_with("http://") && !body.url.starts_with("https://") {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "url must be an http(s) URL",
        ));
    }
    if !body.secret.starts_with("whsec_") {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "secret must start with whsec_",
        ));
    }
    shared.lock().endpoints.push(Endpoint {
        url: body.url.clone(),
        secret: body.secret,
    });
    Ok(Json(json!({ "url": body.url })))
}

#[derive(Deserialize)]
struct OutageBody {
    mode: Outage,
    calls: u32,
}

async fn outage(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<OutageBody>,
) -> Answer {
    guard(&shared, &headers)?;
    shared.lock().outage = (body.calls > 0).then_some((body.mode, body.calls));
    Ok(Json(json!({ "mode": body.mode, "calls": body.calls })))
}
