//! Changes to a running subscription: a new price (prorated as Stripe
//! prorates), cancelling at the period's end (and taking it back), ending
//! it now.

use chrono::DateTime;

use super::events::{emit, updated};
use super::lifecycle::{
    Refusal, attempt_payment, create_invoice, item_lines, period_end, product_name, sub_json,
};
use super::objects;
use super::state::{InvoiceItem, State, SubStatus, new_id};

/// Moves `item` of subscription `sub` to `price`. Same interval: the
/// difference for the rest of the period becomes two pending proration
/// items on the next invoice (`create_prorations`), or an invoice now
/// (`always_invoice`), or nothing (`none`). Another interval starts a new
/// period now and invoices at once, crediting the unused time. During a
/// trial the price just changes.
pub fn change_price(
    state: &mut State,
    sub: &str,
    item: &str,
    price: &str,
    proration: &str,
) -> Result<(), Refusal> {
    let now = state.now();
    let s = state
        .subscription(sub)
        .cloned()
        .ok_or_else(|| Refusal::new(Some("id"), format!("No such subscription: '{sub}'")))?;
    if s.status.ended() {
        return Err(Refusal::new(
            None,
            "A canceled subscription can only update its cancellation_details and metadata.",
        ));
    }
    let current = s
        .items
        .iter()
        .find(|i| i.id == item)
        .cloned()
        .ok_or_else(|| {
            Refusal::new(
                Some("items[0][id]"),
                format!("No such subscription item: '{item}'"),
            )
        })?;
    let old = state.price(&current.price).cloned();
    let new = state.price(price).cloned().ok_or_else(|| {
        Refusal::new(Some("items[0][price]"), format!("No such price: '{price}'"))
    })?;
    let Some(old) = old else {
        return Err(Refusal::new(None, "the item's price is gone"));
    };
    if new.interval.is_none() {
        return Err(Refusal::new(
            Some("items[0][price]"),
            "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
        ));
    }
    let before = sub_json(state, sub);
    let same_interval = old.interval == new.interval && old.interval_count == new.interval_count;
    let trialing = s.status == SubStatus::Trialing;
    let (start, end) = (current.current_period_start, current.current_period_end);
    let qty = current.quantity as i64;
    let left = (end - now).max(0) as f64 / (end - start).max(1) as f64;
    let credit = -((old.unit_amount * qty) as f64 * left).round() as i64;
    let charge = ((new.unit_amount * qty) as f64 * left).round() as i64;
    let date = DateTime::from_timestamp(now, 0)
        .map(|d| d.format("%-d %b %Y").to_string())
        .unwrap_or_default();
    let old_name = product_name(state, &old.id);
    let new_name = product_name(state, &new.id);
    let new_end = if trialing || same_interval {
        end
    } else {
        period_end(
            now,
            new.interval.as_deref().unwrap_or("month"),
            new.interval_count,
        )
    };
    if let Some(s) = state.subscription_mut(sub)
        && let Some(i) = s.items.iter_mut().find(|i| i.id == item)
    {
        i.price = new.id.clone();
        if !trialing && !same_interval {
            i.current_period_start = now;
            i.current_period_end = new_end;
            s.billing_cycle_anchor = now;
        }
    }
    let after = sub_json(state, sub);
    updated(state, "customer.subscription.updated", &before, after);
    if trialing || proration == "none" && same_interval {
        return Ok(());
    }
    let mut prorations = Vec::new();
    if proration != "none" {
        prorations.push((
            old.id.clone(),
            credit,
            format!("Unused time on {old_name} after {date}"),
        ));
        if same_interval {
            prorations.push((
                new.id.clone(),
                charge,
                format!("Remaining time on {new_name} after {date}"),
            ));
        }
    }
    for (price, amount, description) in prorations {
        let ii = InvoiceItem {
            id: new_id("ii_", 24),
            created: now,
            customer: s.customer.clone(),
            subscription: sub.to_owned(),
            subscription_item: item.to_owned(),
            price,
            amount,
            description,
            period: (now, end),
            invoice: None,
        };
        state.invoice_items.push(ii.clone());
        let object = objects::invoice_item(state, &ii);
        emit(state, "invoiceitem.created", object, None);
    }
    if same_interval && proration != "always_invoice" {
        return Ok(());
    }
    let lines = if same_interval {
        Vec::new()
    } else {
        item_lines(state, sub, false)
            .into_iter()
            .filter(|l| l.subscription_item.as_deref() == Some(item))
            .collect()
    };
    let invoice = create_invoice(state, sub, "subscription_update", (now, new_end), lines);
    attempt_payment(state, &invoice);
    Ok(())
}

/// Sets or clears `cancel_at_period_end`.
pub fn set_cancel_at_period_end(state: &mut State, sub: &str, cancel: bool) -> Result<(), Refusal> {
    let now = state.now();
    let before = sub_json(state, sub);
    let s = state
        .subscription_mut(sub)
        .ok_or_else(|| Refusal::new(Some("id"), format!("No such subscription: '{sub}'")))?;
    if s.status.ended() {
        return Err(Refusal::new(
            None,
            "A canceled subscription can only update its cancellation_details and metadata.",
        ));
    }
    s.cancel_at_period_end = cancel;
    s.canceled_at = cancel.then_some(now);
    s.cancellation_reason = cancel.then_some("cancellation_requested");
    let after = sub_json(state, sub);
    updated(state, "customer.subscription.updated", &before, after);
    Ok(())
}

/// Ends subscription `sub` now (or at `at`, its period's end):
/// `customer.subscription.deleted`.
pub fn end_subscription(state: &mut State, sub: &str, at: i64) -> Result<(), Refusal> {
    let s = state
        .subscription_mut(sub)
        .ok_or_else(|| Refusal::new(Some("id"), format!("No such subscription: '{sub}'")))?;
    if s.status.ended() {
        return Err(Refusal::new(
            None,
            format!("No such subscription: '{sub}' (it has been canceled)"),
        ));
    }
    s.status = SubStatus::Canceled;
    s.canceled_at = Some(s.canceled_at.unwrap_or(at));
    s.ended_at = Some(at);
    s.cancellation_reason = Some("cancellation_requested");
    state.count("subscriptions.canceled");
    let object = sub_json(state, sub);
    emit(state, "customer.subscription.deleted", object, None);
    Ok(())
}
