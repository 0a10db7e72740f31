//! API-key callers: admitting a key (verify + rate limits, no database round
//! trip when cached), the `RateLimit-*` headers, and `POST /v1/authorize`, the
//! one-step check as plain JSON for backends that don't speak GraphQL.

use axum::Json;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::credentials::bearer;
use crate::app::AppState;
use crate::auth::api_keys::KeyGrant;
use crate::auth::{KeyCall, api_keys};
use crate::error::{AppError, AppResult};
use crate::usage::{Answer, AuthorizeInput, LimitOutcome, require_recording_scope};

/// The header that may carry an API key (besides `Authorization: Bearer`).
pub const API_KEY_HEADER: &str = "x-api-key";

/// The API key a request presents, if any: `X-API-Key`, or an
/// `Authorization: Bearer tg_…` (a session token otherwise).
///
/// Refused with FORBIDDEN: a publishable key (`tg_pk_…`: it may only call
/// `/v1/public/{key}/…`), and a secret key sent from a browser page of
/// another origin (the leaked-key guard, [`super::public::from_foreign_page`]).
pub fn presented_key(headers: &HeaderMap) -> AppResult<Option<&str>> {
    let secret = presented_secret(headers)?;
    if secret.is_some() && super::public::from_foreign_page(headers) {
        return Err(AppError::forbidden(super::public::SECRET_FROM_BROWSER));
    }
    Ok(secret)
}

/// The message refusing a publishable key where a secret key or a session is
/// expected.
pub const PUBLISHABLE_REFUSED: &str = "a publishable key (tg_pk_…) can only call \
     /v1/public/{key}/check and /v1/public/{key}/branding from an allowed origin: use a secret \
     key from a server, or sign in";

fn presented_secret(headers: &HeaderMap) -> AppResult<Option<&str>> {
    let raw_bearer = bearer(headers).ok().flatten();
    let api_key_header = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok());
    if raw_bearer
        .into_iter()
        .chain(api_key_header.map(str::trim))
        .any(crate::auth::publishable::looks_like_publishable)
    {
        return Err(AppError::forbidden(PUBLISHABLE_REFUSED));
    }
    // A malformed Authorization header is the session path's to refuse.
    let bearer = raw_bearer.filter(|t| api_keys::looks_like_key(t));
    match (headers.get(API_KEY_HEADER), bearer) {
        (None, bearer) => Ok(bearer),
        (Some(_), _) if headers.contains_key(header::AUTHORIZATION) => Err(AppError::bad_input(
            "send one credential: X-API-Key or Authorization, not both",
        )),
        (Some(value), _) => value
            .to_str()
            .map(|v| Some(v.trim()))
            .map_err(|_| AppError::unauthenticated("this is not a valid API key")),
    }
}

/// Verifies `secret` (a "no such key" spends one of `client`'s failed
/// lookups), takes one call from its limits and notes its use.
pub async fn admit_key(app: &AppState, secret: &str, client: Option<&str>) -> AppResult<KeyCall> {
    admit_key_checked(app, secret, client, |_| Ok(())).await
}

/// [`admit_key`], refusing the key with `check`'s error before any call is
/// taken from its limits.
pub(super) async fn admit_key_checked(
    app: &AppState,
    secret: &str,
    client: Option<&str>,
    check: impl FnOnce(&KeyGrant) -> AppResult<()>,
) -> AppResult<KeyCall> {
    let grant = app
        .api_keys
        .authenticate(&app.db, secret, app.usage.failed_lookups(), client)
        .await?;
    check(&grant)?;
    let limits = app.usage.check_limits(&grant).await?;
    app.api_keys.touch(&grant);
    Ok(KeyCall { grant, limits })
}

/// `RateLimit-Limit`, `-Remaining`, `-Reset` and `-Policy` of the binding
/// limit (IETF draft), and `Retry-After` when the call was refused.
pub fn rate_limit_headers(headers: &mut HeaderMap, limits: &LimitOutcome) {
    let binding = limits.binding();
    let set = |headers: &mut HeaderMap, name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set(headers, "ratelimit-limit", binding.rate.limit.to_string());
    set(
        headers,
        "ratelimit-remaining",
        binding.remaining.to_string(),
    );
    set(
        headers,
        "ratelimit-reset",
        binding.reset_after.as_secs_f64().ceil().to_string(),
    );
    set(
        headers,
        "ratelimit-policy",
        format!("{};w={}", binding.rate.limit, binding.rate.period_seconds),
    );
    if !limits.allowed() {
        set(
            headers,
            "retry-after",
            binding
                .retry_after
                .as_secs_f64()
                .ceil()
                .max(1.0)
                .to_string(),
        );
    }
}

