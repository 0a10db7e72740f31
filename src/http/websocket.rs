//! GraphQL subscriptions over WebSocket at `/graphql` (graphql-transport-ws,
//! and the older graphql-ws). The client authenticates in `connection_init`:
//! its payload may carry `Authorization` and `X-Tenant-ID` (any case), exactly
//! as the headers of an HTTP request would.
//!
//! Sockets are bounded (see [`ConnectionLimits`]): message size, sockets per
//! client address (checked before the upgrade) and per session (checked at
//! `connection_init`), subscriptions per socket (`graphql::sockets`), time to
//! `connection_init`, and liveness (the server pings; a socket that sends
//! nothing back for the idle timeout is closed). Counts are per instance.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use super::client::request_meta;
use super::request_id::RequestId;
use crate::app::AppState;
use crate::audit::RequestMeta;
use crate::auth::{Principal, Session};
use crate::config::ConnectionLimits;
use crate::graphql::sockets::{DOCUMENT_ID_EXTENSION, OverWebSocket, SocketSubscriptions};

/// Close code of a socket that sent no `connection_init` in time
/// (graphql-transport-ws).
const INIT_TIMEOUT_CODE: u16 = 4408;
/// Close code of a socket that went quiet (no frame, not even a pong).
const IDLE_CODE: u16 = 3008;
/// Close code of a message over the size limit (RFC 6455).
const TOO_BIG_CODE: u16 = 1009;
/// How long a refused client is told to wait before trying again.
const RETRY_AFTER_SECS: u64 = 30;

/// Open sockets of this instance, per client address and per session.
#[derive(Debug, Clone, Default)]
pub struct SocketCounts {
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One counted socket; its place is given back when dropped.
#[derive(Debug)]
pub struct SocketSlot {
    counts: SocketCounts,
    key: String,
}

impl SocketCounts {
    /// Counts one more socket under `key` unless `cap` are already open.
    pub fn acquire(&self, key: String, cap: usize) -> Option<SocketSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key.clone()).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            counts: self.clone(),
            key,
        })
    }

    /// Sockets open under `key`.
    pub fn open(&self, key: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(key).copied().unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Upgrades a GET /graphql to a subscription socket.
pub fn upgrade(
    app: AppState,
    ws: WebSocketUpgrade,
    headers: &HeaderMap,
    request_id: RequestId,
    peer: SocketAddr,
) -> Response {
    let ws = ws.protocols(ALL_WEBSOCKET_PROTOCOLS);
    let Some(protocol) = ws
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .and_then(|p| WebSocketProtocols::from_str(p).ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol must be graphql-transport-ws or graphql-ws",
        )
            .into_response();
    };
    let meta = match request_meta(&request_id, peer, headers, app.settings.trusted_proxies) {
        Ok(meta) => meta,
        Err(err) => {
            return super::error_response(
                StatusCode::BAD_REQUEST,
                err.code().as_str(),
                &err.public_message(),
                Some(&request_id.0),
            );
        }
    };
    let host =
        super::client::request_host(headers, app.settings.trusted_proxies).map(str::to_owned);
    let limits = app.settings.connections.clone();
    let address = crate::auth::throttle::address_key("ws", meta.ip.as_deref().unwrap_or(""));
    let Some(address_slot) = app.sockets.acquire(address, limits.ws_per_address) else {
        tracing::warn!(ip = meta.ip.as_deref(), "too many sockets from one address");
        return too_many(&request_id, limits.ws_per_address);
    };
    ws.max_message_size(limits.ws_max_message_bytes)
        .max_frame_size(limits.ws_max_message_bytes)
        .on_upgrade(move |socket| async move {
            serve(app, socket, protocol, meta, request_id, host).await;
            drop(address_slot);
        })
}

/// 429 before the upgrade: this address has its most sockets open.
fn too_many(request_id: &RequestId, cap: usize) -> Response {
    let body = serde_json::json!({ "errors": [{
        "message": format!("at most {cap} sockets may be open from one address: close one first"),
        "extensions": { "code": "RATE_LIMITED", "retryAfter": RETRY_AFTER_SECS, "requestId": request_id.0 },
    }]});
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()),
        ],
        body.to_string(),
    )
        .into_response()
}

/// What a session's sockets are counted under (none for anonymous callers,
/// who are bounded by their address only).
fn session_key(session: &Session) -> Option<String> {
    match &session.principal {
        Principal::Anonymous => None,
        Principal::User { session_id, .. } => Some(format!("session:{session_id}")),
        Principal::ApiKey(call) => Some(format!("key:{}", call.grant.key_id)),
    }
}

