//! The web app (dashboard and portal) and the GraphiQL playground, served from
//! `web/dist`, embedded in the binary at build time (no CDN, works offline).

use std::path::Path;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::app::AppState;
use crate::graphql::trusted::{MANIFEST, TrustedDocuments};

#[derive(RustEmbed)]
#[folder = "web/dist"]
#[allow_missing = true]
struct Assets;

/// The Content-Security-Policy of every page.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; \
worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// GET /playground: GraphiQL.
pub async fn playground(State(state): State<AppState>) -> Response {
    serve_file(state.settings.web_dir.as_deref(), "playground/index.html").await
}

/// Any other GET: a file of the app, else the app's shell (client-side routes).
pub async fn app(State(state): State<AppState>, uri: Uri) -> Response {
    let dir = state.settings.web_dir.as_deref();
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty()
        && !path.ends_with('/')
        && let Some(file) = asset(dir, path).await
    {
        return respond(path, file);
    }
    if path.starts_with("assets/") {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    serve_file(dir, "index.html").await
}

/// A file of the web app: from `dir` (canonical) when the server was started
/// with `--web-dir`, else from the copy built into the binary.
pub async fn asset(dir: Option<&Path>, path: &str) -> Option<Vec<u8>> {
    let Some(dir) = dir else {
        return Assets::get(path).map(|f| f.data.into_owned());
    };
    // Only plain relative names: no `..`, no absolute paths, no hidden files.
    let safe = path
        .split('/')
        .all(|part| !part.is_empty() && !part.starts_with('.') && !part.contains('\\'));
    if !safe {
        return None;
    }
    // Symbolic links may not lead out of the folder, and only regular files of a
    // bounded size are read (a build output holds nothing else).
    // `dir` is canonical (made so at start-up).
    let real = tokio::fs::canonicalize(dir.join(path)).await.ok()?;
    if !real.starts_with(dir) {
        return None;
    }
    let meta = tokio::fs::metadata(&real).await.ok()?;
    if !meta.is_file() || meta.len() > MAX_WEB_FILE {
        return None;
    }
    tokio::fs::read(real).await.ok()
}

/// The largest file served from `--web-dir` (GraphiQL's bundle is under 1 MiB).
const MAX_WEB_FILE: u64 = 16 * 1024 * 1024;

/// Loads the trusted documents of the web app (its `persisted-documents.json`,
/// embedded or from `dir`): none is an empty set (logged at info), a wrong
/// one an error naming the entry.
pub async fn load_documents(dir: Option<&Path>) -> anyhow::Result<TrustedDocuments> {
    let Some(json) = asset(dir, MANIFEST).await else {
        tracing::info!(
            "no {MANIFEST} in the web app: no trusted documents (ids are refused as unknown)"
        );
        return Ok(TrustedDocuments::default());
    };
    let documents = TrustedDocuments::from_manifest(&json)?;
    tracing::info!(count = documents.len(), "trusted documents loaded");
    Ok(documents)
}

async fn serve_file(dir: Option<&Path>, path: &str) -> Response {
    match asset(dir, path).await {
        Some(file) => respond(path, file),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the web app is not built into this binary: run `npm ci && npm run build` in web/, \
             then rebuild tenantgate",
        )
            .into_response(),
    }
}

fn respond(path: &str, data: Vec<u8>) -> Response {
    let mime = mime_guess::from_path(path)
        .first_or_octet_stream()
        .to_string();
    let mut res = Response::new(Body::from(data));
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // Vite fingerprints everything under assets/; pages must revalidate.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if mime.starts_with("text/html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    res
}
