//! A Stripe test double for development and tests: the part of Stripe's
//! HTTP API that billing calls (customers, products, prices, checkout and
//! billing portal sessions, subscriptions, invoices, events), served by an
//! in-process axum server with state in memory, a clock tests move, signed
//! webhooks delivered in an order a test controls, hosted checkout and
//! portal pages, and a control API (`/_sim/…`, and the same as methods on
//! [`SimHandle`]). The server reaches it only through `STRIPE_API_BASE`,
//! with the same client code as for real Stripe; nothing on the normal
//! server path uses this module.
//!
//! | file | job |
//! |---|---|
//! | `api.rs` | `/v1`: the secret key, outages, idempotency, Stripe's error shape |
//! | `handlers.rs` | each resource's requests |
//! | `forms.rs` | Stripe's bracket form encoding |
//! | `objects.rs`, `templates.json` | records rendered as Stripe's objects |
//! | `state.rs` | the records, behind one mutex |
//! | `lifecycle.rs` | checkout, invoicing and payment, a card that fails and recovers |
//! | `changes.rs` | plan changes with proration, cancelling |
//! | `clock.rs` | the clock and what happens when it moves |
//! | `events.rs`, `delivery.rs` | events, signing, delivery (automatic or held) |
//! | `control.rs` | `/_sim/…` for tests and the demo |
//! | `pages.rs` | the hosted checkout, portal and invoice pages |

mod api;
mod changes;
mod clock;
mod control;
mod delivery;
mod events;
mod forms;
mod handlers;
mod lifecycle;
mod objects;
mod pages;
mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get, post};
use tokio::sync::{Notify, watch};

pub use delivery::{Delivery, signature};
pub use events::{API_VERSION, EventSummary};
pub use state::Outage;

use state::State;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// The secret key callers must present; `None`: a fresh `sk_test_sim_…`.
    pub secret_key: Option<String>,
    /// The base URL of the hosted pages' links; `None`: `http://` and the
    /// bound address.
    pub public_url: Option<String>,
    /// Webhook endpoints: `(url, whsec_… secret)`.
    pub endpoints: Vec<(String, String)>,
    /// Hold events for a test to deliver instead of delivering them.
    pub hold_events: bool,
    /// How long a subscription stays `past_due` before it turns `unpaid`.
    pub unpaid_after: Duration,
    /// How long a hanging call (`Outage::Hang`, `Outage::LostResponse`) waits
    /// before it answers 503.
    pub hang_for: Duration,
    /// Pauses between attempts to deliver an event a receiver refused; after
    /// the last, the event is given up.
    pub retry_delays: Vec<Duration>,
    /// Longest wait for a receiver's answer.
    pub delivery_timeout: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret_key: None,
            public_url: None,
            endpoints: Vec::new(),
            hold_events: false,
            unpaid_after: Duration::from_secs(14 * 86_400),
            hang_for: Duration::from_secs(30),
            retry_delays: delivery::default_retry_delays(),
            delivery_timeout: Duration::from_secs(10),
        }
    }
}

/// What the server's tasks share.
pub(crate) struct Shared {
    state: Mutex<State>,
    secret_key: String,
    wake: Notify,
    http: reqwest::Client,
    hang_for: Duration,
    retry_delays: Vec<Duration>,
    busy: AtomicBool,
}

impl Shared {
    /// The state (a panic elsewhere while holding it leaves it usable: the
    /// simulator prefers answering to refusing).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_busy(&self, busy: bool) {
        self.busy.store(busy, Ordering::SeqCst);
    }
}

/// The simulator.
pub struct StripeSim;

impl StripeSim {
    /// Starts a simulator per `config`; it runs until [`SimHandle::shutdown`]
    /// (or the runtime ends).
    pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "the Stripe simulator cannot listen on {}: {e}",
                    config.listen
                )
            })?;
        let addr = listener.local_addr()?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        let secret_key = config
            .secret_key
            .clone()
            .unwrap_or_else(|| state::new_id("sk_test_sim_", 24));
        let mut state = State::new(
            clock::Clock::default(),
            base_url.clone(),
            config.unpaid_after.as_secs() as i64,
        );
        state.holding = config.hold_events;
        for (url, secret) in &config.endpoints {
            state.endpoints.push(state::Endpoint {
                url: url.clone(),
                secret: secret.clone(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(config.delivery_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            secret_key: secret_key.clone(),
            wake: Notify::new(),
            http,
            hang_for: config.hang_for,
            retry_delays: config.retry_delays.clone(),
            busy: AtomicBool::new(false),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = delivery::spawn_worker(shared.clone(), stop_rx.clone());
        let app = router(shared.clone());
        let mut stop_server = stop_rx;
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop_server.wait_for(|stop| *stop).await;
            };
            if let Err(err) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %err, "the Stripe simulator stopped");
            }
        });
        tracing::info!(url = %base_url, "Stripe simulator listening");
        Ok(SimHandle {
            shared,
            base_url,
            addr,
            stop: stop_tx,
            tasks: Mutex::new(vec![worker, server]),
        })
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/{*rest}", any(api::serve))
        .nest("/_sim", control::router())
        .route("/", get(pages::index))
        .route("/checkout/{id}", get(pages::checkout).post(pages::pay))
        .route("/portal/{id}", get(pages::portal))
        .route("/portal/{id}/{action}", post(pages::portal_action))
        .route("/invoices/{id}", get(pages::invoice))
        .with_state(shared)
}

