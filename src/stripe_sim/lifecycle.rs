//! What Stripe Billing does to a subscription, step by step, with the events
//! of each step in Stripe's order: checkout completion, invoicing and
//! payment (a failing card makes `past_due`; paying makes it `active`
//! again). Changes asked for later are in `changes.rs`; the clock
//! (`clock.rs`) drives the steps that wait for time.

use chrono::{DateTime, Months};
use serde_json::Value;

use super::events::{emit, updated};
use super::objects;
use super::state::{
    Customer, Invoice, InvoiceStatus, Line, Metadata, SessionStatus, State, SubItem, SubStatus,
    Subscription, new_id,
};

/// A step refused (answered as `invalid_request_error` on the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub param: Option<String>,
    pub message: String,
}

impl Refusal {
    pub fn new(param: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            param: param.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// The end of a billing period that starts at `start`.
pub fn period_end(start: i64, interval: &str, count: u32) -> i64 {
    let Some(at) = DateTime::from_timestamp(start, 0) else {
        return start;
    };
    let count = count.max(1);
    let end = match interval {
        "day" => Some(at + chrono::Duration::days(count.into())),
        "week" => Some(at + chrono::Duration::weeks(count.into())),
        "year" => at.checked_add_months(Months::new(12 * count)),
        _ => at.checked_add_months(Months::new(count)),
    };
    end.map_or(start, |e| e.timestamp())
}

/// `$29.00` and the like.
pub fn money(amount: i64, currency: &str) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    match currency {
        "usd" => format!("{sign}${}.{:02}", abs / 100, abs % 100),
        "eur" => format!("{sign}€{}.{:02}", abs / 100, abs % 100),
        "gbp" => format!("{sign}£{}.{:02}", abs / 100, abs % 100),
        other => format!(
            "{sign}{}.{:02} {}",
            abs / 100,
            abs % 100,
            other.to_uppercase()
        ),
    }
}

pub(super) fn product_name(state: &State, price: &str) -> String {
    state
        .price(price)
        .and_then(|p| state.product(&p.product))
        .map_or_else(|| price.to_owned(), |p| p.name.clone())
}

pub(super) fn sub_json(state: &State, id: &str) -> Value {
    state
        .subscription(id)
        .map_or(Value::Null, |s| objects::subscription(state, s))
}

fn invoice_json(state: &State, id: &str) -> Value {
    state
        .invoice(id)
        .map_or(Value::Null, |i| objects::invoice(state, i))
}

/// Makes a customer and emits `customer.created`.
pub fn create_customer(
    state: &mut State,
    email: Option<String>,
    name: Option<String>,
    description: Option<String>,
    metadata: Metadata,
) -> String {
    let id = new_id("cus_", 14);
    let customer = Customer {
        id: id.clone(),
        created: state.now(),
        description,
        email,
        name,
        metadata,
        invoice_prefix: new_id("", 8).to_uppercase(),
        next_invoice_sequence: 1,
        card_fails: false,
    };
    state.customers.push(customer.clone());
    state.count("customers.created");
    emit(
        state,
        "customer.created",
        objects::customer(&customer),
        None,
    );
    id
}

/// Deletes customer `id` as Stripe does: its live subscriptions end now
/// (`customer.subscription.deleted` each), then `customer.deleted` carries
/// the customer as it was. Afterwards retrieving it answers `deleted: true`
/// and deleting it again is a 404. False when there is no such customer.
pub fn delete_customer(state: &mut State, id: &str) -> bool {
    let Some(customer) = state.customer(id).cloned() else {
        return false;
    };
    let now = state.now();
    let live: Vec<String> = state
        .subscriptions
        .iter()
        .filter(|s| s.customer == id && !s.status.ended())
        .map(|s| s.id.clone())
        .collect();
    for sub in live {
        // Only refuses an ended subscription, and these are live.
        let _ = super::changes::end_subscription(state, &sub, now);
    }
    state.customers.retain(|c| c.id != id);
    state.deleted_customers.push(id.to_owned());
    state.count("customers.deleted");
    emit(
        state,
        "customer.deleted",
        objects::customer(&customer),
        None,
    );
    true
}

/// Completes checkout session `id` as its hosted page's "Pay" button does
/// (`declined`: the card entered will decline every charge). Returns the
/// URL to send the buyer to.
pub fn complete_checkout(state: &mut State, id: &str, declined: bool) -> Result<String, Refusal> {
    let now = state.now();
    let session = state
        .session(id)
        .cloned()
        .ok_or_else(|| Refusal::new(None, "No such checkout session"))?;
    if session.status != SessionStatus::Open {
        return Err(Refusal::new(
            None,
            "This checkout session is no longer open",
        ));
    }
    let customer = match &session.customer {
        Some(c) => c.clone(),
        None => create_customer(
            state,
            session.customer_email.clone(),
            None,
            None,
            Metadata::new(),
        ),
    };
    if declined && let Some(c) = state.customer_mut(&customer) {
        c.card_fails = true;
    }
    let first_price = session
        .line_items
        .first()
        .and_then(|(p, _)| state.price(p))
        .cloned()
        .ok_or_else(|| Refusal::new(Some("line_items"), "The session has no price"))?;
    let interval = first_price
        .interval
        .clone()
        .unwrap_or_else(|| "month".into());
    let trial_end = session
        .trial_period_days
        .map(|days| now + i64::from(days) * 86_400);
    let end = trial_end.unwrap_or_else(|| period_end(now, &interval, first_price.interval_count));
    let sub_id = new_id("sub_", 24);
    let items = session
        .line_items
        .iter()
        .map(|(price, quantity)| SubItem {
            id: new_id("si_", 14),
            created: now,
            price: price.clone(),
            quantity: *quantity,
            current_period_start: now,
            current_period_end: end,
        })
        .collect();
    state.subscriptions.push(Subscription {
        id: sub_id.clone(),
        created: now,
        customer: customer.clone(),
        items,
        status: if trial_end.is_some() {
            SubStatus::Trialing
        } else {
            SubStatus::Incomplete
        },
        metadata: session.subscription_metadata.clone(),
        currency: first_price.currency.clone(),
        cancel_at_period_end: false,
        canceled_at: None,
        ended_at: None,
        cancellation_reason: None,
        trial_start: trial_end.map(|_| now),
        trial_end,
        start_date: now,
        billing_cycle_anchor: end,
        latest_invoice: None,
        trial_will_end_sent: false,
        past_due_since: None,
    });
    state.count("subscriptions.created");
    let created = sub_json(state, &sub_id);
    emit(state, "customer.subscription.created", created, None);

    let before = sub_json(state, &sub_id);
    let lines = item_lines(state, &sub_id, trial_end.is_some());
    let invoice = create_invoice(state, &sub_id, "subscription_create", (now, end), lines);
    let paid = attempt_payment(state, &invoice);
    if let Some(sub) = state.subscription_mut(&sub_id) {
        sub.latest_invoice = Some(invoice.clone());
        if paid && sub.status == SubStatus::Incomplete {
            sub.status = SubStatus::Active;
        }
    }
    let after = sub_json(state, &sub_id);
    updated(state, "customer.subscription.updated", &before, after);

    let Some(s) = state.session_mut(id) else {
        return Err(Refusal::new(None, "No such checkout session"));
    };
    s.status = SessionStatus::Complete;
    s.customer = Some(customer);
    s.subscription = Some(sub_id);
    s.invoice = Some(invoice);
    s.payment_status = match (trial_end.is_some(), paid) {
        (true, _) => "no_payment_required",
        (false, true) => "paid",
        (false, false) => "unpaid",
    };
    let redirect = s
        .success_url
        .clone()
        .unwrap_or_default()
        .replace("{CHECKOUT_SESSION_ID}", id);
    let object = state
        .session(id)
        .map(|s| objects::checkout_session(state, s))
        .unwrap_or_default();
    emit(state, "checkout.session.completed", object, None);
    Ok(redirect)
}

/// One line per item of the subscription for its current period (zero
/// during a trial).
pub(super) fn item_lines(state: &State, sub: &str, trial: bool) -> Vec<Line> {
    let Some(sub) = state.subscription(sub) else {
        return Vec::new();
    };
    sub.items
        .iter()
        .map(|item| {
            let price = state.price(&item.price);
            let unit = price.map_or(0, |p| p.unit_amount);
            let name = product_name(state, &item.price);
            let description = if trial {
                format!("Trial period for {name}")
            } else {
                let currency = price.map_or("usd", |p| p.currency.as_str());
                let interval = price.and_then(|p| p.interval.as_deref()).unwrap_or("month");
                format!(
                    "{} × {name} (at {} / {interval})",
                    item.quantity,
                    money(unit, currency)
                )
            };
            Line {
                id: new_id("il_", 24),
                amount: if trial {
                    0
                } else {
                    unit * item.quantity as i64
                },
                description,
                price: item.price.clone(),
                quantity: item.quantity,
                period: (item.current_period_start, item.current_period_end),
                proration: false,
                invoice_item: None,
                subscription_item: Some(item.id.clone()),
            }
        })
        .collect()
}

/// Makes and finalizes an invoice of subscription `sub` with `lines` and
/// its pending invoice items (`invoice.created`, `invoice.finalized`).
pub fn create_invoice(
    state: &mut State,
    sub: &str,
    reason: &'static str,
    period: (i64, i64),
    mut lines: Vec<Line>,
) -> String {
    let now = state.now();
    let id = new_id("in_", 24);
    for ii in state
        .invoice_items
        .iter_mut()
        .filter(|ii| ii.subscription == sub && ii.invoice.is_none())
    {
        ii.invoice = Some(id.clone());
        lines.push(Line {
            id: new_id("il_", 24),
            amount: ii.amount,
            description: ii.description.clone(),
            price: ii.price.clone(),
            quantity: 1,
            period: ii.period,
            proration: true,
            invoice_item: Some(ii.id.clone()),
            subscription_item: Some(ii.subscription_item.clone()),
        });
    }
    let (customer, metadata, currency) = state.subscription(sub).map_or_else(
        || (String::new(), Metadata::new(), "usd".to_owned()),
        |s| (s.customer.clone(), s.metadata.clone(), s.currency.clone()),
    );
    state.invoices.push(Invoice {
        id: id.clone(),
        number: None,
        created: now,
        customer: customer.clone(),
        subscription: Some(sub.to_owned()),
        subscription_metadata: metadata,
        status: InvoiceStatus::Draft,
        billing_reason: reason,
        lines,
        currency,
        period_start: period.0,
        period_end: period.1,
        amount_paid: 0,
        attempt_count: 0,
        finalized_at: None,
        paid_at: None,
        next_payment_attempt: None,
    });
    state.count("invoices.created");
    let draft = invoice_json(state, &id);
    emit(state, "invoice.created", draft, None);
    let number = state.next_invoice_number(&customer);
    if let Some(invoice) = state.invoice_mut(&id) {
        invoice.status = InvoiceStatus::Open;
        invoice.number = number;
        invoice.finalized_at = Some(now);
        invoice.next_payment_attempt = Some(now);
    }
    let open = invoice_json(state, &id);
    emit(state, "invoice.finalized", open, None);
    if let Some(s) = state.subscription_mut(sub) {
        s.latest_invoice = Some(id.clone());
    }
    id
}

/// Days after the first failure when a failed invoice is charged again
/// (Stripe's retry schedule, shortened).
const RETRY_DAYS: [i64; 3] = [3, 5, 7];

/// Charges an open invoice: paid (`invoice.paid`, `invoice.payment_succeeded`)
/// or declined (`invoice.payment_failed`; an active or trialing subscription
/// goes `past_due`). A paid invoice makes its subscription active again.
pub fn attempt_payment(state: &mut State, id: &str) -> bool {
    let now = state.now();
    let Some(invoice) = state.invoice(id).cloned() else {
        return false;
    };
    if invoice.status != InvoiceStatus::Open {
        return invoice.status == InvoiceStatus::Paid;
    }
    let due = invoice.amount_due();
    let fails = due > 0
        && state
            .customer(&invoice.customer)
            .is_some_and(|c| c.card_fails);
    if fails {
        state.count("payments.failed");
        let first_failure = invoice.finalized_at.unwrap_or(now);
        if let Some(i) = state.invoice_mut(id) {
            i.attempt_count += 1;
            i.next_payment_attempt = RETRY_DAYS
                .get(i.attempt_count as usize - 1)
                .map(|d| first_failure + d * 86_400);
        }
        let object = invoice_json(state, id);
        emit(state, "invoice.payment_failed", object, None);
        if let Some(sub) = invoice.subscription.as_deref() {
            let before = sub_json(state, sub);
            if let Some(s) = state.subscription_mut(sub)
                && matches!(s.status, SubStatus::Active | SubStatus::Trialing)
            {
                s.status = SubStatus::PastDue;
                s.past_due_since = Some(now);
            }
            let after = sub_json(state, sub);
            updated(state, "customer.subscription.updated", &before, after);
        }
        return false;
    }
    if due > 0 {
        state.count("payments.succeeded");
    }
    if let Some(i) = state.invoice_mut(id) {
        i.status = InvoiceStatus::Paid;
        i.amount_paid = due;
        i.paid_at = Some(now);
        i.next_payment_attempt = None;
        if due > 0 {
            i.attempt_count += 1;
        }
    }
    let object = invoice_json(state, id);
    emit(state, "invoice.paid", object.clone(), None);
    emit(state, "invoice.payment_succeeded", object, None);
    if let Some(sub) = invoice.subscription.as_deref() {
        let before = sub_json(state, sub);
        if let Some(s) = state.subscription_mut(sub)
            && matches!(s.status, SubStatus::PastDue | SubStatus::Unpaid)
        {
            s.status = SubStatus::Active;
            s.past_due_since = None;
        }
        let after = sub_json(state, sub);
        updated(state, "customer.subscription.updated", &before, after);
    }
    true
}

/// Sets whether `customer`'s card declines; a card that works again pays
/// the customer's open invoices (oldest first), which recovers their
/// subscriptions.
pub fn set_card_fails(state: &mut State, customer: &str, fails: bool) -> Result<(), Refusal> {
    let c = state
        .customer_mut(customer)
        .ok_or_else(|| Refusal::new(Some("customer"), format!("No such customer: '{customer}'")))?;
    c.card_fails = fails;
    if fails {
        return Ok(());
    }
    let open: Vec<String> = state
        .invoices
        .iter()
        .filter(|i| i.customer == customer && i.status == InvoiceStatus::Open)
        .map(|i| i.id.clone())
        .collect();
    for id in open {
        if attempt_payment(state, &id) {
            recover_incomplete(state, &id);
        }
    }
    Ok(())
}

/// An incomplete subscription whose first invoice got paid becomes active.
fn recover_incomplete(state: &mut State, invoice: &str) {
    let Some(sub) = state.invoice(invoice).and_then(|i| i.subscription.clone()) else {
        return;
    };
    let before = sub_json(state, &sub);
    if let Some(s) = state.subscription_mut(&sub)
        && s.status == SubStatus::Incomplete
    {
        s.status = SubStatus::Active;
    }
    let after = sub_json(state, &sub);
    updated(state, "customer.subscription.updated", &before, after);
}
