//! The HTTP face of the API under `/v1`: the secret key (Bearer, or Basic
//! as `curl -u sk_…:` sends it; 401 otherwise), injected outages, Stripe's
//! idempotency (a POST's `Idempotency-Key` stores its result: the same key
//! and parameters replay it with `Idempotent-Replayed: true`, other
//! parameters get 400 `idempotency_error`), and errors shaped as Stripe's
//! `{"error":{"type","code","message","param"}}`. `handlers.rs` does the work.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Shared;
use super::clock;
use super::forms::{Form, FormError};
use super::handlers;
use super::lifecycle::Refusal;
use super::state::{Origin, Outage, Replay, new_id};

/// An error answer, as Stripe shapes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
}

impl ApiError {
    /// 400 `invalid_request_error`.
    pub fn invalid(param: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: Some("parameter_invalid"),
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// 400 `parameter_missing`.
    pub fn missing(param: &str) -> Self {
        Self {
            code: Some("parameter_missing"),
            ..Self::invalid(Some(param), format!("Missing required param: {param}."))
        }
    }

    /// 404 `resource_missing` for `what` `id`.
    pub fn no_such(what: &str, id: &str, param: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: Some("resource_missing"),
            message: format!("No such {what}: '{id}'"),
            param: Some(param.to_owned()),
        }
    }

    /// 404 for a path the simulator does not serve.
    pub fn unknown_path(method: &Method, path: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: None,
            message: format!(
                "Unrecognized request URL ({method}: {path}). The Stripe simulator serves \
                 customers, products, prices, checkout sessions, billing portal sessions, \
                 subscriptions, invoices and events."
            ),
            param: None,
        }
    }

    fn body(&self) -> Value {
        let mut error = json!({ "type": self.kind, "message": self.message });
        if let Some(code) = self.code {
            error["code"] = json!(code);
        }
        if let Some(param) = &self.param {
            error["param"] = json!(param);
        }
        json!({ "error": error })
    }
}

impl From<FormError> for ApiError {
    fn from(e: FormError) -> Self {
        Self::invalid(Some(&e.param), e.message)
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        Self::invalid(r.param.as_deref(), r.message)
    }
}

/// The secret key, from `Authorization: Bearer sk_…` or Basic `sk_…:`.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(key) = value.strip_prefix("Bearer ") {
        return Some(key.trim().to_owned());
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split(':').next().unwrap_or_default().to_owned())
}

/// Whether `headers` carry the simulator's secret key (compared in constant time).
pub fn authorized(headers: &HeaderMap, secret: &str) -> Result<(), ApiError> {
    let unauthorized = |message: String| ApiError {
        status: StatusCode::UNAUTHORIZED,
        kind: "invalid_request_error",
        code: None,
        message,
        param: None,
    };
    let Some(key) = presented_key(headers) else {
        return Err(unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                .into(),
        ));
    };
    use subtle::ConstantTimeEq;
    if key.as_bytes().ct_eq(secret.as_bytes()).into() {
        return Ok(());
    }
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Err(unauthorized(format!(
        "Invalid API Key provided: sk_test_****{tail}"
    )))
}

/// A JSON answer with Stripe's headers.
fn answer(status: StatusCode, body: Vec<u8>, request_id: &str, replayed: bool) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("request-id", v);
    }
    headers.insert(
        "stripe-version",
        HeaderValue::from_static(super::events::API_VERSION),
    );
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    if status.is_server_error() {
        headers.insert("stripe-should-retry", HeaderValue::from_static("true"));
    }
    response
}

fn error_response(error: &ApiError, request_id: &str) -> Response {
    answer(
        error.status,
        serde_json::to_vec(&error.body()).unwrap_or_default(),
        request_id,
        false,
    )
}

fn unavailable(request_id: &str) -> Response {
    error_response(
        &ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "api_error",
            code: None,
            message: "The Stripe simulator is set to be unavailable (an injected outage).".into(),
            param: None,
        },
        request_id,
    )
}

/// Every `/v1/…` request.
pub async fn serve(
    AxState(shared): AxState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_id("req_", 14);
    if let Err(e) = authorized(&headers, &shared.secret_key) {
        return error_response(&e, &request_id);
    }
    let outage = {
        let mut state = shared.lock();
        state.count("api.requests");
        match &mut state.outage {
            Some((kind, left)) if *left > 0 => {
                let kind = *kind;
                *left -= 1;
                if *left == 0 {
                    state.outage = None;
                }
                state.count("api.outages");
                Some(kind)
            }
            _ => None,
        }
    };
    match outage {
        Some(Outage::Unavailable) => return unavailable(&request_id),
        Some(Outage::Hang) => {
            tokio::time::sleep(shared.hang_for).await;
            return unavailable(&request_id);
        }
        _ => {}
    }
    let Ok(body) = std::str::from_utf8(&body) else {
        return error_response(
            &ApiError::invalid(None, "The request body is not UTF-8."),
            &request_id,
        );
    };
    let raw = [uri.query().unwrap_or_default(), body]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("&");
    let form = match Form::parse(&raw) {
        Ok(form) => form,
        Err(e) => return error_response(&e.into(), &request_id),
    };
    // Stripe honours keys on POST only ("no effect" on GET and DELETE).
    let key = (method == Method::POST)
        .then(|| {
            headers
                .get("idempotency-key")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .flatten();
    // Stripe compares the parameters, not their order (a client's map may
    // encode its keys in any order).
    let mut params: Vec<&str> = body.split('&').collect();
    params.sort_unstable();
    let fingerprint = hex::encode(Sha256::digest(format!(
        "{method} {}\n{}",
        uri.path(),
        params.join("&")
    )));
    let (status, bytes, replayed) = {
        let mut state = shared.lock();
        if let Some(key) = &key
            && let Some(replay) = state.replays.get(key).cloned()
        {
            if replay.fingerprint != fingerprint {
                let e = ApiError {
                    status: StatusCode::BAD_REQUEST,
                    kind: "idempotency_error",
                    code: None,
                    message: format!(
                        "Keys for idempotent requests can only be used with the same parameters \
                         they were first used with. Try using a key other than '{key}' if you \
                         meant to execute a different request."
                    ),
                    param: None,
                };
                state.count("api.idempotency_errors");
                return error_response(&e, &request_id);
            }
            state.count("api.replays");
            (
                StatusCode::from_u16(replay.status).unwrap_or(StatusCode::OK),
                replay.body,
                true,
            )
        } else {
            clock::run_due(&mut state);
            state.origin = Origin {
                request_id: Some(request_id.clone()),
                idempotency_key: key.clone(),
            };
            let result = handlers::dispatch(&mut state, &method, uri.path(), &form);
            state.origin = Origin::default();
            clock::run_due(&mut state);
            let (status, body) = match result {
                Ok(value) => (StatusCode::OK, value),
                Err(e) => (e.status, e.body()),
            };
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            // Stripe keeps the result of every request that ran; a request
            // refused by validation (400) may be corrected and sent again.
            if let Some(key) = &key
                && status != StatusCode::BAD_REQUEST
            {
                state.replays.insert(
                    key.clone(),
                    Replay {
                        fingerprint,
                        status: status.as_u16(),
                        body: bytes.clone(),
                    },
                );
            }
            (status, bytes, false)
        }
    };
    shared.wake.notify_one();
    if outage == Some(Outage::LostResponse) {
        tokio::time::sleep(shared.hang_for).await;
        return unavailable(&request_id);
    }
    answer(status, bytes, &request_id, replayed)
}