/// A running simulator: its address and key, and its controls.
pub struct SimHandle {
    shared: Arc<Shared>,
    base_url: String,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl SimHandle {
    /// The base URL to give the Stripe client (`STRIPE_API_BASE`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The secret key callers must present (`STRIPE_SECRET_KEY`).
    pub fn secret_key(&self) -> &str {
        &self.shared.secret_key
    }

    /// Adds a webhook endpoint; events from now on are delivered to it too.
    pub fn add_endpoint(&self, url: impl Into<String>, secret: impl Into<String>) {
        self.shared.lock().endpoints.push(state::Endpoint {
            url: url.into(),
            secret: secret.into(),
        });
    }

    /// The simulated time (Unix seconds).
    pub fn now(&self) -> i64 {
        self.shared.lock().now()
    }

    /// Moves the clock `by` ahead; renewals, trial ends, retries and status
    /// changes due on the way happen in order, each at its moment.
    pub fn advance(&self, by: Duration) {
        clock::advance(&mut self.shared.lock(), by.as_secs() as i64);
        self.shared.wake.notify_one();
    }

    /// Makes `customer`'s card decline every charge, or work again (which
    /// pays their open invoices at once).
    pub fn set_card_fails(&self, customer: &str, fails: bool) -> anyhow::Result<()> {
        let result = lifecycle::set_card_fails(&mut self.shared.lock(), customer, fails);
        self.shared.wake.notify_one();
        result.map_err(|r| anyhow::anyhow!(r.message))
    }

    /// Holds new events for [`Self::deliver`] (`true`) or delivers them
    /// automatically (`false`; events held so far stay held).
    pub fn hold_events(&self, hold: bool) {
        self.shared.lock().holding = hold;
    }

    /// The held events, oldest first.
    pub fn held(&self) -> Vec<EventSummary> {
        let state = self.shared.lock();
        state
            .held
            .iter()
            .filter_map(|id| state.event(id))
            .map(EventSummary::of)
            .collect()
    }

    /// Every event so far, oldest first.
    pub fn events(&self) -> Vec<EventSummary> {
        self.shared
            .lock()
            .events
            .iter()
            .map(EventSummary::of)
            .collect()
    }

    /// Event `id` as it is delivered.
    pub fn event_json(&self, id: &str) -> Option<serde_json::Value> {
        self.shared.lock().event(id).map(events::render)
    }

    /// Delivers event `id` to every endpoint now (again, if it was before).
    pub async fn deliver(&self, id: &str) -> anyhow::Result<Vec<Delivery>> {
        delivery::deliver(&self.shared, id)
            .await
            .ok_or_else(|| anyhow::anyhow!("no such event: {id}"))
    }

    /// Drops held event `id` without delivering it (a missed webhook).
    pub fn drop_event(&self, id: &str) -> bool {
        let mut state = self.shared.lock();
        let before = state.held.len();
        state.held.retain(|h| h != id);
        before != state.held.len()
    }

    /// Queues every held event for automatic delivery, in order.
    pub fn release_held(&self) {
        let mut state = self.shared.lock();
        let held = std::mem::take(&mut state.held);
        for id in held {
            for endpoint in 0..state.endpoints.len() {
                state.queue.push_back((endpoint, id.clone()));
            }
        }
        drop(state);
        self.shared.wake.notify_one();
    }

    /// Makes the next `calls` API calls fail as `outage` says.
    pub fn fail_next(&self, calls: u32, outage: Outage) {
        self.shared.lock().outage = (calls > 0).then_some((outage, calls));
    }

    /// Counters: `customers.created`, `subscriptions.created`,
    /// `invoices.created`, `api.requests`, `api.replays`,
    /// `webhooks.delivered`, … (absent: zero).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.shared.lock().counts.clone()
    }

    /// One counter.
    pub fn count(&self, name: &str) -> u64 {
        self.shared.lock().counts.get(name).copied().unwrap_or(0)
    }

    /// Waits until automatic delivery has nothing left to do (or `timeout`
    /// passes); whether it finished.
    pub async fn settled(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let idle =
                self.shared.lock().queue.is_empty() && !self.shared.busy.load(Ordering::SeqCst);
            if idle {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server and the delivery worker.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for task in tasks {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
