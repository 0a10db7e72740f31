//! The web app (dashboard and portal) and the GraphiQL playground, served from
//! `web/dist`, embedded in the binary at build time (no CDN, works offline).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/dist"]
#[allow_missing = true]
struct Assets;

/// The Content-Security-Policy of every page.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; \
worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// GET /playground: GraphiQL.
pub async fn playground() -> Response {
    serve_file("playground/index.html")
}

/// Any other GET: a file of the app, else the app's shell (client-side routes).
pub async fn app(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty() && Assets::get(path).is_some() {
        return serve_file(path);
    }
    if path.starts_with("assets/") {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    serve_file("index.html")
}

fn serve_file(path: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the web app is not built into this binary: run `npm ci && npm run build` in web/, \
             then rebuild tenantgate",
        )
            .into_response();
    };
    let mime = file.metadata.mimetype().to_owned();
    let mut res = Response::new(Body::from(file.data.into_owned()));
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
