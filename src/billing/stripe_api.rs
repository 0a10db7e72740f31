//! The Stripe client: async-stripe pointed at Stripe (or `STRIPE_API_BASE`,
//! the simulator in development), every call with a per-attempt timeout and
//! retried on transient failures under one idempotency key, errors mapped to
//! ours (Stripe unreachable or failing: UNAVAILABLE).

use std::time::Duration;

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};

use crate::config::BillingConfig;
use crate::error::{AppError, AppResult};

/// Attempts per call (the first and two retries).
const ATTEMPTS: u32 = 3;

/// A configured Stripe client.
#[derive(Clone)]
pub struct StripeApi {
    client: Client,
    timeout: Duration,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeApi").finish_non_exhaustive()
    }
}

impl StripeApi {
    /// A client for `config` (its key, base URL and timeout).
    pub fn new(config: &BillingConfig) -> anyhow::Result<Self> {
        let mut builder = ClientBuilder::new(config.secret_key.clone())
            .timeout(config.timeout)
            .request_strategy(RequestStrategy::Once);
        if let Some(base) = &config.api_base {
            // async-stripe appends `v1/…` to the base: it must end in `/`
            // (`http://host/stripe` would become `http://host/stripev1/…`).
            builder = builder.url(format!("{}/", base.trim_end_matches('/')));
        }
        Ok(Self {
            client: builder
                .build()
                .map_err(|e| anyhow::anyhow!("Stripe client: {e}"))?,
            timeout: config.timeout,
        })
    }

    /// Sends `request` under idempotency key `key` (a fresh one when `None`),
    /// retrying transient failures (network, timeouts, 409/429/5xx) with the
    /// same key, so a retry never does the work twice.
    pub async fn call<R>(&self, request: &R, key: Option<String>) -> AppResult<R::Output>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let key = key.unwrap_or_else(|| format!("tg-{}", uuid::Uuid::new_v4()));
        let idempotency = IdempotencyKey::new(&key)
            .map_err(|e| AppError::internal(anyhow::anyhow!("idempotency key: {e}")))?;
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            let result = request
                .customize()
                .request_strategy(RequestStrategy::Idempotent(idempotency.clone()))
                .timeout(self.timeout)
                .send(&self.client)
                .await;
            match result {
                Ok(value) => return Ok(value),
                Err(err) if attempt < ATTEMPTS && transient(&err) => {
                    tracing::info!(error = %short(&err), attempt, "Stripe call failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 4;
                    attempt += 1;
                }
                Err(err) => return Err(map_error(err)),
            }
        }
    }
}

/// Whether another attempt may succeed.
fn transient(err: &StripeError) -> bool {
    match err {
        StripeError::ClientError(_) | StripeError::Timeout => true,
        StripeError::Stripe(_, status) => matches!(status, 409 | 429 | 500..=599),
        StripeError::JSONDeserialize(_) | StripeError::ConfigError(_) => false,
    }
}

/// The error in one line, without request details.
fn short(err: &StripeError) -> String {
    match err {
        StripeError::Stripe(api, status) => format!(
            "Stripe answered {status}: {}",
            api.message.as_deref().unwrap_or("no message")
        ),
        other => other.to_string(),
    }
}

/// Stripe unreachable, slow or failing is UNAVAILABLE (try again later); a
/// refusal of what we asked is our fault and INTERNAL (logged, not shown).
fn map_error(err: StripeError) -> AppError {
    if let StripeError::Stripe(_, 404) = err {
        return AppError::not_found(format!("Stripe: {}", short(&err)));
    }
    if transient(&err) {
        tracing::warn!(error = %short(&err), "Stripe is unavailable");
        return AppError::unavailable("Stripe is unavailable; try again shortly");
    }
    AppError::internal(anyhow::anyhow!("Stripe call failed: {}", short(&err)))
}
