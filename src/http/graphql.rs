//! `/graphql` over HTTP, per the GraphQL-over-HTTP spec.
//!
//! - POST must be `application/json`; anything else (text/plain, forms,
//!   multipart: what a browser sends cross-site without a preflight) gets 415 and
//!   runs nothing. Batches (JSON arrays) are refused.
//! - GET runs queries only: a mutation or subscription gets 405 with `Allow: POST`.
//! - `Accept` picks `application/graphql-response+json` (request errors get 4xx/5xx)
//!   or `application/json` (always 200 for a well-formed request); none, or `*/*`,
//!   means `application/json`; nothing acceptable gets 406.
//! - Bodies over the limit get 413; token and alias limits are checked before
//!   execution; errors without a code are request errors (BAD_USER_INPUT) or,
//!   inside execution, masked as INTERNAL with the request id.

use async_graphql::Variables;
use async_graphql::parser::types::OperationType;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::net::SocketAddr;

use super::request_id::RequestId;
use crate::app::AppState;
use crate::auth::{Principal, Session};
use crate::error::{AppError, ErrorCode};
use crate::graphql::{document, errors};

/// The GraphQL response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The response media type a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    GraphqlResponseJson,
    Json,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept` (None: nothing we can send).
pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Some(Media::Json);
    };
    let accept = accept.to_str().ok()?;
    if accept.trim().is_empty() {
        return Some(Media::Json);
    }
    // (q, exact) per candidate; the most specific matching range wins.
    let mut gr: Option<(f32, u8)> = None;
    let mut js: Option<(f32, u8)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for param in parts {
            if let Some((k, v)) = param.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        let specificity = |target: &str| -> Option<u8> {
            match essence.as_str() {
                e if e == target => Some(2),
                "application/*" => Some(1),
                "*/*" => Some(0),
                _ => None,
            }
        };
        for (slot, target) in [
            (&mut gr, GRAPHQL_RESPONSE_JSON),
            (&mut js, "application/json"),
        ] {
            if let Some(spec) = specificity(target)
                && slot.is_none_or(|(_, s)| spec > s)
            {
                *slot = Some((q, spec));
            }
        }
    }
    let q_gr = gr.map_or(0.0, |(q, _)| q);
    let q_js = js.map_or(0.0, |(q, _)| q);
    if q_gr <= 0.0 && q_js <= 0.0 {
        return None;
    }
    // On a tie, the new type wins only when it was asked for by name.
    if q_gr > q_js || (q_gr == q_js && gr.is_some_and(|(_, s)| s == 2)) {
        Some(Media::GraphqlResponseJson)
    } else {
        Some(Media::Json)
    }
}

/// The parameters of a GraphQL-over-HTTP request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    query: Option<String>,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    extensions: Option<Value>,
}

/// GET /graphql: queries only, or a WebSocket upgrade for subscriptions.
pub async fn get(
    State(app): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let (mut parts, _) = request.into_parts();
    if parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    {
        return match WebSocketUpgrade::from_request_parts(&mut parts, &app).await {
            Ok(ws) => super::websocket::upgrade(app, ws, &parts.headers, request_id, peer),
            Err(rejection) => rejection.into_response(),
        };
    }
    let headers = parts.headers;
    let query = parts.uri.query().map(str::to_owned);
    let Some(media) = negotiate(&headers) else {
        return not_acceptable(&request_id);
    };
    let fail = |err: AppError| request_error(media, &request_id, err, None);
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct GetParams {
        query: Option<String>,
        variables: Option<String>,
        operation_name: Option<String>,
        extensions: Option<String>,
    }
    let raw: GetParams = match serde_urlencoded::from_str(query.as_deref().unwrap_or("")) {
        Ok(raw) => raw,
        Err(err) => return fail(AppError::bad_input(format!("bad query string: {err}"))),
    };
    let parse_json = |name: &str, text: Option<String>| -> Result<Option<Value>, AppError> {
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| AppError::bad_input(format!("`{name}` is not valid JSON: {e}")))
        })
        .transpose()
    };
    let params = match (
        parse_json("variables", raw.variables),
        parse_json("extensions", raw.extensions),
    ) {
        (Ok(variables), Ok(extensions)) => Params {
            query: raw.query,
            variables,
            operation_name: raw.operation_name,
            extensions,
        },
        (Err(err), _) | (_, Err(err)) => return fail(err),
    };
    execute(app, request_id, peer, media, Method::GET, &headers, params).await
}

/// POST /graphql: `application/json` only.
pub async fn post(
    State(app): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable(&request_id);
    };
    if !is_json(&headers) {
        return request_error_with_status(
            media,
            &request_id,
            AppError::bad_input(
                "POST requests must have Content-Type: application/json; nothing was run",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        );
    }
    let limit = app.settings.limits.max_body_bytes;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return request_error_with_status(
                media,
                &request_id,
                AppError::bad_input(format!("the request body exceeds {limit} bytes")),
                StatusCode::PAYLOAD_TOO_LARGE,
            );
        }
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(err) => {
            let err = AppError::bad_input(format!("the body is not valid JSON: {err}"));
            return request_error_with_status(media, &request_id, err, StatusCode::BAD_REQUEST);
        }
    };
    if value.is_array() {
        let err = AppError::bad_input("batched requests are not supported: send one operation");
        return request_error_with_status(media, &request_id, err, StatusCode::BAD_REQUEST);
    }
    let params: Params = match serde_json::from_value(value) {
        Ok(params) => params,
        Err(err) => {
            let err = AppError::bad_input(format!("bad GraphQL request: {err}"));
            return request_error_with_status(media, &request_id, err, StatusCode::BAD_REQUEST);
        }
    };
    execute(app, request_id, peer, media, Method::POST, &headers, params).await
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = ct.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
            v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    })
}

async fn execute(
    app: AppState,
    request_id: RequestId,
    peer: SocketAddr,
    media: Media,
    method: Method,
    headers: &HeaderMap,
    params: Params,
) -> Response {
    let fail = |err: AppError| request_error(media, &request_id, err, None);
    let limits = &app.settings.limits;
    // Malformed parameters are 400 whatever the media type (the request is not
    // a well-formed GraphQL-over-HTTP request).
    let bad_params =
        |err: AppError| request_error_with_status(media, &request_id, err, StatusCode::BAD_REQUEST);
    let meta =
        match super::client::request_meta(&request_id, peer, headers, app.settings.trusted_proxies)
        {
            Ok(meta) => meta,
            Err(err) => return bad_params(err),
        };
    let Some(query) = params.query.filter(|q| !q.trim().is_empty()) else {
        return bad_params(AppError::bad_input("the request has no `query`"));
    };
    let checked = match document::check(
        &query,
        params.operation_name.as_deref(),
        limits,
        crate::graphql::SESSION_FIELDS,
    ) {
        Ok(checked) => checked,
        Err(err) => return fail(err),
    };
    if method == Method::GET && checked.types.iter().any(|t| *t != OperationType::Query) {
        let err = AppError::bad_input(
            "GET runs queries only: send mutations and subscriptions with POST",
        );
        let mut res =
            request_error_with_status(media, &request_id, err, StatusCode::METHOD_NOT_ALLOWED);
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return res;
    }
    let variables = match params.variables {
        None | Some(Value::Null) => Variables::default(),
        Some(v @ Value::Object(_)) => Variables::from_json(v),
        Some(_) => return fail(AppError::bad_input("`variables` must be a JSON object")),
    };
    if let Err(err) = document::strings::check_variables(&variables) {
        return fail(err);
    }
    if !matches!(
        params.extensions,
        None | Some(Value::Null) | Some(Value::Object(_))
    ) {
        return fail(AppError::bad_input("`extensions` must be a JSON object"));
    }
    let session = match super::authorize::presented_key(headers) {
        Err(err) => return fail(err),
        Ok(Some(secret)) => match key_session(&app, secret, headers, &meta).await {
            Ok(session) => session,
            Err(err) => return key_refusal(media, &request_id, err),
        },
        Ok(None) => match super::credentials::credentials(headers)
            .and_then(|credentials| Session::from_credentials(credentials, &app.keys))
        {
            Ok(session) => session,
            Err(err) => return fail(err),
        },
    };
    let anonymous = matches!(session.principal, Principal::Anonymous);
    let limits = session.key().map(|call| call.limits);
    if let Some(limits) = limits
        && !limits.allowed()
        && !checked.only_authorize()
    {
        // A refused call runs nothing; `authorize` answers the refusal itself.
        let binding = limits.binding();
        let err = AppError::rate_limited(
            match limits.refusal() {
                Some(crate::usage::Refusal::TenantRateLimited) => {
                    "this tenant's plan limit of API calls is used up for now"
                }
                _ => "this API key's rate limit is used up for now",
            },
            binding.retry_after,
        );
        let mut res = request_error(media, &request_id, err, Some(StatusCode::TOO_MANY_REQUESTS));
        super::authorize::rate_limit_headers(res.headers_mut(), &limits);
        return res;
    }

    let mut request = async_graphql::Request::new(query)
        .variables(variables)
        .data(session)
        .data(meta)
        .data(request_id.clone());
    let operation_name = params.operation_name.clone();
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if anonymous && app.settings.is_production() {
        request = request.disable_introspection();
    }
    // A query's reads share one transaction, committed once the response is
    // ready (admin reads write their audit entries in it: no commit, no data).
    let reads = checked
        .all_of_type(OperationType::Query)
        .then(|| app.db.for_request_reads());
    if let Some(db) = &reads {
        request = request.data(crate::graphql::context::RequestDb(db.clone()));
    }
    let doc = checked.doc;
    request.set_parsed_query(doc.clone());
    let mut response = app.schema.execute(request).await;
    if let Some(db) = reads
        && let Err(err) = db.commit_reads().await
    {
        return request_error(media, &request_id, err, None);
    }
    document::order::reorder(&mut response.data, &doc, operation_name.as_deref());
    let mut res = graphql_response(media, &request_id, response);
    if let Some(limits) = limits {
        super::authorize::rate_limit_headers(res.headers_mut(), &limits);
    }
    res
}

/// A session for an API-key caller: the key verified and its limits taken.
/// `X-Tenant-ID`, if sent, must name the key's own tenant.
async fn key_session(
    app: &AppState,
    secret: &str,
    headers: &HeaderMap,
    meta: &crate::audit::RequestMeta,
) -> Result<Session, AppError> {
    let requested = super::credentials::requested_tenant(headers)?;
    let call = super::authorize::admit_key(app, secret, meta.ip.as_deref()).await?;
    if requested.is_some_and(|id| id != call.grant.tenant_id) {
        return Err(AppError::forbidden(
            "an API key acts in its own tenant only: drop X-Tenant-ID or use that tenant's key",
        ));
    }
    let tenant = call.grant.tenant_id;
    Ok(Session::new(Principal::ApiKey(call), Some(tenant)))
}

/// A key that could not be admitted: a spent failed-lookup budget is 429 with
/// `Retry-After` whatever the media type (as a key's own rate limit is).
fn key_refusal(media: Media, request_id: &RequestId, err: AppError) -> Response {
    let AppError::RateLimited { retry_after, .. } = &err else {
        return request_error(media, request_id, err, None);
    };
    let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
    let mut res = request_error(media, request_id, err, Some(StatusCode::TOO_MANY_REQUESTS));
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    res
}

/// Serialises an executed response: codes on every error, internals masked.
fn graphql_response(
    media: Media,
    request_id: &RequestId,
    mut response: async_graphql::Response,
) -> Response {
    let extra_headers = std::mem::take(&mut response.http_headers);
    let executed = !matches!(response.data, async_graphql::Value::Null)
        || response.errors.iter().any(|e| !e.path.is_empty());
    let errors: Vec<Value> = response
        .errors
        .into_iter()
        .map(|e| errors::wire_json(e, &request_id.0, executed))
        .collect();
    let mut body = Map::new();
    if executed {
        body.insert(
            "data".into(),
            serde_json::to_value(&response.data).unwrap_or(Value::Null),
        );
    }
    if !errors.is_empty() {
        body.insert("errors".into(), Value::Array(errors));
    }
    if !response.extensions.is_empty() {
        body.insert(
            "extensions".into(),
            serde_json::to_value(&response.extensions).unwrap_or(Value::Null),
        );
    }
    let status = match media {
        Media::Json => StatusCode::OK,
        Media::GraphqlResponseJson if executed => StatusCode::OK,
        Media::GraphqlResponseJson => body["errors"][0]["extensions"]["code"]
            .as_str()
            .and_then(ErrorCode::parse)
            .map_or(StatusCode::BAD_REQUEST, ErrorCode::http_status),
    };
    let retry_after = body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["retryAfter"].as_u64())
        .max();
    let mut res = json_response(media, status, Value::Object(body));
    for (name, value) in extra_headers.iter() {
        res.headers_mut().append(name.clone(), value.clone());
    }
    if let Some(seconds) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    res
}

/// A request error (no `data`): the status follows the code for
/// `application/graphql-response+json`, and is 200 for `application/json`.
fn request_error(
    media: Media,
    request_id: &RequestId,
    err: AppError,
    status: Option<StatusCode>,
) -> Response {
    let status = match (media, status) {
        (_, Some(status)) => status,
        (Media::Json, None) => StatusCode::OK,
        (Media::GraphqlResponseJson, None) => err.http_status(),
    };
    let body = errors::request_error_json(&err, &request_id.0);
    let mut res = json_response(media, status, body);
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    res
}

/// A request error whose status is fixed by HTTP itself (405, 413, 415, 400).
fn request_error_with_status(
    media: Media,
    request_id: &RequestId,
    err: AppError,
    status: StatusCode,
) -> Response {
    request_error(media, request_id, err, Some(status))
}

fn not_acceptable(request_id: &RequestId) -> Response {
    let err = AppError::bad_input(format!(
        "Accept must allow {GRAPHQL_RESPONSE_JSON} or application/json"
    ));
    request_error(
        Media::Json,
        request_id,
        err,
        Some(StatusCode::NOT_ACCEPTABLE),
    )
}

fn json_response(media: Media, status: StatusCode, body: Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<Media> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        negotiate(&headers)
    }

    #[test]
    fn accept_negotiation_follows_the_spec() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(accept("application/json"), Some(Media::Json));
        assert_eq!(
            accept(GRAPHQL_RESPONSE_JSON),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(Media::Json)
        );
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(accept("application/*"), Some(Media::Json));
        assert_eq!(
            accept("application/json, application/graphql-response+json"),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json;q=0"), None);
        assert_eq!(
            accept("text/html, application/json; charset=utf-8"),
            Some(Media::Json)
        );
    }

    #[test]
    fn only_json_content_types_pass() {
        let ct = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(v).unwrap());
            is_json(&h)
        };
        assert!(ct("application/json"));
        assert!(ct("application/json; charset=utf-8"));
        assert!(ct("Application/JSON;charset=\"UTF-8\""));
        assert!(!ct("application/json; charset=latin1"));
        assert!(!ct("text/plain"));
        assert!(!ct("application/x-www-form-urlencoded"));
        assert!(!ct("multipart/form-data; boundary=x"));
        assert!(!ct("application/jsonx"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
