//! The responses of `/graphql`: an executed response serialised with a code on
//! every error and internals masked, request errors (no `data`), and their
//! HTTP statuses per media type (`Retry-After`, `WWW-Authenticate`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};

use super::media::{GRAPHQL_RESPONSE_JSON, Media, json_response};
use super::request_id::RequestId;
use crate::error::{AppError, ErrorCode};
use crate::graphql::errors;

/// A key that could not be admitted: a spent failed-lookup budget is 429 with
/// `Retry-After` whatever the media type (as a key's own rate limit is).
pub(super) fn key_refusal(media: Media, request_id: &RequestId, err: AppError) -> Response {
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
pub(super) fn graphql_response(
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
pub(super) fn request_error(
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
pub(super) fn request_error_with_status(
    media: Media,
    request_id: &RequestId,
    err: AppError,
    status: StatusCode,
) -> Response {
    request_error(media, request_id, err, Some(status))
}

pub(super) fn not_acceptable(request_id: &RequestId) -> Response {
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
