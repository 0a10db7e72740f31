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
//! - A trusted document may be named instead of sent
//!   (`extensions.persistedQuery`, `documentId`: see `graphql::trusted`); with
//!   `--trusted-documents on`, signed-in users and anonymous callers may send
//!   nothing else (TRUSTED_DOCUMENT_REQUIRED, 403).
//!
//! The negotiation and content-type check are in `media.rs`; serialising
//! responses and request errors (with their statuses) in `graphql_response.rs`.

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
use serde_json::Value;
use std::net::SocketAddr;

use super::graphql_response::{
    graphql_response, key_refusal, not_acceptable, request_error, request_error_with_status,
};
use super::media::is_json;
use super::media::{Media, negotiate};
use super::request_id::RequestId;
use crate::app::AppState;
use crate::auth::{Principal, Session};
use crate::config::TrustedMode;
use crate::error::AppError;
use crate::graphql::document;
use crate::graphql::trusted;

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
    /// A trusted document's id (`sha256:<hex>`), the GraphQL-over-HTTP
    /// draft's form.
    #[serde(default)]
    document_id: Option<Value>,
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
        document_id: Option<String>,
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
            document_id: raw.document_id.map(Value::String),
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
    let mut meta =
        match super::client::request_meta(&request_id, peer, headers, app.settings.trusted_proxies)
        {
            Ok(meta) => meta,
            Err(err) => return bad_params(err),
        };
    // The tenant the host names, if any (an unknown subdomain of the base
    // domain is NOT_FOUND): it becomes the active tenant of a signed-in user
    // and must be an API key's own.
    let host = super::client::request_host(headers, app.settings.trusted_proxies);
    let host = match app.domains.tenant_of_host(host).await {
        Ok(host) => host,
        Err(err) => return fail(err),
    };
    // Sessions signed in on a tenant's custom domain are bound to it.
    meta.bound_tenant = host.as_deref().and_then(crate::domains::HostTenant::binds);
    // The document: the text sent, or a trusted document named by its id.
    let id = match trusted::requested_id(params.extensions.as_ref(), params.document_id.as_ref()) {
        Ok(id) => id,
        Err(err) => return bad_params(err),
    };
    let nameless = params.query.as_deref().is_none_or(|q| q.trim().is_empty()) && id.is_none();
    let check_text = app.settings.trusted_documents == TrustedMode::On;
    let resolved = match app.settings.documents.resolve(params.query, id, check_text) {
        Ok(resolved) => resolved,
        Err(err) if nameless => return bad_params(err),
        Err(err) => return fail(err),
    };
    // Who is asking, from the headers alone (an API key is admitted below, after the
    // document passed, since admitting one counts a call). In `on` mode, text from
    // anyone but an API key is refused here, before it is parsed.
    let caller = match super::authorize::presented_key(headers) {
        Err(err) => return fail(err),
        Ok(Some(secret)) => Caller::Key(secret),
        Ok(None) => match super::credentials::credentials(headers).and_then(|credentials| {
            let requested = credentials.requested_tenant;
            let mut session = Session::from_credentials(credentials, &app.keys)?;
            if let Some(host) = host.as_deref()
                && matches!(session.principal, Principal::User { .. })
            {
                crate::domains::check_requested(Some(host), requested)?;
                session.active_tenant = Some(host.id);
            }
            Ok(session)
        }) {
            Ok(session) => Caller::Token(Box::new(session)),
            Err(err) => return fail(err),
        },
    };
    if let Caller::Token(session) = &caller
        && let Err(err) = trusted::must_be_known(
            app.settings.trusted_documents,
            resolved.known,
            session,
            &app.db,
        )
        .await
    {
        return fail(err);
    }
    let variables = read_variables(params.variables);
    // A compiled document answered by one statement (see
    // `graphql::compiled`): a signed-in user acting in a tenant; anything the
    // plan declines runs on the executor below, which words any error.
    let asker = match &caller {
        Caller::Token(session) => match (&session.principal, session.active_tenant) {
            (
                Principal::User {
                    user_id,
                    session_id,
                },
                Some(tenant_id),
            ) => Some(crate::graphql::compiled::Asker {
                user_id: *user_id,
                session_id: *session_id,
                tenant_id,
            }),
            _ => None,
        },
        Caller::Key(_) => None,
    };
    if let Some(asker) = &asker
        && let Ok(vars) = &variables
        && let Some(plan) = app
            .compiled
            .plan(&resolved.text, params.operation_name.as_deref())
    {
        let body = match document::strings::check_variables(vars) {
            Ok(()) => {
                plan.answer(&app.db, &app.api_keys, asker, vars, limits.max_complexity)
                    .await
            }
            Err(_) => None,
        };
        app.compiled.count(matches!(body, Some(Ok(_))));
        match body {
            Some(Ok(body)) => {
                return super::media::json_text_response(media, StatusCode::OK, body);
            }
            Some(Err(err)) => return fail(err),
            None => {}
        }
    }
    let query = resolved.text;
    // Only requests a plan could answer teach one (never an API key's): the
    // text is kept for that only.
    let learn = (asker.is_some() && query.len() <= crate::graphql::compiled::MAX_TEXT)
        .then(|| query.clone());
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
    let variables = match variables {
        Ok(variables) => variables,
        Err(err) => return fail(err),
    };
    if let Err(err) = document::strings::check_variables(&variables) {
        return fail(err);
    }
    let mut session = match caller {
        // API keys may send text in every mode.
        Caller::Key(secret) => {
            match key_session(&app, secret, headers, &meta, host.as_deref()).await {
                Ok(session) => session,
                Err(err) => return key_refusal(media, &request_id, err),
            }
        }
        Caller::Token(session) => *session,
    };
    session.mutating = checked.types.contains(&OperationType::Mutation);
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
        .data(request_id.clone())
        .data(crate::graphql::context::EventBudget::default())
        .data(crate::domains::RequestHost(host));
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
    let is_query = reads.is_some();
    request.set_parsed_query(doc.clone());
    let mut response = app.schema.execute(request).await;
    if let Some(db) = reads
        && let Err(err) = db.commit_reads().await
    {
        return request_error(media, &request_id, err, None);
    }
    if response.errors.is_empty()
        && is_query
        && let Some(text) = learn
    {
        app.compiled.learn(&text, operation_name.as_deref(), &doc);
    }
    document::order::reorder(&mut response.data, &doc, operation_name.as_deref());
    let mut res = graphql_response(media, &request_id, response);
    if let Some(limits) = limits {
        super::authorize::rate_limit_headers(res.headers_mut(), &limits);
    }
    res
}

