//! Time passing: trials, renewals, dunning, recovery, cancellation.

use super::*;

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
