//! What the simulator remembers, in memory behind one mutex: the objects
//! (as plain records; `objects.rs` renders them the way Stripe does), the
//! events and their delivery queue, idempotent results, injected outages and
//! call counts. Nothing here awaits: a request takes the lock, changes
//! state, and lets go before any I/O.

use std::collections::{BTreeMap, HashMap, VecDeque};

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Map, Value};

use super::clock::Clock;

/// String-to-string metadata, as Stripe keeps it.
pub type Metadata = Map<String, Value>;

#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub created: i64,
    pub description: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub metadata: Metadata,
    pub invoice_prefix: String,
    pub next_invoice_sequence: u32,
    /// The customer's card declines every charge (set by a test or the
    /// "declined card" button of the checkout page).
    pub card_fails: bool,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub created: i64,
    pub updated: i64,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub metadata: Metadata,
    pub default_price: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Price {
    pub id: String,
    pub created: i64,
    pub product: String,
    pub unit_amount: i64,
    pub currency: String,
    /// `day`, `week`, `month` or `year`; `None` for a one-time price.
    pub interval: Option<String>,
    pub interval_count: u32,
    pub lookup_key: Option<String>,
    pub nickname: Option<String>,
    pub active: bool,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Complete,
    Expired,
}

#[derive(Debug, Clone)]
pub struct CheckoutSession {
    pub id: String,
    pub created: i64,
    pub expires_at: i64,
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    /// `(price, quantity)` per line.
    pub line_items: Vec<(String, u64)>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub client_reference_id: Option<String>,
    pub metadata: Metadata,
    pub subscription_metadata: Metadata,
    pub trial_period_days: Option<u32>,
    pub status: SessionStatus,
    /// `unpaid`, `paid` or `no_payment_required`.
    pub payment_status: &'static str,
    pub subscription: Option<String>,
    pub invoice: Option<String>,
    /// The hosted page's form token (no state change without it).
    pub page_token: String,
}

#[derive(Debug, Clone)]
pub struct PortalSession {
    pub id: String,
    pub created: i64,
    pub customer: String,
    pub return_url: Option<String>,
    pub configuration: String,
    pub page_token: String,
}

/// A subscription's status, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubStatus {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Unpaid,
    Canceled,
}

impl SubStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Unpaid => "unpaid",
            Self::Canceled => "canceled",
        }
    }

    /// Whether the subscription has ended for good.
    pub fn ended(self) -> bool {
        matches!(self, Self::Canceled | Self::IncompleteExpired)
    }
}

#[derive(Debug, Clone)]
pub struct SubItem {
    pub id: String,
    pub created: i64,
    pub price: String,
    pub quantity: u64,
    pub current_period_start: i64,
    pub current_period_end: i64,
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub created: i64,
    pub customer: String,
    pub items: Vec<SubItem>,
    pub status: SubStatus,
    pub metadata: Metadata,
    pub currency: String,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cancellation_reason: Option<&'static str>,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    pub start_date: i64,
    pub billing_cycle_anchor: i64,
    pub latest_invoice: Option<String>,
    pub trial_will_end_sent: bool,
    /// When the subscription went past due (for the move to `unpaid`).
    pub past_due_since: Option<i64>,
}

impl Subscription {
    /// The end of the current period (of its first item).
    pub fn period_end(&self) -> i64 {
        self.items
            .first()
            .map_or(self.created, |i| i.current_period_end)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    Draft,
    Open,
    Paid,
    Void,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Void => "void",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Line {
    pub id: String,
    pub amount: i64,
    pub description: String,
    pub price: String,
    pub quantity: u64,
    pub period: (i64, i64),
    pub proration: bool,
    pub invoice_item: Option<String>,
    pub subscription_item: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: String,
    pub number: Option<String>,
    pub created: i64,
    pub customer: String,
    pub subscription: Option<String>,
    pub subscription_metadata: Metadata,
    pub status: InvoiceStatus,
    /// `subscription_create`, `subscription_cycle`, `subscription_update`.
    pub billing_reason: &'static str,
    pub lines: Vec<Line>,
    pub currency: String,
    pub period_start: i64,
    pub period_end: i64,
    pub amount_paid: i64,
    pub attempt_count: u64,
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub next_payment_attempt: Option<i64>,
}

impl Invoice {
    pub fn total(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }

    /// What the customer owes (a credit is never charged).
    pub fn amount_due(&self) -> i64 {
        self.total().max(0)
    }
}

#[derive(Debug, Clone)]
pub struct InvoiceItem {
    pub id: String,
    pub created: i64,
    pub customer: String,
    pub subscription: String,
    pub subscription_item: String,
    pub price: String,
    pub amount: i64,
    pub description: String,
    pub period: (i64, i64),
    pub invoice: Option<String>,
}

/// One event, as delivered (the object is a snapshot taken when it happened).
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub created: i64,
    pub object: Value,
    pub previous_attributes: Option<Value>,
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub pending_webhooks: usize,
    /// Delivery attempts, to any endpoint.
    pub attempts: u32,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    pub secret: String,
}

/// A stored idempotent result.
#[derive(Debug, Clone)]
pub struct Replay {
    pub fingerprint: String,
    pub status: u16,
    pub body: Vec<u8>,
}

/// How the next calls fail ("Stripe is down").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outage {
    /// 503 at once, nothing done.
    Unavailable,
    /// No answer until the client gives up, nothing done.
    Hang,
    /// The call is done (and its idempotent result kept), but the answer
    /// never comes: a retry under the same key gets the stored result.
    LostResponse,
}