/// The request's `variables`: absent or null is none; anything but an object
/// is BAD_USER_INPUT.
fn read_variables(variables: Option<Value>) -> Result<Variables, AppError> {
    match variables {
        None | Some(Value::Null) => Ok(Variables::default()),
        Some(v @ Value::Object(_)) => Ok(Variables::from_json(v)),
        Some(_) => Err(AppError::bad_input("`variables` must be a JSON object")),
    }
}

/// A session for an API-key caller: the key verified and its limits taken.
/// `X-Tenant-ID`, if sent, must name the key's own tenant, and so must the
/// host when it names one.
async fn key_session(
    app: &AppState,
    secret: &str,
    headers: &HeaderMap,
    meta: &crate::audit::RequestMeta,
    host: Option<&crate::domains::HostTenant>,
) -> Result<Session, AppError> {
    let requested = super::credentials::requested_tenant(headers)?;
    // A key on another tenant's host is refused before it spends a call.
    let on_host = |grant: &crate::auth::api_keys::KeyGrant| {
        crate::domains::check_requested(host, Some(grant.tenant_id))
    };
    let call =
        super::authorize::admit_key_checked(app, secret, meta.ip.as_deref(), on_host).await?;
    if requested.is_some_and(|id| id != call.grant.tenant_id) {
        return Err(AppError::forbidden(
            "an API key acts in its own tenant only: drop X-Tenant-ID or use that tenant's key",
        ));
    }
    let tenant = call.grant.tenant_id;
    Ok(Session::new(Principal::ApiKey(call), Some(tenant)))
}

/// Who sent a request, read from its headers before the document is checked.
enum Caller<'a> {
    /// An API key's secret, admitted (verified and counted) once the document passed.
    Key(&'a str),
    /// A bearer access token or nobody.
    Token(Box<Session>),
}
