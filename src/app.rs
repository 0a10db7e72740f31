//! Shared state of a running server: database, signing keys, schema, settings.

use std::sync::Arc;

use crate::audit::feed::Feed;
use crate::auth::jwt::JwtKeys;
use crate::auth::key_cache::KeyCache;
use crate::billing::Billing;
use crate::config::{
    BillingConfig, ConnectionLimits, Environment, Limits, MetricsAccess, TrustedMode,
};
use crate::db::Db;
use crate::graphql::AppSchema;
use crate::graphql::trusted::TrustedDocuments;
use crate::http::websocket::SocketCounts;
use crate::mail::{Mailer, Sealer};
use crate::plans::PlanCatalogue;
use crate::usage::{Stop, Usage};

/// Settings the request path reads.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub limits: Limits,
    /// The base URL of links in emails (e.g. `https://auth.example.com`).
    pub public_url: String,
    /// Reverse proxies in front of the server (see `--trusted-proxies`).
    pub trusted_proxies: usize,
    /// Request timeout and WebSocket caps.
    pub connections: ConnectionLimits,
    /// Who may read `/metrics`, and where.
    pub metrics: MetricsAccess,
    /// Stripe (`None`: billing is off).
    pub billing: Option<BillingConfig>,
    /// Where the web app's files come from, canonical (`None`: built into the
    /// binary).
    pub web_dir: Option<std::path::PathBuf>,
    /// Whether signed-in users and anonymous callers may send only trusted
    /// documents (see `--trusted-documents`).
    pub trusted_documents: TrustedMode,
    /// The web app's operations by the SHA-256 of their text, loaded at
    /// start-up (`http::web::load_documents`; shared, cheap to clone).
    pub documents: TrustedDocuments,
    /// Data exports: where archives are kept and for how long.
    pub exports: crate::exports::ExportSettings,
    /// How long a tenant stays pending deletion before its purge
    /// (`--tenant-deletion-grace-days`).
    pub deletion_grace: std::time::Duration,
    /// Outgoing webhooks' delivery settings (`--webhooks-*`).
    pub webhooks: crate::webhooks::WebhookSettings,
    /// Tenants by host: the base domain and the name servers that verify
    /// custom domains (`--base-domain`, `--dns-server`).
    pub domains: crate::domains::DomainSettings,
    /// Calls a minute one publishable key may serve, every address together
    /// (`--publishable-key-rate`).
    pub publishable_key_rate: u32,
}

impl Settings {
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
    pub schema: AppSchema,
    /// The live audit feed of this instance.
    pub feed: Feed,
    /// Verified API keys (the hot path's cache).
    pub api_keys: KeyCache,
    /// The plan catalogue (cached, dropped on every announced change).
    pub plans: PlanCatalogue,
    /// Rate limits and the usage recorder.
    pub usage: Usage,
    /// Open WebSockets of this instance, per address and per session.
    pub sockets: SocketCounts,
    /// Stripe billing (off without a key).
    pub billing: Billing,
    /// Audit exports running on this instance (their budget).
    pub audit_exports: crate::audit::export::ExportSlots,
    /// Data exports (requests, the worker, downloads).
    pub exports: crate::exports::Exports,
    /// Outgoing webhooks (endpoints, the delivery worker).
    pub webhooks: crate::webhooks::Webhooks,
    /// Tenants by host, custom domains.
    pub domains: crate::domains::Domains,
    /// The hot query documents compiled to one statement each.
    pub compiled: crate::graphql::compiled::CompiledReads,
}

/// What the GraphQL resolvers share (put into the schema's data).
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub keys: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
    pub mailer: Mailer,
    pub feed: Feed,
    pub api_keys: KeyCache,
    pub plans: PlanCatalogue,
    pub usage: Usage,
    pub billing: Billing,
    pub exports: crate::exports::Exports,
    pub webhooks: crate::webhooks::Webhooks,
    pub domains: crate::domains::Domains,
}

