//! What a publishable key may call, from a page on one of its tenant's
//! allowed origins, and CORS answered per tenant.
//!
//! | path | what |
//! |---|---|
//! | `POST /v1/public/{key}/check` | whether the tenant is active and within its monthly quota of a metric (nothing recorded) |
//! | `GET /v1/public/{key}/branding` | the tenant's public name and branding |
//! | `OPTIONS` on both | the CORS preflight |
//!
//! The key is in the path because a preflight carries no credentials: the
//! server must know whose allow-list to answer from. An `Origin` is required
//! (publishable keys serve pages; servers use secret keys) and must be one of
//! the key's tenant's allowed origins, compared exactly with the normalised
//! list. Granted: `Access-Control-Allow-Origin: <that origin>` with
//! `Vary: Origin` on the preflight and on every answer (errors too, so the page
//! can read them); refused: no CORS header at all and a coded 403. An
//! `Origin` header is easy to forge outside a browser, so the allow-list stops
//! other sites' pages from using a key, not scripts: those meet the budgets,
//! per client address ([`CLIENT_RATE`], IPv6 per /64, every key together,
//! preflights included) spent first, before any key lookup, so that one
//! address cannot use up a key's budget nor make the server look keys up
//! without limit; then per key (`--publishable-key-rate`, by default
//! [`DEFAULT_KEY_RATE`] a minute). Unknown keys spend the address's failed
//! publishable-key lookups (`pkfail:`, apart from the secret keys' budget;
//! cached negatively, like secret keys).
//!
//! A dead key (revoked, unknown or malformed) called with a well-formed
//! `Origin` gets a 401 UNAUTHENTICATED the page can read (and a preflight
//! that lets the call through to it), one message for revoked and unknown, so
//! the widget can say why it stopped instead of seeing a network error.
//! What a hostile page learns from that: that a key string it already holds
//! does not work, which anyone learns by calling it with a forged `Origin`;
//! nothing of any tenant (no name, no origin list, not even whether the key
//! was revoked or never issued). A live key from an origin not on its
//! list still gets no CORS header at all: the page cannot read the refusal.
//! So a page CAN tell a live key of another site (a network error) from a
//! dead key (a readable 401): harmless, since `curl` with a forged `Origin`
//! learns the same. The dead key's preflight grant is cached for the usual
//! max-age, like a live key's.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::request_id::RequestId;
use crate::app::AppState;
use crate::auth::api_keys::{Environment, Rate};
use crate::auth::publishable::PublicGrant;
use crate::error::{AppError, AppResult};

/// Calls a minute per key (every address together) unless
/// `--publishable-key-rate` says otherwise.
pub const DEFAULT_KEY_RATE: u32 = 1200;
/// Calls and preflights per client address (IPv6: per /64), every key
/// together, counted before the key is looked up.
pub const CLIENT_RATE: Rate = Rate {
    limit: 120,
    period_seconds: 60,
};
/// The largest body of `/check` (`{"metric": …}` is tens of bytes): no
/// more is read, even before the key and origin are checked.
pub const MAX_BODY: usize = 1024;
/// How long a browser may keep a granted preflight.
const MAX_AGE: &str = "600";

/// The request's `Origin`, if any.
fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

fn no_origin() -> AppError {
    AppError::forbidden(
        "publishable keys are used from web pages: this request has no Origin header (call \
         from a page on one of the tenant's allowed origins, or use a secret key from a server)",
    )
}

fn origin_refused(origin: &str) -> AppError {
    AppError::forbidden(format!(
        "the origin {origin} is not allowed to use this publishable key: an admin adds it under \
         Allowed origins"
    ))
}

/// The refusal in the API's error shape, with CORS granted to `cors` (the
/// page may read it) or not.
fn refused(err: AppError, request_id: &str, cors: Option<&str>) -> Response {
    let mut res = super::file_refusal(err, request_id);
    finish(res.headers_mut(), cors);
    res
}

/// `Vary: Origin` always; the CORS grant for `cors`.
fn finish(headers: &mut HeaderMap, cors: Option<&str>) {
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(origin) = cors.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id",
            ),
        );
    }
}

/// Why a well-formed key is refused with a readable 401: the same words
/// whether it was revoked or never issued (a page learns nothing more).
const DEAD_KEY: &str = "this publishable key is not valid (revoked, or never issued): the \
     site's owner creates a new one under Publishable keys";

