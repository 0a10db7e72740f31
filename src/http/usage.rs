//! `POST /v1/usage`: batch usage ingest as plain JSON, with the semantics of
//! `recordUsage` and the credentials of `/v1/authorize` (an API key holding
//! `usage:write`). 200 with one result per event (a malformed field of one
//! event refuses that event only); 400 for the whole call (bad JSON, no
//! events, more than 1,000, a string PostgreSQL cannot store);
//! 401/403/429/503 as `/v1/authorize`, `{error:{code,message}}`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::authorize::{admit_key_checked, presented_key, rate_limit_headers, refusal};
use crate::app::AppState;
use crate::auth::api_keys::KeyScope;
use crate::error::AppError;
use crate::usage::ingest::{self, EventInput, Incoming, QuotaCheck, Recorder, Status, refused};

/// Largest body of one call (1,000 events of typical size fit easily).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// The body of `POST /v1/usage`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UsageBody {
    /// Each event is read on its own (see [`parse_event`]).
    events: Vec<Value>,
}

/// The answer of `POST /v1/usage`.
#[derive(Serialize)]
struct Answer<'a> {
    recorded: usize,
    duplicates: usize,
    refused: usize,
    results: Vec<AnswerItem<'a>>,
}

/// One event's answer; `code`, `field` and `reason` only when refused.
#[derive(Serialize)]
struct AnswerItem<'a> {
    index: usize,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// Reads one event of the body: a malformed field refuses that event only
/// (BAD_USER_INPUT naming the field), never the whole call.
fn parse_event(value: Value) -> Incoming {
    let Value::Object(mut fields) = value else {
        return Err(refused("event", "each event must be a JSON object"));
    };
    if let Some(unknown) = fields.keys().find(|k| {
        !matches!(
            k.as_str(),
            "metric" | "quantity" | "occurredAt" | "idempotencyKey" | "properties"
        )
    }) {
        return Err(refused(
            "event",
            format!(
                "unknown field {:?}: use metric, quantity, occurredAt, idempotencyKey, properties",
                unknown.chars().take(64).collect::<String>()
            ),
        ));
    }
    let text = |fields: &mut serde_json::Map<String, Value>, name: &'static str| match fields
        .remove(name)
    {
        Some(Value::String(s)) => Ok(s),
        _ => Err(refused(name, "must be a string")),
    };
    let metric = text(&mut fields, "metric")?;
    let quantity = ingest::parse_quantity(fields.get("quantity").unwrap_or(&Value::Null))?;
    let occurred_at = ingest::parse_occurred_at(fields.get("occurredAt").unwrap_or(&Value::Null))?;
    let idempotency_key = text(&mut fields, "idempotencyKey")?;
    let properties = fields.remove("properties").filter(|p| !p.is_null());
    Ok(EventInput {
        metric,
        quantity,
        occurred_at,
        idempotency_key,
        properties,
    })
}

/// `POST /v1/usage`.
pub async fn v1_usage(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let client = match super::client::client_ip(peer, &headers, app.settings.trusted_proxies) {
        Ok(ip) => ip.to_string(),
        Err(err) => return refusal(err),
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
    let host = super::client::request_host(&headers, app.settings.trusted_proxies);
    let host = match app.domains.tenant_of_host(host).await {
        Ok(host) => host,
        Err(err) => return refusal(err),
    };
    // On another tenant's host, refused before it spends a call.
    let scope = |grant: &crate::auth::api_keys::KeyGrant| {
        crate::domains::check_requested(host.as_deref(), Some(grant.tenant_id))?;
        grant.require(KeyScope::UsageWrite)
    };
    let call = match admit_key_checked(&app, secret, Some(&client), scope).await {
        Ok(call) => call,
        Err(err) => return refusal(err),
    };
    if !call.limits.allowed() {
        let retry_after = call.limits.binding().retry_after;
        let mut res = refusal(AppError::RateLimited {
            retry_after,
            message: "rate limited: try again later".into(),
        });
        rate_limit_headers(res.headers_mut(), &call.limits);
        return res;
    }
    // The body is read only for a known key within its rate limit: an
    // anonymous caller costs a key check, never a 2 MB parse.
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(err) => return refusal(AppError::bad_input(format!("bad JSON body: {err}"))),
    };
    if let Err(err) = crate::input::check_json(&value, "") {
        return refusal(err);
    }
    let body: UsageBody = match serde_json::from_value(value) {
        Ok(b) => b,
        Err(err) => return refusal(AppError::bad_input(format!("bad JSON body: {err}"))),
    };
    let who = Recorder {
        tenant_id: call.grant.tenant_id,
        environment: call.grant.environment,
        api_key_id: Some(call.grant.key_id),
    };
    let quotas = QuotaCheck {
        usage: &app.usage,
        plans: &app.plans,
        plan_key: Some(&call.grant.plan_key),
    };
    let events: Vec<Incoming> = body.events.into_iter().map(parse_event).collect();
    let results = match ingest::record_each(&app.db, Some(quotas), who, events, Utc::now()).await {
        Ok(results) => results,
        Err(err) => {
            let mut res = refusal(err);
            rate_limit_headers(res.headers_mut(), &call.limits);
            return res;
        }
    };
    let count = |s| results.iter().filter(|r| r.status == s).count();
    // Serialised straight from borrowed structs: no JSON map per event.
    let answer = Answer {
        recorded: count(Status::Recorded),
        duplicates: count(Status::Duplicate),
        refused: count(Status::Refused),
        results: results
            .iter()
            .enumerate()
            .map(|(index, r)| AnswerItem {
                index,
                status: match r.status {
                    Status::Recorded => "RECORDED",
                    Status::Duplicate => "DUPLICATE",
                    Status::Refused => "REFUSED",
                },
                code: r.refusal.as_ref().map(|f| f.code),
                field: r.refusal.as_ref().map(|f| f.field),
                reason: r.refusal.as_ref().map(|f| f.reason.as_str()),
            })
            .collect(),
    };
    let mut res = Json(answer).into_response();
    rate_limit_headers(res.headers_mut(), &call.limits);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
