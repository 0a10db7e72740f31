//! `Webhooks`: what managing endpoints and delivering needs, shared by the
//! resolvers and the worker of an instance (cheap to clone): the database,
//! the settings, the secrets' sealer, the mailer, the clock, the HTTP client
//! and the worker's wake-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::secret::SecretBox;
use crate::auth::jwt::JwtKeys;
use crate::db::Db;
use crate::mail::Mailer;

/// Delivery settings (`--webhooks-*`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Deliver to loopback addresses, and accept `http://` URLs to a loopback
    /// host (development and tests only: refused with `--env production`).
    pub allow_loopback: bool,
    /// Attempts in flight per instance.
    pub concurrency: usize,
    /// Attempts in flight per instance to one endpoint (so one slow receiver
    /// holds at most this many of the slots).
    pub per_endpoint: usize,
    /// An attempt's deadline, connection included.
    pub timeout: Duration,
    /// Name servers to resolve endpoints' hosts with (empty: the system's
    /// lookup, as in production). Tests point it at their DNS server.
    pub dns_servers: Vec<std::net::SocketAddr>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_loopback: false,
            concurrency: 16,
            per_endpoint: 4,
            timeout: Duration::from_secs(15),
            dns_servers: Vec::new(),
        }
    }
}

/// The worker's clock: real time plus an offset that tests advance (so the
/// retry schedule is proven without sleeping through it).
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// How far this clock is ahead of real time, in milliseconds (zero in
    /// production): the skew added to the database's clock for due times
    /// and leases.
    pub fn skew_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock `by` ahead.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

pub(super) struct Inner {
    pub db: Db,
    pub settings: WebhookSettings,
    pub secrets: SecretBox,
    pub mailer: Mailer,
    pub clock: Clock,
    pub client: reqwest::Client,
    pub wake: tokio::sync::Notify,
    pub slots: Arc<tokio::sync::Semaphore>,
    pub in_flight: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, (uuid::Uuid, usize)>>,
}

/// Outgoing webhooks of this instance.
#[derive(Clone)]
pub struct Webhooks(pub(super) Arc<Inner>);

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("settings", &self.0.settings)
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    /// # Panics
    /// When the HTTP client cannot be built (no TLS backend).
    pub fn new(db: Db, settings: WebhookSettings, keys: &JwtKeys, mailer: Mailer) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent("tenantgate-webhooks/1")
            .dns_resolver(Arc::new(super::ssrf::Guard {
                allow_loopback: settings.allow_loopback,
                servers: super::ssrf::name_servers(&settings.dns_servers, settings.timeout),
            }))
            .build()
            .expect("the webhook HTTP client builds");
        let slots = Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1)));
        Self(Arc::new(Inner {
            db,
            secrets: SecretBox::new(keys),
            settings,
            mailer,
            clock: Clock::default(),
            client,
            wake: tokio::sync::Notify::new(),
            slots,
            in_flight: Default::default(),
        }))
    }

    pub fn settings(&self) -> &WebhookSettings {
        &self.0.settings
    }

    /// The worker's clock (tests advance it).
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    /// Wakes this instance's worker (a delivery was just made due here;
    /// other instances find it at their next poll).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }
}
