//! The Stripe simulator (`tenantgate::stripe_sim`), driven through
//! async-stripe's own client and webhook parser: every response to the calls
//! billing makes decodes into async-stripe's types, and every event it sends
//! verifies and parses into a typed `EventObject`; signatures are Stripe's
//! (tampered, wrong-secret and stale deliveries refused); `Idempotency-Key`
//! makes one customer of two calls; the clock drives trials, renewals,
//! dunning, recovery and cancellation; held events go out in the order a
//! test picks; and the CLI refuses production.

mod calls;
mod cli;
mod clock;
mod delivery;
mod shapes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::invoice::{ListInvoice, RetrieveInvoice};
use stripe_billing::subscription::{
    CancelSubscription, ListSubscription, ListSubscriptionStatus, RetrieveSubscription,
    UpdateSubscription, UpdateSubscriptionItems, UpdateSubscriptionProrationBehavior,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
    RetrieveCheckoutSession,
};
use stripe_core::customer::{CreateCustomer, RetrieveCustomer, RetrieveCustomerReturned};
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, ListPrice, RetrievePrice,
};
use stripe_product::product::{CreateProduct, ListProduct};
use stripe_shared::{CheckoutSessionMode, SubscriptionStatus};
use stripe_webhook::{EventObject, Webhook, WebhookError};
use tenantgate::stripe_sim::{Outage, SimConfig, SimHandle, StripeSim, signature};

const SECRET: &str = "whsec_simulator_test_secret";
const DAY: Duration = Duration::from_secs(86_400);

/// A webhook receiver that keeps every delivery (raw body, signature).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
    /// Answer 500 to this many deliveries first (to see Stripe's retries).
    refuse: Arc<Mutex<u32>>,
}

impl Receiver {
    async fn start() -> (Self, String) {
        let receiver = Self::default();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn deliveries(&self) -> Vec<(String, String)> {
        self.got.lock().unwrap().clone()
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    {
        let mut refuse = r.refuse.lock().unwrap();
        if *refuse > 0 {
            *refuse -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    r.got
        .lock()
        .unwrap()
        .push((String::from_utf8(body.to_vec()).unwrap(), signature));
    StatusCode::OK
}

struct Setup {
    sim: SimHandle,
    receiver: Receiver,
    client: Client,
    web: reqwest::Client,
}

async fn setup(hold: bool) -> Setup {
    let (receiver, url) = Receiver::start().await;
    let sim = StripeSim::start(SimConfig {
        endpoints: vec![(url, SECRET.to_owned())],
        hold_events: hold,
        retry_delays: vec![Duration::from_millis(50); 4],
        hang_for: Duration::from_secs(2),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // Built as src/billing/stripe_api.rs builds it.
    let client = ClientBuilder::new(sim.secret_key())
        .url(sim.base_url().trim_end_matches('/'))
        .timeout(Duration::from_secs(1))
        .request_strategy(RequestStrategy::Once)
        .build()
        .unwrap();
    let web = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Setup {
        sim,
        receiver,
        client,
        web,
    }
}

/// A product with a monthly and a yearly price (lookup keys `<key>_month`, `<key>_year`).
async fn catalogue(client: &Client, name: &str, key: &str, monthly: i64) -> (String, String) {
    let product = CreateProduct::new(name).send(client).await.unwrap();
    let mut ids = Vec::new();
    for (interval, amount) in [
        (CreatePriceRecurringInterval::Month, monthly),
        (CreatePriceRecurringInterval::Year, monthly * 10),
    ] {
        let suffix = if amount == monthly { "month" } else { "year" };
        let price = CreatePrice::new(stripe_types::Currency::USD)
            .product(product.id.as_str())
            .unit_amount(amount)
            .lookup_key(format!("{key}_{suffix}"))
            .recurring(CreatePriceRecurring::new(interval))
            .send(client)
            .await
            .unwrap();
        ids.push(price.id.as_str().to_owned());
    }
    (ids[0].clone(), ids[1].clone())
}

async fn customer(client: &Client, tenant: &str) -> String {
    let mut metadata = HashMap::new();
    metadata.insert("tenant_id".to_owned(), tenant.to_owned());
    let created = CreateCustomer::new()
        .description(format!("tenantgate tenant {tenant}"))
        .metadata(metadata)
        .send(client)
        .await
        .unwrap();
    created.id.as_str().to_owned()
}

/// A checkout session made as src/billing/account.rs makes it.
async fn checkout(
    client: &Client,
    customer: &str,
    price: &str,
    trial: Option<u32>,
) -> (String, String) {
    let mut metadata = HashMap::new();
    metadata.insert("tenant_id".to_owned(), "t-1".to_owned());
    metadata.insert("plan".to_owned(), "pro".to_owned());
    let mut data = CreateCheckoutSessionSubscriptionData::new();
    data.metadata = Some(metadata.clone());
    data.trial_period_days = trial;
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(price.to_owned());
    item.quantity = Some(1);
    let session = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .customer(customer)
        .client_reference_id("t-1")
        .line_items(vec![item])
        .subscription_data(data)
        .metadata(metadata)
        .success_url("http://app.test/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("http://app.test/billing?checkout=canceled")
        .send(client)
        .await
        .unwrap();
    (session.id.as_str().to_owned(), session.url.unwrap())
}

/// The hidden form token of a hosted page.
fn token(html: &str) -> String {
    let at = html.find("name=\"token\" value=\"").expect("a form token") + 20;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// Pays on the hosted checkout page; returns where it redirects.
async fn pay(web: &reqwest::Client, url: &str, outcome: &str) -> String {
    let page = web.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(">Pay</button>") && html.contains("card that will be declined"));
    let done = web
        .post(url)
        .form(&[("token", token(&html).as_str()), ("outcome", outcome)])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303, "the checkout page redirects");
    done.headers()["location"].to_str().unwrap().to_owned()
}

async fn subscription(client: &Client, id: &str) -> stripe_shared::Subscription {
    RetrieveSubscription::new(id).send(client).await.unwrap()
}

/// The id of a subscription's latest invoice.
fn latest(sub: &stripe_shared::Subscription) -> String {
    let invoice = sub.latest_invoice.as_ref().expect("a latest invoice");
    invoice
        .id()
        .as_ref()
        .expect("an invoice id")
        .as_str()
        .to_owned()
}

/// Every delivery so far, verified and parsed into a typed object.
fn parsed(receiver: &Receiver) -> Vec<stripe_webhook::Event> {
    receiver
        .deliveries()
        .iter()
        .map(|(body, sig)| {
            let event = Webhook::construct_event(body, sig, SECRET)
                .unwrap_or_else(|e| panic!("{e:?} for {body}"));
            assert!(
                !matches!(event.data.object, EventObject::Unknown(_)),
                "{} parsed as Unknown",
                event.type_
            );
            event
        })
        .collect()
}

fn types(events: &[stripe_webhook::Event]) -> Vec<String> {
    events.iter().map(|e| e.type_.as_str().to_owned()).collect()
}
