//! The subscription's webhook events (`subscription.*`, see
//! docs/webhooks.md), emitted by `sync.rs` in the transaction that applies
//! Stripe's word to our rows: a sync that changes nothing emits nothing, and
//! one that rolls back emits nothing either.

use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::billing as rows;
use crate::error::AppResult;
use crate::webhooks::{self, EventType};

/// Statuses of a subscription that has ended for good.
fn ended(status: &str) -> bool {
    matches!(status, "canceled" | "incomplete_expired")
}

/// The `data` of the `subscription.*` events: the subscription as it is now,
/// and for `subscription.updated` and `subscription.canceled` of a known
/// subscription, what it was (`previous`, the same fields).
fn data(now: &rows::Subscription, previous: Option<&rows::Subscription>) -> Value {
    let mut data = fields(now);
    data["previous"] = previous.map_or(Value::Null, fields);
    data
}

fn fields(sub: &rows::Subscription) -> Value {
    json!({
        "subscriptionId": sub.stripe_subscription_id,
        "customerId": sub.stripe_customer_id,
        "status": sub.status,
        "plan": sub.plan_key,
        "interval": sub.price_interval,
        "amount": sub.amount,
        "currency": sub.currency,
        "currentPeriodStart": sub.current_period_start,
        "currentPeriodEnd": sub.current_period_end,
        "cancelAtPeriodEnd": sub.cancel_at_period_end,
        "trialEnd": sub.trial_end,
        "canceledAt": sub.canceled_at,
        "endedAt": sub.ended_at,
    })
}

/// The events of a change of the tenant's subscription row from `before` to
/// `now` (they differ): `created` for a subscription not followed before,
/// `canceled` when it has just ended, `updated` for any other change.
pub(crate) fn events_of(
    before: Option<&rows::Subscription>,
    now: &rows::Subscription,
) -> Vec<EventType> {
    let same = before.filter(|b| b.stripe_subscription_id == now.stripe_subscription_id);
    let mut events = Vec::new();
    if same.is_none() {
        events.push(EventType::SubscriptionCreated);
    }
    match same {
        Some(b) if ended(&now.status) && !ended(&b.status) => {
            events.push(EventType::SubscriptionCanceled)
        }
        Some(_) => events.push(EventType::SubscriptionUpdated),
        None if ended(&now.status) => events.push(EventType::SubscriptionCanceled),
        None => {}
    }
    events
}

/// Emits the events of a change of the tenant's subscription row.
pub(crate) async fn subscription_changed(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    before: Option<&rows::Subscription>,
    now: &rows::Subscription,
) -> AppResult<()> {
    let same = before.filter(|b| b.stripe_subscription_id == now.stripe_subscription_id);
    for event in events_of(before, now) {
        let previous = (event != EventType::SubscriptionCreated)
            .then_some(same)
            .flatten();
        webhooks::emit(conn, tenant, event, data(now, previous)).await?;
    }
    Ok(())
}

/// Emits `subscription.payment_failed` for an invoice Stripe could not charge,
/// once per Stripe event (`stripe_event`, its id: the webhook event's id is
/// derived from it, so working the Stripe event again writes nothing).
pub(crate) async fn payment_failed(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    invoice: &rows::Invoice,
    stripe_event: &str,
) -> AppResult<()> {
    let data = json!({
        "subscriptionId": invoice.stripe_subscription_id,
        "invoiceId": invoice.stripe_invoice_id,
        "invoiceNumber": invoice.number,
        "invoiceStatus": invoice.status,
        "amount": invoice.total,
        "currency": invoice.currency,
        "hostedInvoiceUrl": invoice.hosted_invoice_url,
        "periodStart": invoice.period_start,
        "periodEnd": invoice.period_end,
    });
    let kind = EventType::SubscriptionPaymentFailed;
    let id = Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("stripe-event:{stripe_event}/{}", kind.as_str()).as_bytes(),
    );
    webhooks::emit_once(conn, id, tenant, kind, data).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn sub(id: &str, status: &str) -> rows::Subscription {
        rows::Subscription {
            tenant_id: Uuid::nil(),
            stripe_subscription_id: id.into(),
            stripe_customer_id: "cus_1".into(),
            status: status.into(),
            plan_key: Some("pro".into()),
            price_id: "price_1".into(),
            price_interval: Some("month".into()),
            current_period_start: None,
            current_period_end: None,
            cancel_at_period_end: false,
            trial_end: None,
            canceled_at: None,
            ended_at: None,
            stripe_created: Utc::now(),
            amount: Some(1000),
            currency: Some("usd".into()),
        }
    }

    #[test]
    fn each_change_names_its_events() {
        use EventType::*;
        let active = sub("sub_1", "active");
        assert_eq!(events_of(None, &active), [SubscriptionCreated]);
        assert_eq!(
            events_of(Some(&sub("sub_0", "canceled")), &active),
            [SubscriptionCreated]
        );
        assert_eq!(
            events_of(Some(&active), &sub("sub_1", "past_due")),
            [SubscriptionUpdated]
        );
        assert_eq!(
            events_of(Some(&active), &sub("sub_1", "canceled")),
            [SubscriptionCanceled]
        );
        // An ended subscription that changes again (a late field) is an update.
        assert_eq!(
            events_of(Some(&sub("sub_1", "canceled")), &sub("sub_1", "canceled")),
            [SubscriptionUpdated]
        );
        assert_eq!(
            events_of(None, &sub("sub_2", "incomplete_expired")),
            [SubscriptionCreated, SubscriptionCanceled]
        );
    }

    #[test]
    fn data_carries_no_secret_and_the_previous_state() {
        let now = sub("sub_1", "canceled");
        let d = data(&now, Some(&sub("sub_1", "active")));
        assert_eq!(d["status"], "canceled");
        assert_eq!(d["previous"]["status"], "active");
        assert_eq!(data(&now, None)["previous"], Value::Null);
    }
}
