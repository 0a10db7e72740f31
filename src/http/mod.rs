//! The HTTP surface: router, middleware, and the handlers of each path.
//!
//! | path | what |
//! |---|---|
//! | `/graphql` | GraphQL over HTTP (GET queries, POST everything) |
//! | `/playground` | GraphiQL, from assets inside the binary |
//! | `/v1/authorize` | the one-step key check as plain JSON |
//! | `/v1/usage` | batch usage ingest as plain JSON |
//! | `/v1/public/{key}/check`, `/v1/public/{key}/branding` | what a publishable key may call, CORS per tenant ([`public`]) |
//! | `/webhooks/stripe` | Stripe's events (signed; 404 with billing off) |
//! | `/metrics` | Prometheus metrics (only with `--metrics-token`; or on `--metrics-listen`) |
//! | `/healthz`, `/readyz` | liveness, readiness |
//! | everything else (GET) | the web app |

mod audit_export;
pub mod authorize;
pub mod client;
pub mod credentials;
pub mod exports;
pub mod graphql;
mod graphql_response;
pub mod health;
pub mod media;
pub mod metrics;
pub mod public;
pub mod request_id;
pub mod stripe_webhook;
pub mod usage;
pub mod web;
pub mod websocket;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;

/// The whole application router. `/metrics` is on it only behind a token and
/// when it has no listener of its own ([`metrics_router`]).
pub fn router(state: AppState) -> Router {
    let mut routes = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/v1/authorize", post(authorize::v1_authorize))
        .route(
            "/v1/public/{key}/check",
            post(public::check)
                .layer(axum::extract::DefaultBodyLimit::max(public::MAX_BODY))
                .options(public::preflight),
        )
        .route(
            "/v1/public/{key}/branding",
            get(public::branding).options(public::preflight),
        )
        .route("/v1/audit-log/export", get(audit_export::export))
        .route("/v1/exports/{id}/download", get(exports::download))
        .route(
            "/v1/usage",
            post(usage::v1_usage).layer(axum::extract::DefaultBodyLimit::max(usage::MAX_BODY)),
        )
        .route(
            "/webhooks/stripe",
            post(stripe_webhook::receive).layer(axum::extract::DefaultBodyLimit::max(
                crate::billing::MAX_WEBHOOK_BYTES,
            )),
        );
    routes = if state.settings.metrics.on_main_listener() {
        routes.route("/metrics", get(metrics::metrics))
    } else {
        // Not the web app's fallback either: plainly not here.
        routes.route("/metrics", get(metrics::not_here))
    };
    routes
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/playground", get(web::playground))
        .route("/playground/", get(web::playground))
        .fallback(get(web::app))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            unrouted_hosts,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            leak_watch,
        ))
        .layer(axum::middleware::from_fn_with_state(state, timeout))
        .layer(TraceLayer::new_for_http())
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(axum::middleware::from_fn(request_id::layer))
        .layer(axum::middleware::from_fn(client::host_from_authority))
}

/// Refuses (NOT_FOUND, 404) a request to a custom host (not the portal's,
/// not under the base domain) that routes to no tenant, on the web app, the
/// playground and the file endpoints, as `/graphql` (sign-in, refresh,
/// sockets), `/v1/authorize` and `/v1/usage` do in their handlers: nothing
/// that signs someone in or carries a session is served on an address a
/// tenant may control but does not route here.
/// Probes, metrics, Stripe's webhook and publishable-key calls (no session,
/// the key names the tenant) are let through.
async fn unrouted_hosts(
    axum::extract::State(app): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    const OWN_CHECK: [&str; 8] = [
        "/graphql",
        "/v1/authorize",
        "/v1/usage",
        "/v1/public/",
        "/webhooks/",
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    let path = req.uri().path();
    if OWN_CHECK.iter().any(|p| path.starts_with(p)) {
        return next.run(req).await;
    }
    let host = client::request_host(req.headers(), app.settings.trusted_proxies);
    // Unknown subdomains of the base domain keep the web app (its page says
    // so): no tenant controls them.
    let custom = host
        .is_some_and(|h| matches!(app.domains.classify(h), crate::domains::HostName::Custom(_)));
    if custom && let Err(err) = app.domains.tenant_of_host(host).await {
        let request_id = req
            .extensions()
            .get::<request_id::RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        return file_refusal(err, &request_id);
    }
    next.run(req).await
}

/// `/metrics` alone, for its own listener (`--metrics-listen`); with a token
/// set, it is required there too.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .with_state(state)
        .layer(TraceLayer::new_for_http())
}

/// A refusal of a file endpoint (`/v1/audit-log/export`,
/// `/v1/exports/{id}/download`) in the GraphQL error shape the timeout and
/// panic layers use too: `{errors:[{message, extensions:{code, requestId,
/// field?, retryAfter?}}]}`, with the code's status, `Retry-After` when it
/// applies, `WWW-Authenticate` on 401 and `Cache-Control: no-store`.
pub(crate) fn file_refusal(err: crate::error::AppError, request_id: &str) -> Response {
    use crate::error::AppError;
    let status = err.http_status();
    let mut extensions =
        serde_json::json!({ "code": err.code().as_str(), "requestId": request_id });
    if let AppError::BadUserInput {
        field: Some(field), ..
    } = &err
    {
        extensions["field"] = serde_json::json!(field);
    }
    let retry = match &err {
        AppError::RateLimited { retry_after, .. } => Some(retry_after.as_secs().max(1)),
        _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(1),
        _ => None,
    };
    if let Some(seconds) = retry {
        extensions["retryAfter"] = serde_json::json!(seconds);
    }
    let body = serde_json::json!({ "errors": [{ "message": err.public_message(), "extensions": extensions }] });
    let mut res = (status, axum::Json(body)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(seconds) = retry {
        h.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    res
}

/// A JSON error response outside GraphQL execution (the request id is added by
/// the request-id layer as a header; the body names it too when known).
fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: Option<&str>,
) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code, "requestId": request_id } }]
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        crate::error::INTERNAL_MESSAGE,
        None,
    )
}

/// Answers UNAVAILABLE (503) when a request takes longer than the request
/// timeout, reading its body included. Every request is timed: an accepted
/// WebSocket upgrade only until its 101 answer (the socket then runs in a task
/// of its own, bounded by its ping and idle timeouts), so an `Upgrade` header
/// buys no time.
async fn timeout(
    axum::extract::State(app): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = app.settings.connections.request_timeout;
    let request_id = req
        .extensions()
        .get::<request_id::RequestId>()
        .map(|r| r.0.clone());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "the request took too long; try again",
                request_id.as_deref(),
            )
        }
    }
}

/// Notes a secret key sent from a browser page of another origin in its
/// tenant's audit trail (in the background, at most once per key per hour);
/// the endpoint refuses the request itself ([`authorize::presented_key`]).
async fn leak_watch(
    axum::extract::State(app): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(secret) = authorize::leaked_key(req.headers()) {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        let request_id = req
            .extensions()
            .get::<request_id::RequestId>()
            .cloned()
            .unwrap_or(request_id::RequestId(String::new()));
        if let Some(peer) = peer
            && let Ok(meta) = client::request_meta(
                &request_id,
                peer,
                req.headers(),
                app.settings.trusted_proxies,
            )
        {
            let origin = req
                .headers()
                .get(header::ORIGIN)
                .and_then(|o| o.to_str().ok())
                .map(|o| o.chars().take(300).collect());
            public::report_leak(&app, secret, origin, meta);
        }
    }
    next.run(req).await
}