/// The body of `POST /v1/authorize` (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizeBody {
    metric: Option<String>,
    quantity: Option<i64>,
    idempotency_key: Option<String>,
}

/// `POST /v1/authorize`: 200 allowed, 429 rate limited (both with the
/// answer), 401/403/400/503 with `{allowed:false, error:{code,message}}`
/// (403 also for recording usage without `usage:write`; 402 QUOTA_EXCEEDED,
/// with `metric`, `limit`, `used` and `resetsAt` beside the code, when the
/// plan's monthly quota is used up).
pub async fn v1_authorize(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let client = match super::client::client_ip(peer, &headers, app.settings.trusted_proxies) {
        Ok(ip) => ip.to_string(),
        Err(err) => return refusal(err),
    };
    let body: AuthorizeBody = if body.iter().all(u8::is_ascii_whitespace) {
        AuthorizeBody::default()
    } else {
        let value: serde_json::Value = match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(err) => return refusal(AppError::bad_input(format!("bad JSON body: {err}"))),
        };
        if let Err(err) = crate::input::check_json(&value, "") {
            return refusal(err);
        }
        match serde_json::from_value(value) {
            Ok(b) => b,
            Err(err) => return refusal(AppError::bad_input(format!("bad JSON body: {err}"))),
        }
    };
    let secret = match presented_key(&headers) {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            return refusal(AppError::unauthenticated(
                "send the API key as Authorization: Bearer tg_… or X-API-Key",
            ));
        }
        Err(err) => return refusal(err),
    };
    let input = AuthorizeInput {
        metric: body.metric,
        quantity: body.quantity.unwrap_or(1),
        idempotency_key: body.idempotency_key,
    };
    let host = super::client::request_host(&headers, app.settings.trusted_proxies);
    let host = match app.domains.tenant_of_host(host).await {
        Ok(host) => host,
        Err(err) => return refusal(err),
    };
    // A key that may not record usage, or on another tenant's host, is refused
    // before it spends a call.
    let scope = |grant: &KeyGrant| {
        crate::domains::check_requested(host.as_deref(), Some(grant.tenant_id))?;
        require_recording_scope(grant, &input)
    };
    let call = match admit_key_checked(&app, secret, Some(&client), scope).await {
        Ok(call) => call,
        Err(err) => return refusal(err),
    };
    let answer = match app
        .usage
        .authorize(&app.db, &app.plans, &call.grant, &call.limits, input)
        .await
    {
        Ok(answer) => answer,
        Err(err) => {
            let mut res = refusal(err);
            rate_limit_headers(res.headers_mut(), &call.limits);
            return res;
        }
    };
    let status = if answer.allowed {
        StatusCode::OK
    } else {
        StatusCode::TOO_MANY_REQUESTS
    };
    let mut res = (status, Json(answer_json(&call, &answer))).into_response();
    rate_limit_headers(res.headers_mut(), &call.limits);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The answer as JSON (the same fields as the GraphQL `AuthorizeResult`).
pub fn answer_json(call: &KeyCall, answer: &Answer) -> Value {
    let grant = &call.grant;
    json!({
        "allowed": answer.allowed,
        "reason": answer.refusal.map_or("OK", |r| r.as_str()),
        "tenant": { "id": grant.tenant_id, "slug": grant.tenant_slug, "plan": grant.plan_key },
        "keyId": grant.key_id,
        "environment": grant.environment.as_str(),
        "scopes": grant.scopes.names(),
        "remaining": answer.remaining,
        "resetAt": answer.reset_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "retryAfter": answer.retry_after.map(|d| d.as_secs_f64().ceil() as u64),
        "recorded": answer.recorded,
        "duplicate": answer.duplicate,
    })
}

pub(super) fn refusal(err: AppError) -> Response {
    let status = err.http_status();
    let mut error = json!({ "code": err.code().as_str(), "message": err.public_message() });
    if let AppError::RateLimited { retry_after, .. } = &err {
        error["retryAfter"] = json!(retry_after.as_secs_f64().ceil() as u64);
    }
    if let AppError::QuotaExceeded(quota) = &err
        && let (Some(error), Value::Object(details)) = (error.as_object_mut(), quota.json())
    {
        error.extend(details);
    }
    let mut res = (status, Json(json!({ "allowed": false, "error": error }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if let Some(seconds) = error["retryAfter"].as_u64() {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    res
}

/// The secret key of a request from a browser page of another origin, which
/// [`presented_key`] refuses (for the audit note: [`super::public::report_leak`]).
pub fn leaked_key(headers: &HeaderMap) -> Option<&str> {
    presented_secret(headers)
        .ok()
        .flatten()
        .filter(|_| super::public::from_foreign_page(headers))
}
