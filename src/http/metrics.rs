//! `GET /metrics`: Prometheus text exposition of the instance's counters.
//! Served only behind `--metrics-token` (a bearer token, compared in constant
//! time) or on a listener of its own (`--metrics-listen`).
//!
//! Values are read from where they are kept (the pool's statement counter, the
//! key cache, the usage recorder) at each scrape by one collector, so the hot
//! path pays nothing extra for them.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::AppState;

#[derive(Debug)]
struct Snapshot {
    statements: u64,
    key_hits: u64,
    key_misses: u64,
    keys_live: bool,
    usage_pending: usize,
    usage_rejected: u64,
    authorize_allowed: u64,
    authorize_refused: u64,
    pool_size: usize,
    pool_available: usize,
    compiled_answered: u64,
    compiled_declined: u64,
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> std::fmt::Result {
            let metric = ConstCounter::new(v);
            metric.encode(e.encode_descriptor(name, help, None, metric.metric_type())?)
        }
        fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: i64) -> std::fmt::Result {
            let metric = ConstGauge::new(v);
            metric.encode(e.encode_descriptor(name, help, None, metric.metric_type())?)
        }
        let e = &mut encoder;
        counter(
            e,
            "tenantgate_sql_statements",
            "SQL statements sent by the request pool",
            self.statements,
        )?;
        counter(
            e,
            "tenantgate_api_key_cache_hits",
            "API keys verified from the in-process cache",
            self.key_hits,
        )?;
        counter(
            e,
            "tenantgate_api_key_cache_misses",
            "API keys verified against the database",
            self.key_misses,
        )?;
        counter(
            e,
            "tenantgate_authorize_allowed",
            "authorize calls answered allowed",
            self.authorize_allowed,
        )?;
        counter(
            e,
            "tenantgate_authorize_refused",
            "authorize calls answered not allowed",
            self.authorize_refused,
        )?;
        gauge(
            e,
            "tenantgate_api_key_cache_live",
            "1 while key changes are being received (LISTEN heartbeats arrive); 0: keys are checked in the database",
            i64::from(self.keys_live),
        )?;
        counter(
            e,
            "tenantgate_usage_events_rejected",
            "usage events set aside because the database refused them (logged with their error)",
            self.usage_rejected,
        )?;
        gauge(
            e,
            "tenantgate_usage_events_pending",
            "usage events buffered, not yet written",
            self.usage_pending as i64,
        )?;
        counter(
            e,
            "tenantgate_compiled_reads_answered",
            "query requests answered by a compiled plan (one SQL statement)",
            self.compiled_answered,
        )?;
        counter(
            e,
            "tenantgate_compiled_reads_declined",
            "query requests with a compiled plan that ran on the executor instead (an argument, the session, role or tenant refused, or a database error)",
            self.compiled_declined,
        )?;
        gauge(
            e,
            "tenantgate_db_pool_connections",
            "connections open in the request pool",
            self.pool_size as i64,
        )?;
        gauge(
            e,
            "tenantgate_db_pool_available",
            "idle connections in the request pool",
            self.pool_available as i64,
        )?;
        Ok(())
    }
}

/// Whether `headers` carry `Authorization: Bearer <token>`. Both sides are
/// hashed first, so the comparison takes the same time whatever the length.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, value)| value.trim())
        .unwrap_or("");
    let (a, b) = (Sha256::digest(presented), Sha256::digest(token));
    bool::from(a[..].ct_eq(&b[..]))
}

/// GET /metrics on the main listener when it is not served there.
pub async fn not_here() -> Response {
    (
        StatusCode::NOT_FOUND,
        "/metrics is not served here (see --metrics-token and --metrics-listen)\n",
    )
        .into_response()
}

/// GET /metrics.
pub async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &app.settings.metrics.token
        && !authorized(&headers, token)
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "a valid metrics bearer token is required\n",
        )
            .into_response();
    }
    let (key_hits, key_misses) = app.api_keys.stats();
    let (authorize_allowed, authorize_refused) = app.usage.decisions();
    let pool = app.db.pool_status();
    let (compiled_answered, compiled_declined) = app.compiled.counts();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot {
        statements: app.db.statement_count(),
        key_hits,
        key_misses,
        keys_live: app.api_keys.is_live(),
        usage_pending: app.usage.pending(),
        usage_rejected: app.usage.rejected(),
        authorize_allowed,
        authorize_refused,
        pool_size: pool.size,
        pool_available: pool.available,
        compiled_answered,
        compiled_declined,
    }));
    let mut body = String::new();
    if let Err(err) = prometheus_client::encoding::text::encode(&mut body, &registry) {
        tracing::error!(error = %err, "could not encode metrics");
    }
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}