/// `origin` when it is a well-formed origin exactly as a browser sends it
/// (`scheme://host[:port]`, normalised): the only kind a dead key's 401 is
/// readable by.
fn well_formed(origin: Option<&str>) -> Option<&str> {
    origin.filter(|o| crate::auth::origins::normalize(o, false).is_ok_and(|n| n == *o))
}

/// A refusal of [`admit`], with the origin that may read it.
struct Refusal {
    err: AppError,
    cors: Option<String>,
}

impl Refusal {
    fn opaque(err: AppError) -> Self {
        Self { err, cors: None }
    }

    fn into_response(self, request_id: &str) -> Response {
        refused(self.err, request_id, self.cors.as_deref())
    }
}

/// The key's grant, for a request from `origin`: the key verified (an
/// unknown one spends the address's failed lookups) and the origin on its
/// tenant's list. Until the origin is found on the list, the page may read
/// nothing, except that the key is dead (see the module's notes).
async fn admit(
    app: &AppState,
    key: &str,
    origin: Option<&str>,
    client: &str,
) -> Result<Arc<PublicGrant>, Refusal> {
    let origin = origin.ok_or_else(|| Refusal::opaque(no_origin()))?;
    // The address's budget first: before any lookup, so that neither a
    // flood of preflights nor one address's calls reach the database or the
    // key's budget.
    spend(
        app,
        &crate::auth::throttle::address_key("pkc", client),
        CLIENT_RATE,
        "this address's",
    )
    .await
    .map_err(Refusal::opaque)?;
    let grant = app
        .api_keys
        .authenticate_publishable(
            &app.db,
            key,
            app.usage.public_failed_lookups(),
            Some(client),
        )
        .await
        .map_err(|err| match err {
            // A mistyped key keeps its own words (anyone can check a key's
            // shape and checksum); a revoked or unknown one gets the same.
            AppError::Unauthenticated(_) => Refusal {
                err: match crate::auth::publishable::parse(key) {
                    Err(malformed) => malformed,
                    Ok(_) => AppError::unauthenticated(DEAD_KEY),
                },
                cors: well_formed(Some(origin)).map(str::to_owned),
            },
            err => Refusal::opaque(err),
        })?;
    if !grant.allows(origin) {
        return Err(Refusal::opaque(origin_refused(origin)));
    }
    Ok(grant)
}

/// Spends one call of `bucket`; RATE_LIMITED (with `Retry-After`) past it.
async fn spend(app: &AppState, bucket: &str, rate: Rate, what: &str) -> AppResult<()> {
    let decision = app.usage.check_bucket(bucket, rate).await?;
    if decision.allowed {
        return Ok(());
    }
    Err(AppError::rate_limited(
        format!("{what} budget of calls is used up for now"),
        decision.retry_after,
    ))
}

fn client(app: &AppState, peer: SocketAddr, headers: &HeaderMap) -> AppResult<String> {
    super::client::client_ip(peer, headers, app.settings.trusted_proxies).map(|ip| ip.to_string())
}

/// `OPTIONS /v1/public/{key}/…` (both paths): 204 with the grant for an
/// allowed origin, and for a well-formed origin when the key is dead (so
/// the call that follows gets its readable 401; cached alike); 403 without
/// any CORS header otherwise.
pub async fn preflight(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(request_id): axum::Extension<RequestId>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let client = match client(&app, peer, &headers) {
        Ok(c) => c,
        Err(err) => return refused(err, &request_id.0, None),
    };
    let origin = origin(&headers);
    // A dead key's grant is cached like a live one's (the call it lets
    // through is answered 401 anyway): its widget's page does not pay a
    // preflight, from its budget, on every call.
    let cors = match admit(&app, &key, origin, &client).await {
        Ok(_) => origin.map(str::to_owned),
        Err(Refusal {
            cors: Some(cors), ..
        }) => Some(cors),
        Err(refusal) => return refusal.into_response(&request_id.0),
    };
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    finish(h, cors.as_deref());
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    res
}

