//! GraphQL subscriptions over WebSocket at `/graphql` (graphql-transport-ws,
//! and the older graphql-ws). The client authenticates in `connection_init`:
//! its payload may carry `Authorization` and `X-Tenant-ID` (any case), exactly
//! as the headers of an HTTP request would.

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::FromRequestParts;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client::request_meta;
use super::request_id::RequestId;
use crate::app::AppState;
use crate::auth::Session;

/// Upgrades a GET /graphql to a subscription socket.
pub fn upgrade(
    app: AppState,
    ws: WebSocketUpgrade,
    headers: &HeaderMap,
    request_id: RequestId,
    peer: SocketAddr,
) -> Response {
    let Some(protocol) = protocol(headers) else {
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
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let keys = app.keys.clone();
            GraphQLWebSocket::new(socket, app.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let headers = payload_headers(&payload);
                    let session = Session::from_headers(&headers, &keys)?;
                    let mut data = Data::default();
                    data.insert(crate::graphql::sockets::OverWebSocket);
                    data.insert(session);
                    data.insert(meta);
                    data.insert(request_id);
                    Ok(data)
                })
                .serve()
                .await
        })
}

fn protocol(headers: &HeaderMap) -> Option<GraphQLProtocol> {
    let mut parts = axum::http::Request::builder().body(()).ok()?.into_parts().0;
    parts.headers = headers.clone();
    futures_util::FutureExt::now_or_never(GraphQLProtocol::from_request_parts(&mut parts, &()))?
        .ok()
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
