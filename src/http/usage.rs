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
use serde_json::value::RawValue;
use std::borrow::Cow;

use super::authorize::{admit_key_checked, presented_key, rate_limit_headers, refusal};
use crate::app::AppState;
use crate::auth::api_keys::KeyScope;
use crate::error::{AppError, AppResult};
use crate::usage::ingest::{self, EventInput, Incoming, QuotaCheck, Recorder, Status, refused};

/// Largest body of one call (1,000 events of typical size fit easily).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// The body of `POST /v1/usage`: each event is kept as its JSON text and
/// read on its own (see [`read_event`]), borrowing from the body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UsageBody<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

/// A well-formed event, read straight from its JSON text (strings borrowed
/// unless escaped). Anything else (a field missing, of another type,
/// unknown or given twice) fails, and [`parse_event`] reads the event again
/// to say which field is wrong.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WellFormed<'a> {
    #[serde(borrow)]
    metric: Cow<'a, str>,
    quantity: i64,
    #[serde(borrow)]
    occurred_at: Cow<'a, str>,
    #[serde(borrow)]
    idempotency_key: Cow<'a, str>,
    #[serde(default)]
    properties: Option<Value>,
}

/// Reads event `index` of the body. A string no field may hold (NUL, a
/// control or invisible character) anywhere in it refuses the whole call,
/// as in any JSON body (`input::check_json`); a malformed field refuses
/// this event only.
fn read_event(index: usize, raw: &RawValue) -> AppResult<Incoming> {
    // The path of a string of this event, built only for an error.
    let check = |name: &str, text: &str| {
        if crate::input::offending(text, false).is_none() {
            return Ok(());
        }
        crate::input::check_str(&format!("events[{index}].{name}"), text)
    };
    if let Ok(event) = serde_json::from_str::<WellFormed>(raw.get()) {
        check("metric", &event.metric)?;
        check("occurredAt", &event.occurred_at)?;
        check("idempotencyKey", &event.idempotency_key)?;
        let properties = event.properties.filter(|p| !p.is_null());
        if let Some(properties) = &properties {
            crate::input::check_json(properties, &format!("events[{index}].properties"))?;
        }
        let occurred_at = ingest::parse_occurred_at_str(&event.occurred_at);
        return Ok(occurred_at.map(|occurred_at| EventInput {
            metric: event.metric.into_owned(),
            quantity: event.quantity,
            occurred_at,
            idempotency_key: event.idempotency_key.into_owned(),
            properties,
        }));
    }
    let value: Value = serde_json::from_str(raw.get())
        .map_err(|err| AppError::bad_input(format!("bad JSON body: {err}")))?;
    crate::input::check_json(&value, &format!("events[{index}]"))?;
    Ok(parse_event(value))
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
    let body: UsageBody = match serde_json::from_slice(&body) {
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
    let events: Vec<Incoming> = match body
        .events
        .iter()
        .enumerate()
        .map(|(i, raw)| read_event(i, raw))
        .collect()
    {
        Ok(events) => events,
        Err(err) => return refusal(err),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What the body reader answered before it read well-formed events
    /// straight from their text: the event as a JSON value, its strings
    /// checked, then [`parse_event`].
    fn as_value(index: usize, text: &str) -> AppResult<Incoming> {
        let value: Value = serde_json::from_str(text).unwrap();
        crate::input::check_json(&value, &format!("events[{index}]"))?;
        Ok(parse_event(value))
    }

    fn outcome(answer: AppResult<Incoming>) -> String {
        match answer {
            Ok(Ok(event)) => format!("ok {event:?}"),
            Ok(Err(refusal)) => format!(
                "refused {} {} {}",
                refusal.code, refusal.field, refusal.reason
            ),
            Err(err) => format!("call {err:?}"),
        }
    }

    #[test]
    fn the_fast_reading_answers_as_the_value_reading_did() {
        let cases = [
            r#"{"metric":"api_calls","quantity":3,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k1"}"#,
            r#"{"metric":"api_calls","quantity":3,"occurredAt":"2026-12-06T10:00:00+02:00","idempotencyKey":"k1","properties":{"user":"ann","n":[1,{"a":null}]}}"#,
            r#"{"metric":"api_calls","quantity":3,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k1","properties":null}"#,
            r#"{"metric":"api_calls","quantity":3,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k1","properties":"text"}"#,
            r#"{"metric":"api\u005fcalls","quantity":3,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"cl\u00e9 \"q\""}"#,
            r#"{"metric":"api_calls","quantity":3.0,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":"3","occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":18446744073709551615,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":-1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":1,"occurredAt":"yesterday","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":1,"occurredAt":1733479200,"idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z"}"#,
            r#"{"quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"{"metric":7,"quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k","extra":1}"#,
            r#"{"metric":"a","metric":"api_calls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"nul\u0000"}"#,
            r#"{"metric":"api\u202ecalls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z\n","idempotencyKey":"k"}"#,
            r#"{"metric":"api_calls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k","properties":{"bad\u0001key":1}}"#,
            r#"{"metric":"api_calls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k","properties":{"v":"\u200b"}}"#,
            r#"{"metric":"api_calls","quantity":"x\u0000","occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}"#,
            r#"[1,2]"#,
            r#""event""#,
            r#"null"#,
        ];
        for (index, text) in cases.iter().enumerate() {
            let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
            assert_eq!(
                outcome(read_event(index, &raw)),
                outcome(as_value(index, text)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_body_borrows_its_events() {
        let body = br#"{"events":[{"metric":"api_calls","quantity":1,"occurredAt":"2026-12-06T10:00:00Z","idempotencyKey":"k"}, 7]}"#;
        let parsed: UsageBody = serde_json::from_slice(body).unwrap();
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.events[1].get(), "7");
        for bad in [
            &br#"{"events":{}}"#[..],
            br#"{"events":[],"more":1}"#,
            br#"{"events":[1,]}"#,
        ] {
            assert!(serde_json::from_slice::<UsageBody>(bad).is_err());
        }
    }
}
