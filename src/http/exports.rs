//! `GET /v1/exports/{id}/download?token=…`: a data export's archive,
//! streamed through tenantgate (64 KiB at a time: memory stays flat
//! whatever the size) as an attachment with its length. The link is checked
//! and spent by `exports::links` (NOT_FOUND 404 unknown, FORBIDDEN 403
//! another user or no longer an owner, GONE 410 used or expired); the
//! downloader is proven by the export's binding cookie (set when the link
//! was read) or by the same user's access token in `Authorization`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::credentials;
use super::request_id::RequestId;
use crate::app::AppState;
use crate::auth::Session;
use crate::error::AppError;
use crate::exports::links::{Proof, cookie_name};

/// The query of a download link.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    token: Option<String>,
}

/// Bytes read from storage per chunk of the response.
const CHUNK: usize = 64 * 1024;

/// Serves one download.
pub async fn download(
    State(app): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
) -> Response {
    match serve(&app, &id, query.as_deref(), peer, &request_id, &headers).await {
        Ok(res) => res,
        Err(err) => {
            if let AppError::Internal(cause) = &err {
                tracing::error!(request_id = %request_id.0, error = %cause, "export download failed");
            }
            super::file_refusal(err, &request_id.0)
        }
    }
}

async fn serve(
    app: &AppState,
    id: &str,
    query: Option<&str>,
    peer: SocketAddr,
    request_id: &RequestId,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let unknown = || AppError::not_found("no such download link: ask for a new one");
    let export_id = Uuid::try_parse(id).map_err(|_| unknown())?;
    // Read here, not by axum's extractor: a malformed query is an unknown
    // link (404 with a code), never a plain-text rejection.
    let query = query.filter(|q| q.len() <= 400).ok_or_else(unknown)?;
    let query: DownloadQuery = serde_urlencoded::from_str(query).map_err(|_| unknown())?;
    let token = query.token.filter(|t| t.len() <= 200).ok_or_else(unknown)?;
    let meta =
        super::client::request_meta(request_id, peer, headers, app.settings.trusted_proxies)?;
    let creds = credentials::credentials(headers)?;
    let cookie = credentials::cookie(headers, &cookie_name(export_id));
    // An access token proves its user only while its session is live.
    // A session bound to a tenant's custom domain opens only that tenant's
    // exports (never the personal one, which holds every tenant).
    let (bearer_user, bearer_bound) = match creds.bearer {
        None => (None, None),
        Some(_) => {
            let session = Session::from_credentials(creds, &app.keys)?;
            let verified = session.require_user(&app.db).await?;
            (Some(verified.user_id), verified.bound_tenant)
        }
    };
    let proof = Proof {
        cookie,
        bearer_user,
        bearer_bound,
    };
    let download = app
        .exports
        .open_download(export_id, &token, &proof, &meta)
        .await?;
    let (len, reader) = download.opened;
    let body = Body::from_stream(futures_util::stream::unfold(
        Some(reader),
        |reader| async move {
            let mut reader = reader?;
            let mut buf = vec![0u8; CHUNK];
            match reader.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok::<_, std::io::Error>(buf), Some(reader)))
                }
                Err(e) => Some((Err(e), None)),
            }
        },
    ));
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // A download, never a page: nothing in it may run or be framed.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; frame-ancestors 'none'; sandbox",
        ),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", download.file_name))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
