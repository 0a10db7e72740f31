//! Media types of `/graphql`: which response type `Accept` asks for (the
//! GraphQL-over-HTTP spec's negotiation), whether a body is JSON, and the JSON
//! response with its headers.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The GraphQL response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The response media type a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    GraphqlResponseJson,
    Json,
}

impl Media {
    pub(super) fn content_type(self) -> &'static str {
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

/// Whether the request's `Content-Type` is JSON (UTF-8, the only charset).
pub fn is_json(headers: &HeaderMap) -> bool {
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

/// A JSON body with the media type, `no-store` and `Vary`.
pub fn json_response(media: Media, status: StatusCode, body: Value) -> Response {
    json_text_response(media, status, body.to_string())
}

/// A response whose body is JSON text already (a compiled read's).
pub fn json_text_response(media: Media, status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
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
