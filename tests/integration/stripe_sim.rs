//! The Stripe simulator (`tenantgate::stripe_sim`), driven through
//! async-stripe's own client and webhook parser: every response to the calls
//! billing makes decodes into async-stripe's types, and every event it sends
//! verifies and parses into a typed `EventObject`; signatures are Stripe's
//! (tampered, wrong-secret and stale deliveries refused); `Idempotency-Key`
//! makes one customer of two calls; the clock drives trials, renewals,
//! dunning, recovery and cancellation; held events go out in the order a
//! test picks; and the CLI refuses production.

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

#[tokio::test]
async fn every_response_and_event_deserializes_into_async_stripes_types() {
    let Setup {
        sim,
        receiver,
        client,
        web,
    } = setup(false).await;
    let (pro_month, pro_year) = catalogue(&client, "Pro", "pro", 9_900).await;
    let (basic_month, _) = catalogue(&client, "Basic", "basic", 2_900).await;
    let products = ListProduct::new().active(true).send(&client).await.unwrap();
    assert_eq!(products.data.len(), 2);
    let prices = ListPrice::new()
        .lookup_keys(vec!["pro_month".to_owned(), "pro_year".to_owned()])
        .active(true)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(prices.data.len(), 2);
    let price = RetrievePrice::new(pro_month.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(price.unit_amount, Some(9_900));
    assert_eq!(price.lookup_key.as_deref(), Some("pro_month"));

    let cus = customer(&client, "t-1").await;
    let RetrieveCustomerReturned::Customer(found) = RetrieveCustomer::new(cus.as_str())
        .send(&client)
        .await
        .unwrap()
    else {
        panic!("a customer");
    };
    assert_eq!(found.metadata.unwrap()["tenant_id"], "t-1");

    // Checkout through the hosted page.
    let (session_id, url) = checkout(&client, &cus, &basic_month, None).await;
    assert!(url.starts_with(sim.base_url()));
    let redirect = pay(&web, &url, "pay").await;
    assert_eq!(
        redirect,
        format!("http://app.test/billing?checkout=success&session_id={session_id}")
    );
    let session = RetrieveCheckoutSession::new(session_id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        session.status,
        Some(stripe_shared::CheckoutSessionStatus::Complete)
    );
    let sub_id = session.subscription.unwrap().id().as_str().to_owned();

    let sub = subscription(&client, &sub_id).await;
    assert_eq!(sub.status, SubscriptionStatus::Active);
    assert_eq!(sub.metadata["tenant_id"], "t-1");
    let item = &sub.items.data[0];
    assert_eq!(item.price.id.as_str(), basic_month);
    assert!(item.current_period_end > item.current_period_start);
    let listed = ListSubscription::new()
        .customer(cus.as_str())
        .status(ListSubscriptionStatus::All)
        .limit(20)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);

    // The first invoice names its subscription under parent.subscription_details.
    let invoice_id = latest(&sub);
    let invoice = RetrieveInvoice::new(invoice_id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(invoice.status, Some(stripe_shared::InvoiceStatus::Paid));
    assert_eq!(invoice.amount_paid, 2_900);
    let parent = invoice.parent.unwrap().subscription_details.unwrap();
    assert_eq!(parent.subscription.id().as_str(), sub_id);

    // Expanded fields decode as objects.
    let expanded = RetrieveSubscription::new(sub_id.as_str())
        .expand(vec!["latest_invoice".to_owned(), "customer".to_owned()])
        .send(&client)
        .await
        .unwrap();
    assert!(expanded.latest_invoice.unwrap().as_object().is_some());
    assert!(expanded.customer.as_object().is_some());

    // Upgrade (same interval: proration items for the next invoice), then a
    // change of interval (invoiced at once).
    let mut change = UpdateSubscriptionItems::new();
    change.id = Some(item.id.as_str().to_owned());
    change.price = Some(pro_month.clone());
    let updated = UpdateSubscription::new(sub_id.as_str())
        .items(vec![change])
        .proration_behavior(UpdateSubscriptionProrationBehavior::CreateProrations)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(updated.items.data[0].price.id.as_str(), pro_month);
    let mut change = UpdateSubscriptionItems::new();
    change.id = Some(item.id.as_str().to_owned());
    change.price = Some(pro_year.clone());
    let yearly = UpdateSubscription::new(sub_id.as_str())
        .items(vec![change])
        .proration_behavior(UpdateSubscriptionProrationBehavior::CreateProrations)
        .send(&client)
        .await
        .unwrap();
    assert_ne!(latest(&yearly), invoice_id);
    let ending = UpdateSubscription::new(sub_id.as_str())
        .cancel_at_period_end(true)
        .send(&client)
        .await
        .unwrap();
    assert!(ending.cancel_at_period_end);

    let portal = CreateBillingPortalSession::new()
        .customer(cus.as_str())
        .return_url("http://app.test/billing")
        .send(&client)
        .await
        .unwrap();
    let page = web
        .get(&portal.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Resume subscription") && page.contains("http://app.test/billing"));

    // Invoices, listed as the reconcile pass lists them, page by page.
    let since = sim.now() - 3_600;
    let first = ListInvoice::new()
        .created(stripe_types::RangeQueryTs::gte(since))
        .limit(1)
        .send(&client)
        .await
        .unwrap();
    assert!(first.has_more);
    let rest = ListInvoice::new()
        .customer(cus.as_str())
        .subscription(sub_id.as_str())
        .starting_after(first.data[0].id.clone().unwrap().as_str())
        .limit(100)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(rest.data.len(), 1);

    // A trial bought with a card that declines, and time passing.
    let cus2 = customer(&client, "t-2").await;
    let (_, url) = checkout(&client, &cus2, &pro_month, Some(7)).await;
    pay(&web, &url, "decline").await;
    sim.advance(8 * DAY);
    let canceled = CancelSubscription::new(sub_id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(canceled.status, SubscriptionStatus::Canceled);

    assert!(sim.settled(Duration::from_secs(10)).await);
    let events = parsed(&receiver);
    let seen = types(&events);
    for wanted in [
        "product.created",
        "price.created",
        "customer.created",
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.trial_will_end",
        "customer.subscription.deleted",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoiceitem.created",
    ] {
        assert!(seen.iter().any(|t| t == wanted), "no {wanted} in {seen:?}");
    }
    // Every event the simulator made was delivered, once, in order.
    let made: Vec<String> = sim.events().into_iter().map(|e| e.id).collect();
    let got: Vec<String> = events.iter().map(|e| e.id.as_str().to_owned()).collect();
    assert_eq!(made, got);
    // `*.updated` events say what changed.
    let upgrade = events
        .iter()
        .find(|e| {
            e.type_.as_str() == "customer.subscription.updated"
                && e.data.previous_attributes.is_some()
        })
        .unwrap();
    assert!(upgrade.api_version.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn checkout_emits_stripes_order_and_a_declined_card_leaves_it_incomplete() {
    let Setup {
        sim,
        receiver,
        client,
        web,
    } = setup(false).await;
    let (month, _) = catalogue(&client, "Pro", "pro", 9_900).await;
    let cus = customer(&client, "t-1").await;
    let before = sim.events().len();
    let (_, url) = checkout(&client, &cus, &month, None).await;
    pay(&web, &url, "pay").await;
    let order: Vec<String> = sim.events()[before..]
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(
        order,
        [
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
            "customer.subscription.updated",
            "checkout.session.completed",
        ]
    );
    // The subscription was created incomplete and became active.
    let created = sim.event_json(&sim.events()[before].id).unwrap();
    assert_eq!(created["data"]["object"]["status"], "incomplete");

    let cus2 = customer(&client, "t-2").await;
    let (session, url) = checkout(&client, &cus2, &month, None).await;
    pay(&web, &url, "decline").await;
    let session = RetrieveCheckoutSession::new(session.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        session.payment_status,
        stripe_shared::CheckoutSessionPaymentStatus::Unpaid
    );
    let sub = subscription(&client, session.subscription.unwrap().id().as_str()).await;
    assert_eq!(sub.status, SubscriptionStatus::Incomplete);
    // Paying later (a working card) makes it active.
    sim.set_card_fails(&cus2, false).unwrap();
    assert_eq!(
        subscription(&client, sub.id.as_str()).await.status,
        SubscriptionStatus::Active
    );
    assert!(sim.settled(Duration::from_secs(10)).await);
    assert!(types(&parsed(&receiver)).contains(&"invoice.payment_failed".to_owned()));
}

#[tokio::test]
async fn deliveries_are_signed_as_stripe_signs_and_forgeries_are_refused() {
    let Setup {
        sim,
        receiver,
        client,
        ..
    } = setup(false).await;
    customer(&client, "t-1").await;
    assert!(sim.settled(Duration::from_secs(10)).await);
    let (body, sig) = receiver
        .deliveries()
        .pop()
        .expect("customer.created delivered");
    assert!(Webhook::construct_event(&body, &sig, SECRET).is_ok());
    // The header is exactly what async-stripe's own test helper makes.
    let t: i64 = sig[2..sig.find(',').unwrap()].parse().unwrap();
    assert_eq!(sig, Webhook::generate_test_header(&body, SECRET, Some(t)));

    let tampered = body.replacen("t-1", "t-2", 1);
    assert!(matches!(
        Webhook::construct_event(&tampered, &sig, SECRET),
        Err(WebhookError::BadSignature)
    ));
    assert!(matches!(
        Webhook::construct_event(&body, &sig, "whsec_another_secret"),
        Err(WebhookError::BadSignature)
    ));
    let stale = signature(SECRET, chrono::Utc::now().timestamp() - 301, &body);
    assert!(matches!(
        Webhook::construct_event(&body, &stale, SECRET),
        Err(WebhookError::BadTimestamp(_))
    ));
    // Signed at the real time even when the simulated clock is far ahead.
    sim.advance(40 * DAY);
    customer(&client, "t-3").await;
    assert!(sim.settled(Duration::from_secs(10)).await);
    let (body, sig) = receiver.deliveries().pop().unwrap();
    let event = Webhook::construct_event(&body, &sig, SECRET).unwrap();
    assert!(event.created > chrono::Utc::now().timestamp() + 39 * 86_400);
}

#[tokio::test]
async fn an_idempotency_key_makes_one_customer_and_other_parameters_are_refused() {
    let Setup {
        sim, client, web, ..
    } = setup(true).await;
    let key = IdempotencyKey::new("tg-customer-t1").unwrap();
    let create = |description: &str| {
        CreateCustomer::new()
            .description(description.to_owned())
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key.clone()))
    };
    let first = create("tenant t1").send(&client).await.unwrap();
    let again = create("tenant t1").send(&client).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(sim.count("customers.created"), 1);
    assert_eq!(sim.count("api.replays"), 1);
    match create("another tenant").send(&client).await {
        Err(StripeError::Stripe(error, 400)) => {
            assert_eq!(error.type_.as_str(), "idempotency_error");
        }
        other => panic!("expected an idempotency error, got {other:?}"),
    }

    // Stripe down: 503, nothing made. A lost answer: made once, and the
    // retry under the same key gets it.
    sim.fail_next(1, Outage::Unavailable);
    let key2 = IdempotencyKey::new("tg-customer-t2").unwrap();
    let create2 = || {
        CreateCustomer::new()
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key2.clone()))
    };
    assert!(matches!(
        create2().send(&client).await,
        Err(StripeError::Stripe(_, 503))
    ));
    assert_eq!(sim.count("customers.created"), 1);
    sim.fail_next(1, Outage::LostResponse);
    assert!(matches!(
        create2().send(&client).await,
        Err(StripeError::Timeout)
    ));
    let made = create2().send(&client).await.unwrap();
    assert_eq!(sim.count("customers.created"), 2);
    let listed: serde_json::Value = web
        .get(format!("{}/v1/customers?limit=100", sim.base_url()))
        .bearer_auth(sim.secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(listed["data"][0]["id"], made.id.as_str());

    // No key, or a wrong one: 401 in Stripe's shape.
    let anonymous = web
        .get(format!("{}/v1/customers", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let wrong = ClientBuilder::new("sk_test_wrong")
        .url(sim.base_url())
        .build()
        .unwrap();
    assert!(matches!(
        CreateCustomer::new().send(&wrong).await,
        Err(StripeError::Stripe(_, 401))
    ));
    // A bad parameter names itself.
    match RetrievePrice::new("price_nope").send(&client).await {
        Err(StripeError::Stripe(error, 404)) => {
            assert_eq!(error.param.as_deref(), Some("price"));
            assert_eq!(error.code.unwrap().as_str(), "resource_missing");
        }
        other => panic!("expected 404, got {other:?}"),
    }
}

#[tokio::test]
async fn the_clock_drives_trials_renewals_dunning_recovery_and_cancellation() {
    let Setup {
        sim,
        receiver,
        client,
        web,
    } = setup(false).await;
    let (month, _) = catalogue(&client, "Pro", "pro", 9_900).await;

    // Trial → trial_will_end 3 days before its end → active with a paid invoice.
    let trial_cus = customer(&client, "trial").await;
    let (session, url) = checkout(&client, &trial_cus, &month, Some(14)).await;
    pay(&web, &url, "pay").await;
    let sub_id = RetrieveCheckoutSession::new(session.as_str())
        .send(&client)
        .await
        .unwrap()
        .subscription
        .unwrap()
        .id()
        .as_str()
        .to_owned();
    let sub = subscription(&client, &sub_id).await;
    assert_eq!(sub.status, SubscriptionStatus::Trialing);
    let trial_end = sub.trial_end.unwrap();
    sim.advance(10 * DAY);
    assert!(
        !sim.events()
            .iter()
            .any(|e| e.event_type == "customer.subscription.trial_will_end")
    );
    sim.advance(DAY + Duration::from_secs(60));
    let warning = sim
        .events()
        .into_iter()
        .find(|e| e.event_type == "customer.subscription.trial_will_end")
        .expect("trial_will_end");
    assert_eq!(warning.created, trial_end - 3 * 86_400);
    sim.advance(4 * DAY);
    let sub = subscription(&client, &sub_id).await;
    assert_eq!(sub.status, SubscriptionStatus::Active);
    assert_eq!(sub.items.data[0].current_period_start, trial_end);
    let invoice = RetrieveInvoice::new(latest(&sub))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(invoice.amount_paid, 9_900);

    // A renewal with a failing card → past_due → (14 days) unpaid → recovery.
    let dun_cus = customer(&client, "dunning").await;
    let (session, url) = checkout(&client, &dun_cus, &month, None).await;
    pay(&web, &url, "pay").await;
    let dun_sub = RetrieveCheckoutSession::new(session.as_str())
        .send(&client)
        .await
        .unwrap()
        .subscription
        .unwrap()
        .id()
        .as_str()
        .to_owned();
    sim.set_card_fails(&dun_cus, true).unwrap();
    sim.advance(32 * DAY);
    let sub = subscription(&client, &dun_sub).await;
    assert_eq!(sub.status, SubscriptionStatus::PastDue);
    let failed = RetrieveInvoice::new(latest(&sub))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(failed.status, Some(stripe_shared::InvoiceStatus::Open));
    assert!(failed.attempt_count >= 1);
    sim.advance(14 * DAY);
    assert_eq!(
        subscription(&client, &dun_sub).await.status,
        SubscriptionStatus::Unpaid
    );
    sim.set_card_fails(&dun_cus, false).unwrap();
    assert_eq!(
        subscription(&client, &dun_sub).await.status,
        SubscriptionStatus::Active
    );
    let paid = RetrieveInvoice::new(failed.id.unwrap().as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(paid.status, Some(stripe_shared::InvoiceStatus::Paid));

    // A trial whose card fails at its end → past_due.
    let (session, url) = checkout(&client, &dun_cus, &month, Some(3)).await;
    pay(&web, &url, "decline").await;
    let late_sub = RetrieveCheckoutSession::new(session.as_str())
        .send(&client)
        .await
        .unwrap()
        .subscription
        .unwrap()
        .id()
        .as_str()
        .to_owned();
    sim.advance(4 * DAY);
    assert_eq!(
        subscription(&client, &late_sub).await.status,
        SubscriptionStatus::PastDue
    );

    // Cancel at the period's end → canceled and customer.subscription.deleted then.
    UpdateSubscription::new(sub_id.as_str())
        .cancel_at_period_end(true)
        .send(&client)
        .await
        .unwrap();
    sim.advance(5 * DAY);
    assert_eq!(
        subscription(&client, &sub_id).await.status,
        SubscriptionStatus::Active
    );
    sim.advance(30 * DAY);
    let ended = subscription(&client, &sub_id).await;
    assert_eq!(ended.status, SubscriptionStatus::Canceled);
    assert!(ended.ended_at.is_some());

    assert!(sim.settled(Duration::from_secs(10)).await);
    let events = parsed(&receiver);
    let deleted: Vec<_> = events
        .iter()
        .filter(|e| e.type_.as_str() == "customer.subscription.deleted")
        .collect();
    assert_eq!(deleted.len(), 1);
    let EventObject::CustomerSubscriptionDeleted(object) = &deleted[0].data.object else {
        panic!("typed subscription");
    };
    assert_eq!(object.id.as_str(), sub_id);
}

#[tokio::test]
async fn held_events_go_out_in_the_order_a_test_picks_and_retries_follow_refusals() {
    let Setup {
        sim,
        receiver,
        client,
        ..
    } = setup(true).await;
    customer(&client, "a").await;
    customer(&client, "b").await;
    let held = sim.held();
    assert_eq!(held.len(), 2);
    assert!(receiver.deliveries().is_empty());
    // Newest first, the first twice; then a dropped one never arrives.
    sim.deliver(&held[1].id).await.unwrap();
    sim.deliver(&held[0].id).await.unwrap();
    let again = sim.deliver(&held[0].id).await.unwrap();
    assert!(again[0].ok());
    let got: Vec<String> = parsed(&receiver)
        .iter()
        .map(|e| e.id.as_str().to_owned())
        .collect();
    assert_eq!(
        got,
        [held[1].id.clone(), held[0].id.clone(), held[0].id.clone()]
    );
    assert!(sim.held().is_empty());
    customer(&client, "c").await;
    let dropped = sim.held()[0].id.clone();
    assert!(sim.drop_event(&dropped));
    assert!(sim.held().is_empty());

    // Automatic delivery retries a receiver that refuses.
    sim.hold_events(false);
    *receiver.refuse.lock().unwrap() = 2;
    customer(&client, "d").await;
    assert!(sim.settled(Duration::from_secs(10)).await);
    assert_eq!(sim.count("webhooks.failed"), 2);
    let last = parsed(&receiver).pop().unwrap();
    assert_eq!(last.type_.as_str(), "customer.created");
    assert!(!parsed(&receiver).iter().any(|e| e.id.as_str() == dropped));
}

#[tokio::test]
async fn the_control_api_drives_the_same_controls_over_http() {
    let Setup {
        sim, client, web, ..
    } = setup(true).await;
    let cus = customer(&client, "t").await;
    let base = sim.base_url().to_owned();
    let call = |path: &str, body: serde_json::Value| {
        web.post(format!("{base}/_sim/{path}"))
            .bearer_auth(sim.secret_key())
            .json(&body)
            .send()
    };
    let before = sim.now();
    let moved: serde_json::Value = call("clock/advance", serde_json::json!({"days": 2}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(moved["now"].as_i64().unwrap() >= before + 2 * 86_400);
    let card = call(
        &format!("customers/{cus}/card"),
        serde_json::json!({"fails": true}),
    )
    .await
    .unwrap();
    assert_eq!(card.status(), 200);
    let held: serde_json::Value = web
        .get(format!("{base}/_sim/events?held=true"))
        .bearer_auth(sim.secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = held["data"][0]["id"].as_str().unwrap().to_owned();
    let delivered: serde_json::Value = call(&format!("events/{id}/deliver"), serde_json::json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(delivered["deliveries"][0]["status"], 200);
    let outage = call(
        "outage",
        serde_json::json!({"mode": "unavailable", "calls": 1}),
    )
    .await
    .unwrap();
    assert_eq!(outage.status(), 200);
    let down = web
        .get(format!("{base}/v1/customers"))
        .bearer_auth(sim.secret_key())
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);
    let counts: serde_json::Value = web
        .get(format!("{base}/_sim/counts"))
        .bearer_auth(sim.secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["customers.created"], 1);
    // The control API needs the key too.
    let anonymous = web
        .post(format!("{base}/_sim/clock/advance"))
        .json(&serde_json::json!({"days": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // Hosted-page forms need their token.
    let (_, url) = {
        let (month, _) = catalogue(&client, "Pro", "pro", 100).await;
        checkout(&client, &cus, &month, None).await
    };
    let forged = web
        .post(&url)
        .form(&[("token", "guess"), ("outcome", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

#[test]
fn the_cli_refuses_production_and_prints_its_keys_in_development() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_tenantgate");
    let out = Command::new(bin)
        .args(["stripe-sim", "--env", "production"])
        .env_remove("TENANTGATE_ENV")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused with --env production"), "{stderr}");

    let live = Command::new(bin)
        .args(["stripe-sim", "--listen", "127.0.0.1:0"])
        .env("STRIPE_SECRET_KEY", "sk_live_nope")
        .env_remove("TENANTGATE_ENV")
        .output()
        .unwrap();
    assert!(!live.status.success());

    let mut child = Command::new(bin)
        .args([
            "stripe-sim",
            "--listen",
            "127.0.0.1:0",
            "--webhook-url",
            "http://127.0.0.1:9/h",
        ])
        .env_remove("TENANTGATE_ENV")
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("STRIPE_WEBHOOK_SECRET")
        .env("TENANTGATE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .take(4)
        .map(Result::unwrap)
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines[0].starts_with("Stripe simulator listening on http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines[2].contains("STRIPE_SECRET_KEY=sk_test_"), "{lines:?}");
    assert!(
        lines[3].contains("STRIPE_WEBHOOK_SECRET=whsec_"),
        "{lines:?}"
    );
}

/// Every non-null field of `ours` (recursively) is one async-stripe's type
/// keeps: decoded and encoded again, nothing we send is unknown to it.
fn fields_known(ours: &serde_json::Value, typed: &serde_json::Value, path: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    match (ours, typed) {
        (serde_json::Value::Object(ours), serde_json::Value::Object(typed)) => {
            for (key, value) in ours {
                if value.is_null() || key == "object" {
                    continue;
                }
                match typed.get(key) {
                    None => unknown.push(format!("{path}.{key}")),
                    Some(t) => unknown.extend(fields_known(value, t, &format!("{path}.{key}"))),
                }
            }
        }
        (serde_json::Value::Array(ours), serde_json::Value::Array(typed)) => {
            for (n, (o, t)) in ours.iter().zip(typed).enumerate() {
                unknown.extend(fields_known(o, t, &format!("{path}[{n}]")));
            }
        }
        _ => {}
    }
    unknown
}

/// A log writer into a shared buffer.
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes `value` as `T` (serde), checks no enum fell back to `Unknown`
/// and every field we send survives the round trip.
fn check_shape<T>(what: &str, value: &serde_json::Value)
where
    T: serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    // async-stripe decodes an enum value it does not know as `Unknown`,
    // with a warning: the warnings are caught here.
    let warnings = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = warnings.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || Sink(sink.clone()))
        .finish();
    let typed: T = tracing::subscriber::with_default(subscriber, || {
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("{what} does not decode: {e}\n{value:#}"))
    });
    let warnings = String::from_utf8_lossy(&warnings.lock().unwrap()).into_owned();
    assert!(warnings.is_empty(), "{what}: {warnings}");
    let again = serde_json::to_value(&typed).unwrap();
    let unknown = fields_known(value, &again, what);
    assert!(
        unknown.is_empty(),
        "fields async-stripe does not know: {unknown:?}"
    );
}

#[tokio::test]
async fn objects_match_async_stripes_structs_field_by_field() {
    let Setup {
        sim, client, web, ..
    } = setup(true).await;
    let (month, year) = catalogue(&client, "Pro", "pro", 9_900).await;
    let cus = customer(&client, "t-1").await;
    let (open_session, url) = checkout(&client, &cus, &month, Some(5)).await;
    let get = |path: String| {
        let web = web.clone();
        let key = sim.secret_key().to_owned();
        let base = sim.base_url().to_owned();
        async move {
            let response = web
                .get(format!("{base}{path}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    check_shape::<stripe_shared::CheckoutSession>(
        "open checkout session",
        &get(format!("/v1/checkout/sessions/{open_session}")).await,
    );
    pay(&web, &url, "pay").await;
    let session = get(format!(
        "/v1/checkout/sessions/{open_session}?expand[]=line_items"
    ))
    .await;
    check_shape::<stripe_shared::CheckoutSession>("complete checkout session", &session);
    let sub_id = session["subscription"].as_str().unwrap().to_owned();
    sim.advance(6 * DAY);
    let sub = get(format!("/v1/subscriptions/{sub_id}")).await;
    let item = sub["items"]["data"][0]["id"].as_str().unwrap().to_owned();
    UpdateSubscription::new(sub_id.as_str())
        .items(vec![{
            let mut change = UpdateSubscriptionItems::new();
            change.id = Some(item);
            change.price = Some(year.clone());
            change
        }])
        .send(&client)
        .await
        .unwrap();
    let customer_json = get(format!("/v1/customers/{cus}")).await;
    check_shape::<stripe_shared::Customer>("customer", &customer_json);
    // The check itself catches a field or an enum value async-stripe lacks.
    for (field, value) in [("colour", "red"), ("tax_exempt", "sometimes")] {
        let mut bad = customer_json.clone();
        bad[field] = serde_json::json!(value);
        let caught =
            std::panic::catch_unwind(|| check_shape::<stripe_shared::Customer>("bad", &bad));
        assert!(caught.is_err(), "{field} = {value} went unnoticed");
    }
    for p in get("/v1/products".into()).await["data"].as_array().unwrap() {
        check_shape::<stripe_shared::Product>("product", p);
    }
    for p in get("/v1/prices".into()).await["data"].as_array().unwrap() {
        check_shape::<stripe_shared::Price>("price", p);
    }
    check_shape::<stripe_shared::Subscription>(
        "subscription",
        &get(format!("/v1/subscriptions/{sub_id}")).await,
    );
    for i in get(format!("/v1/invoices?subscription={sub_id}")).await["data"]
        .as_array()
        .unwrap()
    {
        check_shape::<stripe_shared::Invoice>("invoice", i);
    }
    let portal = web
        .post(format!("{}/v1/billing_portal/sessions", sim.base_url()))
        .bearer_auth(sim.secret_key())
        .form(&[
            ("customer", cus.as_str()),
            ("return_url", "http://app.test/"),
        ])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    check_shape::<stripe_billing::BillingPortalSession>("billing portal session", &portal);
    for summary in sim.events() {
        let event = sim.event_json(&summary.id).unwrap();
        let object = &event["data"]["object"];
        let what = summary.event_type.as_str();
        match what.split('.').next().unwrap() {
            "customer" if what.starts_with("customer.subscription.") => {
                check_shape::<stripe_shared::Subscription>(what, object);
            }
            "customer" => check_shape::<stripe_shared::Customer>(what, object),
            "invoice" => check_shape::<stripe_shared::Invoice>(what, object),
            "invoiceitem" => check_shape::<stripe_billing::InvoiceItem>(what, object),
            "checkout" => check_shape::<stripe_shared::CheckoutSession>(what, object),
            "product" => check_shape::<stripe_shared::Product>(what, object),
            "price" => check_shape::<stripe_shared::Price>(what, object),
            other => panic!("an event of a kind this test does not check: {other}"),
        }
    }
}
