//! Every call billing makes, through async-stripe's client: the answers
//! decode, checkout emits Stripe's order, idempotency keys, outages, 401s,
//! and the control API.

use super::*;

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
