//! The credentials a request presents, read from its headers (or a WebSocket's
//! `connection_init` payload, taken as headers): `Authorization: Bearer`,
//! `X-Tenant-ID`, the refresh cookie and whether a browser sent it. `auth`
//! gets them as plain values ([`Credentials`]).

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use uuid::Uuid;

use crate::auth::{Credentials, REFRESH_COOKIE};
use crate::error::{AppError, AppResult};

/// The header that picks the active tenant of a request.
pub const TENANT_HEADER: &str = "x-tenant-id";

/// The credentials of a request: a malformed `X-Tenant-ID` is BAD_USER_INPUT
/// (checked first), a malformed `Authorization` UNAUTHENTICATED.
pub fn credentials(headers: &HeaderMap) -> AppResult<Credentials> {
    let requested_tenant = requested_tenant(headers)?;
    let bearer = bearer(headers)?.map(str::to_owned);
    Ok(Credentials {
        bearer,
        requested_tenant,
        browser: headers.contains_key(header::ORIGIN) || headers.contains_key("sec-fetch-site"),
        refresh_cookie: cookie(headers, REFRESH_COOKIE),
    })
}

/// The credentials of a WebSocket's `connection_init` payload: its string
/// members are headers (any case), read exactly as [`credentials`] reads a
/// request's.
pub fn from_payload(payload: &serde_json::Value) -> AppResult<Credentials> {
    credentials(&payload_headers(payload))
}

/// The `connection_init` payload as request headers.
fn payload_headers(payload: &serde_json::Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(map) = payload.as_object() {
        for (key, value) in map {
            let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(key.to_ascii_lowercase().as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) else {
                continue;
            };
            headers.insert(name, value);
        }
    }
    headers
}

/// The tenant named by `X-Tenant-ID`, if sent: BAD_USER_INPUT unless a UUID.
pub fn requested_tenant(headers: &HeaderMap) -> AppResult<Option<Uuid>> {
    headers
        .get(TENANT_HEADER)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| Uuid::parse_str(s.trim()).ok())
                .ok_or_else(|| {
                    AppError::bad_input("the X-Tenant-ID header must be a tenant id (a UUID)")
                })
        })
        .transpose()
}

/// The token of `Authorization: Bearer <token>`: `None` without the header,
/// UNAUTHENTICATED when it is not a non-empty bearer token.
pub fn bearer(headers: &HeaderMap) -> AppResult<Option<&str>> {
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    auth.to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .map(Some)
        .ok_or_else(|| {
            AppError::unauthenticated("the Authorization header must be `Bearer <token>`")
        })
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tg_refresh=tok.en; b=2"),
        );
        assert_eq!(cookie(&h, REFRESH_COOKIE).as_deref(), Some("tok.en"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn headers_and_payloads_read_alike() {
        let tenant = Uuid::new_v4();
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        h.insert(
            TENANT_HEADER,
            HeaderValue::from_str(&tenant.to_string()).unwrap(),
        );
        let from_headers = credentials(&h).unwrap();
        let payload = json!({"authorization": "Bearer abc", "X-Tenant-ID": tenant.to_string()});
        assert_eq!(from_payload(&payload).unwrap(), from_headers);
        assert_eq!(from_headers.bearer.as_deref(), Some("abc"));
        assert_eq!(from_headers.requested_tenant, Some(tenant));
        let bad = json!({"X-Tenant-ID": "nope", "Authorization": "Basic x"});
        assert_eq!(
            from_payload(&bad).unwrap_err().code().as_str(),
            "BAD_USER_INPUT"
        );
        let bad = json!({"Authorization": "Basic x"});
        assert_eq!(
            from_payload(&bad).unwrap_err().code().as_str(),
            "UNAUTHENTICATED"
        );
    }
}