/// Admits a call: the address's budget, the key, the origin, then the
/// key's budget. On success, the grant and the origin to grant CORS to.
async fn admit_call(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    key: &str,
    request_id: &str,
) -> Result<(Arc<PublicGrant>, String), Response> {
    let client = client(app, peer, headers).map_err(|err| refused(err, request_id, None))?;
    let origin = origin(headers);
    let grant = admit(app, key, origin, &client)
        .await
        .map_err(|refusal| refusal.into_response(request_id))?;
    let origin = origin.unwrap_or_default().to_owned();
    spend(
        app,
        &format!("pk:{}", grant.key_id),
        Rate {
            limit: app.settings.publishable_key_rate,
            period_seconds: 60,
        },
        "this publishable key's",
    )
    .await
    .map_err(|err| refused(err, request_id, Some(&origin)))?;
    Ok((grant, origin))
}

/// The body of `POST /v1/public/{key}/check` (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    metric: Option<String>,
}

/// `POST /v1/public/{key}/check`: `{allowed, reason, tenant: {slug, name},
/// environment, metric}`; reason `OK`, `TENANT_INACTIVE` or `QUOTA_EXCEEDED`
/// (nothing recorded, test keys never over quota).
pub async fn check(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(request_id): axum::Extension<RequestId>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let rid = &request_id.0;
    let (grant, origin) = match admit_call(&app, peer, &headers, &key, rid).await {
        Ok(admitted) => admitted,
        Err(res) => return res,
    };
    let cors = Some(origin.as_str());
    let Ok(body) = body else {
        let err = AppError::bad_input(format!(
            "the body is at most {MAX_BODY} bytes: {{\"metric\": \"…\"}}"
        ));
        return refused(err, rid, cors);
    };
    let body: CheckBody = if body.iter().all(u8::is_ascii_whitespace) {
        CheckBody::default()
    } else {
        match serde_json::from_slice::<Value>(&body)
            .map_err(|e| AppError::bad_input(format!("bad JSON body: {e}")))
            .and_then(|v| crate::input::check_json(&v, "").map(|()| v))
            .and_then(|v| {
                serde_json::from_value(v)
                    .map_err(|e| AppError::bad_input(format!("bad JSON body: {e}")))
            }) {
            Ok(body) => body,
            Err(err) => return refused(err, rid, cors),
        }
    };
    let (allowed, reason) = match verdict(&app, &grant, body.metric.as_deref()).await {
        Ok(verdict) => verdict,
        Err(err) => return refused(err, rid, cors),
    };
    let mut res = Json(json!({
        "allowed": allowed,
        "reason": reason,
        "tenant": { "slug": grant.tenant_slug, "name": grant.tenant_name },
        "environment": grant.environment.as_str(),
        "metric": body.metric,
    }))
    .into_response();
    finish(res.headers_mut(), cors);
    res
}

/// Whether the tenant is active and, for a live key and a `metric`, within
/// its monthly quota (read only: used + 1 within the limit; nothing is
/// reserved, so asking never refuses real traffic).
async fn verdict(
    app: &AppState,
    grant: &PublicGrant,
    metric: Option<&str>,
) -> AppResult<(bool, &'static str)> {
    if let Some(metric) = metric {
        if metric.is_empty() || metric.len() > 64 {
            return Err(AppError::bad_field(
                "metric",
                "a metric key (1 to 64 characters)",
            ));
        }
        app.usage.require_known_metric(&app.db, metric).await?;
    }
    if grant.tenant_status != "active" {
        return Ok((false, "TENANT_INACTIVE"));
    }
    let Some(metric) = metric.filter(|_| grant.environment == Environment::Live) else {
        return Ok((true, "OK"));
    };
    let Some(plan) = app.plans.plan(&app.db, &grant.plan_key).await? else {
        return Ok((true, "OK"));
    };
    let within = app
        .usage
        .quota_allows(
            &app.db,
            &plan,
            grant.tenant_id,
            metric,
            1,
            chrono::Utc::now(),
        )
        .await?;
    Ok(if within {
        (true, "OK")
    } else {
        (false, "QUOTA_EXCEEDED")
    })
}