impl AppState {
    /// Assembles the state and the GraphQL schema over it. `feed` announces new
    /// audit entries, key changes into `api_keys` and plan changes into
    /// `plans` (see [`Feed::start`]).
    ///
    /// # Panics
    /// When the Stripe client cannot be built from `settings.billing`
    /// (checked at start-up by [`Billing::new`] first).
    pub fn new(
        db: Db,
        keys: JwtKeys,
        settings: Settings,
        feed: Feed,
        api_keys: KeyCache,
        plans: PlanCatalogue,
        usage: Usage,
    ) -> Self {
        let mailer = Mailer {
            log_bodies: settings.environment != Environment::Production,
            public_url: settings.public_url.clone(),
            sealer: Sealer::new(&keys),
        };
        usage.alert_with(mailer.clone());
        let billing = Billing::new(settings.billing.as_ref(), db.clone(), mailer.clone())
            .expect("the Stripe client is built from checked settings");
        let exports =
            crate::exports::Exports::new(db.clone(), settings.exports.clone(), mailer.clone());
        let webhooks = crate::webhooks::Webhooks::new(
            db.clone(),
            settings.webhooks.clone(),
            &keys,
            mailer.clone(),
        );
        let domains = crate::domains::Domains::new(settings.domains.clone(), mailer.clone());
        domains.start_index(db.clone(), feed.hosts());
        let keys = Arc::new(keys);
        let settings = Arc::new(settings);
        let schema = crate::graphql::build_schema(Services {
            db: db.clone(),
            keys: keys.clone(),
            settings: settings.clone(),
            mailer,
            feed: feed.clone(),
            api_keys: api_keys.clone(),
            plans: plans.clone(),
            usage: usage.clone(),
            billing: billing.clone(),
            exports: exports.clone(),
            webhooks: webhooks.clone(),
            domains: domains.clone(),
        });
        Self {
            db,
            keys,
            settings,
            schema,
            feed,
            api_keys,
            plans,
            usage,
            sockets: SocketCounts::default(),
            billing,
            audit_exports: Default::default(),
            exports,
            webhooks,
            domains,
            compiled: crate::graphql::compiled::CompiledReads::default(),
        }
    }

    /// Starts writing buffered usage and key last-use times in the background.
    pub fn start_background(&self) -> Background {
        let stop = Stop::default();
        let task = self
            .usage
            .start_flusher(self.db.clone(), self.api_keys.clone(), stop.clone());
        let billing = self.billing.start_worker(stop.clone());
        let retention = crate::audit::retention::start(self.db.clone(), stop.clone());
        let exports = self.exports.start_worker(stop.clone());
        let webhooks = self.webhooks.start_worker(stop.clone());
        let purge = crate::erasure::Purger::new(
            self.db.clone(),
            self.billing.clone(),
            self.exports.clone(),
        )
        .start(stop.clone());
        let domains =
            crate::domains::recheck::start(self.domains.clone(), self.db.clone(), stop.clone());
        Background {
            stop,
            task,
            billing,
            retention,
            exports,
            purge,
            webhooks,
            domains,
        }
    }
}

/// The background writers of an instance.
pub struct Background {
    stop: Stop,
    task: tokio::task::JoinHandle<()>,
    /// The Stripe event worker and reconcile pass (with billing on).
    billing: Option<tokio::task::JoinHandle<()>>,
    /// The audit retention job.
    retention: tokio::task::JoinHandle<()>,
    /// The data export worker.
    exports: tokio::task::JoinHandle<()>,
    /// The purge of tenants whose deletion is due (`erasure::Purger`).
    purge: tokio::task::JoinHandle<()>,
    /// The webhook delivery worker.
    webhooks: tokio::task::JoinHandle<()>,
    /// The daily re-check of verified custom domains.
    domains: tokio::task::JoinHandle<()>,
}

impl Background {
    /// Stops them after a last flush (on shutdown, before the pool closes).
    pub async fn stop(self) {
        self.stop.stop();
        let _ = self.task.await;
        if let Some(billing) = self.billing {
            let _ = billing.await;
        }
        let _ = self.retention.await;
        let _ = self.exports.await;
        let _ = self.purge.await;
        let _ = self.webhooks.await;
        let _ = self.domains.await;
    }
}