/// Runs one socket: the GraphQL protocol, plus the caps, the
/// `connection_init` deadline, pings and the idle timeout.
async fn serve(
    app: AppState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    meta: RequestMeta,
    request_id: RequestId,
    host: Option<String>,
) {
    let limits: ConnectionLimits = app.settings.connections.clone();
    let (mut sink, source) = socket.split();
    let started = Instant::now();
    let since_start = move || started.elapsed().as_millis() as u64;
    // When the client last sent anything (a pong included), in ms since start.
    let last_seen = Arc::new(AtomicU64::new(0));
    let initialised = Arc::new(AtomicBool::new(false));
    let read_error: Arc<Mutex<Option<String>>> = Arc::default();
    // The session's slot lives as long as the socket (dropped at the end).
    let session_slot: Arc<Mutex<Option<SocketSlot>>> = Arc::default();

    let input = {
        let (seen, failed) = (last_seen.clone(), read_error.clone());
        source
            .take_while(move |frame| {
                seen.store(since_start(), Ordering::Relaxed);
                if let Err(err) = frame
                    && let Ok(mut slot) = failed.lock()
                {
                    *slot = Some(err.to_string());
                }
                std::future::ready(frame.is_ok())
            })
            .filter_map(|frame| {
                std::future::ready(match frame {
                    Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                        Some(lift_document_id(msg.into_data()))
                    }
                    _ => None,
                })
            })
    };
    let on_init = {
        let (keys, sockets, slot, done) = (
            app.keys.clone(),
            app.sockets.clone(),
            session_slot.clone(),
            initialised.clone(),
        );
        let domains = app.domains.clone();
        let cap = limits.ws_per_session;
        move |payload: serde_json::Value| async move {
            done.store(true, Ordering::SeqCst);
            let credentials = super::credentials::from_payload(&payload)?;
            let requested = credentials.requested_tenant;
            let mut session = Session::from_credentials(credentials, &keys)?;
            // The host's tenant is the active one, as over HTTP.
            // Close reasons are short (123 bytes): the code and a few words.
            let refused = |err: crate::error::AppError| {
                let code = err.code();
                crate::graphql::errors::connection_refused(format!(
                    "{}: {}",
                    code.as_str(),
                    if code.as_str() == "NOT_FOUND" {
                        "no tenant is served at this address"
                    } else {
                        "this address belongs to another tenant"
                    }
                ))
            };
            let host = domains
                .tenant_of_host(host.as_deref())
                .await
                .map_err(refused)?;
            if let Some(host) = host.as_deref()
                && matches!(session.principal, Principal::User { .. })
            {
                crate::domains::check_requested(Some(host), requested).map_err(refused)?;
                session.active_tenant = Some(host.id);
            }
            if let Some(key) = session_key(&session) {
                let Some(acquired) = sockets.acquire(key, cap) else {
                    return Err(crate::graphql::errors::connection_refused(format!(
                        "RATE_LIMITED: at most {cap} sockets may be open per session: close one first"
                    )));
                };
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(acquired);
            }
            let mut data = Data::default();
            data.insert(OverWebSocket);
            data.insert(SocketSubscriptions::default());
            data.insert(session);
            let mut meta = meta;
            meta.bound_tenant = host.as_deref().and_then(crate::domains::HostTenant::binds);
            data.insert(crate::domains::RequestHost(host));
            data.insert(meta);
            data.insert(request_id);
            Ok(data)
        }
    };
    let graphql = async_graphql::http::WebSocket::new(app.schema.clone(), input, protocol)
        .on_connection_init(on_init)
        .map(|msg| match msg {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => close(code, &reason),
        });
    let mut graphql = std::pin::pin!(graphql);
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + limits.ws_ping_interval,
        limits.ws_ping_interval,
    );
    let init_deadline = tokio::time::sleep(limits.ws_init_timeout);
    let mut init_deadline = std::pin::pin!(init_deadline);
    let idle_ms = limits.ws_idle_timeout.as_millis() as u64;
    loop {
        let (out, last) = tokio::select! {
            msg = graphql.next() => match msg {
                Some(msg) => (msg, false),
                None => break,
            },
            () = &mut init_deadline, if !initialised.load(Ordering::SeqCst) => {
                (close(INIT_TIMEOUT_CODE, "Connection initialisation timeout"), true)
            }
            _ = ping.tick() => {
                let quiet = since_start().saturating_sub(last_seen.load(Ordering::Relaxed));
                if quiet >= idle_ms {
                    (close(IDLE_CODE, "idle timeout"), true)
                } else {
                    (Message::Ping(Default::default()), false)
                }
            }
        };
        if sink.send(out).await.is_err() || last {
            break;
        }
    }
    let failure = read_error.lock().ok().and_then(|mut e| e.take());
    if let Some(err) = failure {
        tracing::debug!(error = %err, "socket read failed");
        if err.contains("too long") || err.contains("Space limit") {
            let _ = sink.send(close(TOO_BIG_CODE, "message too big")).await;
        }
    }
    let _ = sink.close().await;
    drop(session_slot);
}

/// A `subscribe` (graphql-ws: `start`) payload's `documentId` (the
/// GraphQL-over-HTTP draft's trusted-document id) moved into its
/// `extensions`, where async-graphql keeps it for `graphql::sockets` (it
/// drops payload fields it does not know). Other messages pass untouched.
fn lift_document_id(data: axum::body::Bytes) -> axum::body::Bytes {
    const NEEDLE: &[u8] = b"\"documentId\"";
    if !data.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
        return data;
    }
    let Ok(mut message) = serde_json::from_slice::<serde_json::Value>(&data) else {
        return data;
    };
    let Some(payload) = message
        .get_mut("payload")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return data;
    };
    let Some(id) = payload.remove("documentId") else {
        return data;
    };
    let extensions = payload
        .entry("extensions")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    let Some(extensions) = extensions.as_object_mut() else {
        return data;
    };
    extensions.insert(DOCUMENT_ID_EXTENSION.to_owned(), id);
    serde_json::to_vec(&message).map_or(data, axum::body::Bytes::from)
}

/// A close frame; its reason cut to the 123 bytes a control frame holds (at
/// a character boundary), or the client drops the socket as a protocol error.
fn close(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason[..end].into(),
    }))
}