/// `GET /v1/public/{key}/branding`: `{tenant: {slug, name}, branding:
/// {displayName, logoUrl, primaryColor, accentColor, supportEmail}}`;
/// FORBIDDEN (readable by the page) while the tenant is not active.
pub async fn branding(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(request_id): axum::Extension<RequestId>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (grant, origin) = match admit_call(&app, peer, &headers, &key, &request_id.0).await {
        Ok(admitted) => admitted,
        Err(res) => return res,
    };
    if grant.tenant_status != "active" {
        let err = AppError::forbidden(format!(
            "this workspace is {}: its branding is not served",
            grant.tenant_status.replace('_', " ")
        ));
        return refused(err, &request_id.0, Some(&origin));
    }
    let b = |name: &str| grant.branding.get(name).cloned().unwrap_or(Value::Null);
    let mut res = Json(json!({
        "tenant": { "slug": grant.tenant_slug, "name": grant.tenant_name },
        "branding": {
            "displayName": b("displayName"),
            "logoUrl": b("logoUrl"),
            "primaryColor": b("primaryColor"),
            "accentColor": b("accentColor"),
            "supportEmail": b("supportEmail"),
        },
    }))
    .into_response();
    finish(res.headers_mut(), Some(&origin));
    res
}

/// Why a secret key is refused from a browser.
pub const SECRET_FROM_BROWSER: &str = "a secret API key (tg_live_…, tg_test_…) was sent from a \
     browser page of another origin: secret keys belong on servers and this one may have \
     leaked (rotate it). In web pages use a publishable key (tg_pk_…) with /v1/public/{key}/…";

/// Whether a request that carries a secret key comes from a browser page of
/// another origin (the leaked-key guard). The rule: `Sec-Fetch-Site` decides
/// when present (`same-origin` and `none` pass: the playground on this
/// server, a typed URL; `same-site` and `cross-site` are refused); without
/// it, an `Origin` other than the request's own `Host` is refused (`null`
/// too); without either the caller is a server and passes.
pub fn from_foreign_page(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get(HeaderName::from_static("sec-fetch-site")) {
        return !matches!(
            site.to_str().map(str::to_ascii_lowercase).as_deref(),
            Ok("same-origin" | "none")
        );
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://").map(|(_, rest)| rest));
    match (authority, host) {
        (Some(authority), Some(host)) => !authority.eq_ignore_ascii_case(host),
        _ => true,
    }
}

/// Notes a secret key sent from a foreign page in its tenant's audit trail
/// (`api_key.browser_use`), at most once per key per hour on each instance;
/// runs in the background (the request is refused either way).
pub fn report_leak(
    app: &AppState,
    secret: &str,
    origin: Option<String>,
    meta: crate::audit::RequestMeta,
) {
    let (app, secret) = (app.clone(), secret.to_owned());
    tokio::spawn(async move {
        let Ok(grant) = app
            .api_keys
            .authenticate(
                &app.db,
                &secret,
                app.usage.failed_lookups(),
                meta.ip.as_deref(),
            )
            .await
        else {
            return;
        };
        if !app.api_keys.first_leak_report(grant.key_id) {
            return;
        }
        if let Err(err) =
            crate::auth::publishable_admin::record_browser_use(&app.db, &meta, &grant, origin).await
        {
            tracing::warn!(error = %err, "could not audit a secret key sent from a browser");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_leaked_key_rule() {
        let host = ("host", "api.example.com:8080");
        // Servers, this server's own pages, a typed URL.
        for pass in [
            vec![],
            vec![host],
            vec![host, ("sec-fetch-site", "same-origin")],
            vec![host, ("sec-fetch-site", "none")],
            vec![host, ("origin", "https://api.example.com:8080")],
            vec![host, ("origin", "HTTPS://API.EXAMPLE.COM:8080")],
        ] {
            assert!(!from_foreign_page(&headers(&pass)), "{pass:?}");
        }
        // Another origin's page, whatever else is claimed.
        for refuse in [
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("sec-fetch-site", "same-site")],
            vec![host, ("sec-fetch-site", "something-new")],
            vec![host, ("origin", "https://evil.example")],
            vec![host, ("origin", "https://api.example.com")],
            vec![host, ("origin", "null")],
            vec![("origin", "https://api.example.com:8080")],
            vec![
                host,
                ("origin", "https://api.example.com:8080"),
                ("sec-fetch-site", "cross-site"),
            ],
        ] {
            assert!(from_foreign_page(&headers(&refuse)), "{refuse:?}");
        }
    }
}
