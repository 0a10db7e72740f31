//! The subscription's events (created, updated, canceled, payment failed),
//! emitted where billing applies Stripe's word (the simulator here), and the
//! usage thresholds (80, 90, 100 %), once a month each.

use std::time::Duration;

use serde_json::json;

use super::{Event, events, kinds};
use crate::billing::{Billed, CANCEL};
use crate::keys::{create_key, v1};
use crate::support::TestApp;

const DAY: Duration = Duration::from_secs(86_400);

fn of<'a>(events: &'a [Event], kind: &str) -> Vec<&'a Event> {
    events.iter().filter(|e| e.kind == kind).collect()
}

#[tokio::test]
async fn a_subscription_is_created_updated_and_canceled_once_each() {
    let b = Billed::start(false).await;
    let (_, _, bystander) = b.app.sign_up("by@stander.test", "Bystander").await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    let e = events(&b.app, &b.tenant).await;
    let created = of(&e, "subscription.created");
    assert_eq!(created.len(), 1, "{e:?}");
    assert_eq!(e[0].kind, "subscription.created", "the first: {e:?}");
    let d = &e.last().unwrap().data;
    assert_eq!(d["status"], "active", "{e:?}");
    assert_eq!(d["plan"], "enterprise");
    assert_eq!(d["interval"], "month");
    assert_eq!(d["customerId"], b.customer().await.as_str());
    assert!(d["subscriptionId"].as_str().unwrap().starts_with("sub_"));
    assert!(d["currentPeriodEnd"].is_string());
    assert_eq!(d["cancelAtPeriodEnd"], false);
    let seen = e.len();

    b.ok(CANCEL, json!({ "e": true })).await;
    b.settle().await;
    let e = events(&b.app, &b.tenant).await;
    let later: Vec<&Event> = e.iter().skip(seen).collect();
    assert!(
        !later.is_empty(),
        "cancelling at the period's end is an update"
    );
    assert!(
        later.iter().all(|e| e.kind == "subscription.updated"),
        "{later:?}"
    );
    let last = &later.last().unwrap().data;
    assert_eq!(last["cancelAtPeriodEnd"], true);
    assert_eq!(last["previous"]["cancelAtPeriodEnd"], false);
    let seen = e.len();

    b.sim.advance(32 * DAY);
    b.settle().await;
    let e = events(&b.app, &b.tenant).await;
    let canceled = of(&e, "subscription.canceled");
    assert_eq!(canceled.len(), 1, "{e:?}");
    assert_eq!(canceled[0].data["status"], "canceled");
    assert_eq!(canceled[0].data["previous"]["status"], "active");
    assert!(canceled[0].data["endedAt"].is_string());
    assert!(e.len() > seen);
    assert_eq!(of(&e, "subscription.created").len(), 1, "{e:?}");
    // Working the same events again (Stripe's retries, reconcile) changes
    // nothing and emits nothing.
    b.app.state.billing.reconcile().await.unwrap();
    assert_eq!(events(&b.app, &b.tenant).await.len(), e.len());
    assert_eq!(kinds(&b.app, &bystander).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_failed_renewal_emits_payment_failed_and_the_past_due_update() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    let seen = events(&b.app, &b.tenant).await.len();
    let customer = b.customer().await;
    b.sim.set_card_fails(&customer, true).unwrap();
    b.sim.advance(32 * DAY);
    b.settle().await;
    let e = events(&b.app, &b.tenant).await;
    let later: Vec<Event> = e.into_iter().skip(seen).collect();
    let failed = of(&later, "subscription.payment_failed");
    assert!(!failed.is_empty(), "{later:?}");
    let d = &failed[0].data;
    assert!(d["invoiceId"].as_str().unwrap().starts_with("in_"), "{d}");
    assert_eq!(d["invoiceStatus"], "open");
    assert!(d["amount"].as_i64().unwrap() > 0, "{d}");
    assert!(d["subscriptionId"].as_str().unwrap().starts_with("sub_"));
    let past_due = of(&later, "subscription.updated")
        .into_iter()
        .any(|e| e.data["status"] == "past_due" && e.data["previous"]["status"] == "active");
    assert!(past_due, "{later:?}");

    // The stored Stripe events worked again (a retry after a blip, a second
    // instance): no second payment_failed.
    let failed_count = format!(
        "SELECT count(*) AS n FROM webhook_events WHERE tenant_id = '{}' \
         AND event_type = 'subscription.payment_failed'",
        b.tenant
    );
    let before = b.app.db.count(&failed_count).await;
    let again = b
        .app
        .db
        .count(
            "WITH v AS (UPDATE stripe_events SET processed_at = NULL, leased_until = NULL, \
             next_attempt_at = now() - interval '1 second' \
             WHERE event_type = 'invoice.payment_failed' RETURNING 1) SELECT count(*) AS n FROM v",
        )
        .await;
    assert!(again > 0, "a stored invoice.payment_failed to work again");
    assert!(b.app.state.billing.work_events().await.unwrap() > 0);
    assert_eq!(b.app.db.count(&failed_count).await, before);
}

#[tokio::test]
async fn usage_thresholds_emit_once_each_per_month() {
    let app = TestApp::spawn().await;
    app.db
        .count(
            "WITH v AS (UPDATE plans SET monthly_quotas = '{\"api_calls\": 10}' \
             WHERE key = 'free' RETURNING 1) SELECT count(*) AS n FROM v",
        )
        .await;
    app.state.plans.invalidate();
    let (owner, _, tenant) = app.sign_up("meter@hooks.test", "Meter").await;
    let (_, _, other) = app.sign_up("quiet@hooks.test", "Quiet").await;
    let (_, key) = create_key(&app, &owner, json!({ "scopes": ["USAGE_WRITE"] })).await;
    for _ in 0..12 {
        v1(&app, &key, json!({ "metric": "api_calls" })).await;
    }
    // Announced with the buffered usage, as it is written.
    app.state.usage.flush(&app.state.db).await.unwrap();
    let e = events(&app, &tenant).await;
    let reached = of(&e, "usage.threshold_reached");
    let mut thresholds: Vec<i64> = reached
        .iter()
        .map(|e| e.data["threshold"].as_i64().unwrap())
        .collect();
    thresholds.sort_unstable();
    assert_eq!(thresholds, [80, 90, 100], "{e:?}");
    for r in &reached {
        assert_eq!(r.data["tenantId"], tenant.as_str());
        assert_eq!(r.data["metric"], "api_calls");
        assert_eq!(r.data["limit"], 10);
        assert!(
            r.data["used"].as_i64().unwrap() * 100 >= 10 * r.data["threshold"].as_i64().unwrap()
        );
        assert_eq!(
            r.data["period"],
            chrono::Utc::now().format("%Y-%m").to_string()
        );
    }
    assert_eq!(kinds(&app, &other).await, Vec::<String>::new());
}