/// Where a change came from, for the events it makes.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
}

/// Everything, behind the simulator's mutex.
#[derive(Debug)]
pub struct State {
    pub clock: Clock,
    pub base_url: String,
    pub unpaid_after_secs: i64,
    pub customers: Vec<Customer>,
    /// Ids of deleted customers (retrieving one answers `deleted: true`).
    pub deleted_customers: Vec<String>,
    pub products: Vec<Product>,
    pub prices: Vec<Price>,
    pub checkout_sessions: Vec<CheckoutSession>,
    pub portal_sessions: Vec<PortalSession>,
    pub subscriptions: Vec<Subscription>,
    pub invoices: Vec<Invoice>,
    pub invoice_items: Vec<InvoiceItem>,
    pub events: Vec<Event>,
    pub endpoints: Vec<Endpoint>,
    /// Hold events for a test to deliver (instead of delivering them).
    pub holding: bool,
    pub held: Vec<String>,
    /// `(endpoint index, event id)` awaiting automatic delivery, in order.
    pub queue: VecDeque<(usize, String)>,
    pub replays: HashMap<String, Replay>,
    pub outage: Option<(Outage, u32)>,
    pub counts: BTreeMap<String, u64>,
    /// The request being served (its id and key go into the events it makes).
    pub origin: Origin,
    invoice_counter: u32,
}

impl State {
    pub fn new(clock: Clock, base_url: String, unpaid_after_secs: i64) -> Self {
        Self {
            clock,
            base_url,
            unpaid_after_secs,
            customers: Vec::new(),
            deleted_customers: Vec::new(),
            products: Vec::new(),
            prices: Vec::new(),
            checkout_sessions: Vec::new(),
            portal_sessions: Vec::new(),
            subscriptions: Vec::new(),
            invoices: Vec::new(),
            invoice_items: Vec::new(),
            events: Vec::new(),
            endpoints: Vec::new(),
            holding: false,
            held: Vec::new(),
            queue: VecDeque::new(),
            replays: HashMap::new(),
            outage: None,
            counts: BTreeMap::new(),
            origin: Origin::default(),
            invoice_counter: 0,
        }
    }

    /// The simulated time (Unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Adds one to counter `name`.
    pub fn count(&mut self, name: &str) {
        *self.counts.entry(name.to_owned()).or_default() += 1;
    }

    /// A fresh number for an invoice of `customer`.
    pub fn next_invoice_number(&mut self, customer: &str) -> Option<String> {
        self.invoice_counter += 1;
        let c = self.customers.iter_mut().find(|c| c.id == customer)?;
        let n = c.next_invoice_sequence;
        c.next_invoice_sequence += 1;
        Some(format!("{}-{n:04}", c.invoice_prefix))
    }

    pub fn customer(&self, id: &str) -> Option<&Customer> {
        self.customers.iter().find(|c| c.id == id)
    }
    pub fn customer_mut(&mut self, id: &str) -> Option<&mut Customer> {
        self.customers.iter_mut().find(|c| c.id == id)
    }
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }
    pub fn price(&self, id: &str) -> Option<&Price> {
        self.prices.iter().find(|p| p.id == id)
    }
    pub fn session(&self, id: &str) -> Option<&CheckoutSession> {
        self.checkout_sessions.iter().find(|s| s.id == id)
    }
    pub fn session_mut(&mut self, id: &str) -> Option<&mut CheckoutSession> {
        self.checkout_sessions.iter_mut().find(|s| s.id == id)
    }
    pub fn portal(&self, id: &str) -> Option<&PortalSession> {
        self.portal_sessions.iter().find(|s| s.id == id)
    }
    pub fn subscription(&self, id: &str) -> Option<&Subscription> {
        self.subscriptions.iter().find(|s| s.id == id)
    }
    pub fn subscription_mut(&mut self, id: &str) -> Option<&mut Subscription> {
        self.subscriptions.iter_mut().find(|s| s.id == id)
    }
    pub fn invoice(&self, id: &str) -> Option<&Invoice> {
        self.invoices.iter().find(|i| i.id == id)
    }
    pub fn invoice_mut(&mut self, id: &str) -> Option<&mut Invoice> {
        self.invoices.iter_mut().find(|i| i.id == id)
    }
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }
}

/// A Stripe-style id: `prefix` and `len` random letters and digits.
pub fn new_id(prefix: &str, len: usize) -> String {
    let tail: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    format!("{prefix}{tail}")
}

/// A random token for hosted-page forms.
pub fn new_token() -> String {
    new_id("", 32)
}
