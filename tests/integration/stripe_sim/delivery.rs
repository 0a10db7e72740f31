//! Webhook delivery: Stripe's signature, and the order a test picks.

use super::*;

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
