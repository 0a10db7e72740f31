//! Records rendered as Stripe's objects: each starts from Stripe's published
//! example (`templates.json`, cleaned from `fixtures3.json`) and gets its ids
//! and every field the simulator knows, in the shape of the current API
//! (2026-09-30, as async-stripe 1.0 decodes it): billing periods on the
//! subscription items, an invoice naming its subscription under
//! `parent.subscription_details`, line items priced under `pricing`.

use std::sync::LazyLock;

use serde_json::{Value, json};

use super::state::{
    CheckoutSession, Customer, Invoice, InvoiceItem, Line, PortalSession, Price, Product,
    SessionStatus, State, SubItem, Subscription,
};

static TEMPLATES: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("templates.json")).expect("templates.json is JSON")
});

/// A copy of template `name` with `fields` set over it.
fn from_template(name: &str, fields: Value) -> Value {
    let mut out = TEMPLATES[name].clone();
    if let (Value::Object(out), Value::Object(fields)) = (&mut out, fields) {
        for (k, v) in fields {
            out.insert(k, v);
        }
    }
    out
}

/// A list object (`{"object":"list","data":…}`).
pub fn list(data: Vec<Value>, url: &str, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

pub fn customer(c: &Customer) -> Value {
    from_template(
        "customer",
        json!({
            "id": c.id,
            "created": c.created,
            "description": c.description,
            "email": c.email,
            "name": c.name,
            "metadata": c.metadata,
            "invoice_prefix": c.invoice_prefix,
            "next_invoice_sequence": c.next_invoice_sequence,
            "delinquent": false,
        }),
    )
}

pub fn product(p: &Product) -> Value {
    from_template(
        "product",
        json!({
            "id": p.id,
            "created": p.created,
            "updated": p.updated,
            "name": p.name,
            "description": p.description,
            "active": p.active,
            "metadata": p.metadata,
            "default_price": p.default_price,
        }),
    )
}

pub fn price(p: &Price) -> Value {
    let recurring = p.interval.as_ref().map(|interval| {
        json!({
            "interval": interval,
            "interval_count": p.interval_count,
            "meter": null,
            "usage_type": "licensed",
            "trial_period_days": null,
        })
    });
    from_template(
        "price",
        json!({
            "id": p.id,
            "created": p.created,
            "product": p.product,
            "unit_amount": p.unit_amount,
            "unit_amount_decimal": p.unit_amount.to_string(),
            "currency": p.currency,
            "recurring": recurring,
            "type": if p.interval.is_some() { "recurring" } else { "one_time" },
            "lookup_key": p.lookup_key,
            "nickname": p.nickname,
            "active": p.active,
            "metadata": p.metadata,
        }),
    )
}

/// The legacy `plan` a subscription item still carries, made from its price.
fn plan(p: &Price) -> Value {
    from_template(
        "plan",
        json!({
            "id": p.id,
            "created": p.created,
            "product": p.product,
            "amount": p.unit_amount,
            "amount_decimal": p.unit_amount.to_string(),
            "currency": p.currency,
            "interval": p.interval.as_deref().unwrap_or("month"),
            "interval_count": p.interval_count,
            "nickname": p.nickname,
            "active": p.active,
            "metadata": p.metadata,
        }),
    )
}

pub fn subscription_item(state: &State, sub: &Subscription, item: &SubItem) -> Value {
    let price_obj = state.price(&item.price);
    from_template(
        "subscription_item",
        json!({
            "id": item.id,
            "created": item.created,
            "subscription": sub.id,
            "price": price_obj.map(price),
            "plan": price_obj.map(plan),
            "quantity": item.quantity,
            "current_period_start": item.current_period_start,
            "current_period_end": item.current_period_end,
            "metadata": {},
        }),
    )
}

pub fn subscription(state: &State, s: &Subscription) -> Value {
    let items: Vec<Value> = s
        .items
        .iter()
        .map(|i| subscription_item(state, s, i))
        .collect();
    from_template(
        "subscription",
        json!({
            "id": s.id,
            "created": s.created,
            "customer": s.customer,
            "status": s.status.as_str(),
            "items": list(items, &format!("/v1/subscription_items?subscription={}", s.id), false),
            "metadata": s.metadata,
            "currency": s.currency,
            "cancel_at_period_end": s.cancel_at_period_end,
            "cancel_at": s.cancel_at_period_end.then(|| s.period_end()),
            "canceled_at": s.canceled_at,
            "ended_at": s.ended_at,
            "cancellation_details": {
                "comment": null,
                "feedback": null,
                "reason": s.cancellation_reason,
            },
            "trial_start": s.trial_start,
            "trial_end": s.trial_end,
            "start_date": s.start_date,
            "billing_cycle_anchor": s.billing_cycle_anchor,
            "latest_invoice": s.latest_invoice,
        }),
    )
}

fn line(state: &State, invoice: &Invoice, l: &Line) -> Value {
    let product = state.price(&l.price).map(|p| p.product.clone());
    let parent = match &l.invoice_item {
        Some(ii) => json!({
            "invoice_item_details": {
                "invoice_item": ii,
                "proration": l.proration,
                "proration_details": { "credited_items": null },
                "subscription": invoice.subscription,
            },
            "subscription_item_details": null,
            "type": "invoice_item_details",
        }),
        None => json!({
            "invoice_item_details": null,
            "subscription_item_details": {
                "invoice_item": null,
                "proration": l.proration,
                "proration_details": { "credited_items": null },
                "subscription": invoice.subscription,
                "subscription_item": l.subscription_item,
            },
            "type": "subscription_item_details",
        }),
    };
    let unit = if l.quantity == 0 {
        0
    } else {
        l.amount / l.quantity as i64
    };
    from_template(
        "invoice_line_item",
        json!({
            "id": l.id,
            "invoice": invoice.id,
            "amount": l.amount,
            "subtotal": l.amount,
            "currency": invoice.currency,
            "description": l.description,
            "period": { "start": l.period.0, "end": l.period.1 },
            "quantity": l.quantity,
            "parent": parent,
            "pricing": {
                "price_details": { "price": l.price, "product": product },
                "type": "price_details",
                "unit_amount_decimal": unit.to_string(),
            },
            "metadata": {},
        }),
    )
}

pub fn invoice(state: &State, i: &Invoice) -> Value {
    let lines: Vec<Value> = i.lines.iter().map(|l| line(state, i, l)).collect();
    let customer = state.customer(&i.customer);
    let total = i.total();
    let due = i.amount_due();
    let paid = i.status == super::state::InvoiceStatus::Paid;
    let hosted = (i.status != super::state::InvoiceStatus::Draft)
        .then(|| format!("{}/invoices/{}", state.base_url, i.id));
    let parent = i.subscription.as_ref().map(|sub| {
        json!({
            "quote_details": null,
            "subscription_details": { "metadata": i.subscription_metadata, "subscription": sub },
            "type": "subscription_details",
        })
    });
    from_template(
        "invoice",
        json!({
            "id": i.id,
            "number": i.number,
            "created": i.created,
            "customer": i.customer,
            "customer_email": customer.and_then(|c| c.email.clone()),
            "customer_name": customer.and_then(|c| c.name.clone()),
            "status": i.status.as_str(),
            "billing_reason": i.billing_reason,
            "lines": list(lines, &format!("/v1/invoices/{}/lines", i.id), false),
            "currency": i.currency,
            "period_start": i.period_start,
            "period_end": i.period_end,
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "total": total,
            "total_excluding_tax": total,
            "amount_due": due,
            "amount_paid": i.amount_paid,
            "amount_remaining": if paid { 0 } else { due - i.amount_paid },
            "attempt_count": i.attempt_count,
            "attempted": i.attempt_count > 0,
            "auto_advance": !paid,
            "effective_at": i.finalized_at,
            "next_payment_attempt": i.next_payment_attempt,
            "hosted_invoice_url": hosted,
            "invoice_pdf": null,
            "parent": parent,
            "ending_balance": i.finalized_at.map(|_| 0),
            "status_transitions": {
                "finalized_at": i.finalized_at,
                "marked_uncollectible_at": null,
                "paid_at": i.paid_at,
                "voided_at": null,
            },
            "metadata": {},
            "webhooks_delivered_at": i.finalized_at,
        }),
    )
}

pub fn invoice_item(state: &State, ii: &InvoiceItem) -> Value {
    let product = state.price(&ii.price).map(|p| p.product.clone());
    let currency = state
        .price(&ii.price)
        .map_or("usd".to_owned(), |p| p.currency.clone());
    from_template(
        "invoiceitem",
        json!({
            "id": ii.id,
            "date": ii.created,
            "customer": ii.customer,
            "amount": ii.amount,
            "net_amount": ii.amount,
            "currency": currency,
            "description": ii.description,
            "invoice": ii.invoice,
            "period": { "start": ii.period.0, "end": ii.period.1 },
            "proration": true,
            "quantity": 1,
            "quantity_decimal": "1",
            "parent": {
                "subscription_details": {
                    "subscription": ii.subscription,
                    "subscription_item": ii.subscription_item,
                },
                "type": "subscription_details",
            },
            "pricing": {
                "price_details": { "price": ii.price, "product": product },
                "type": "price_details",
                "unit_amount_decimal": ii.amount.to_string(),
            },
        }),
    )
}

/// The amount a session charges now (0 during a trial).
pub fn session_total(state: &State, s: &CheckoutSession) -> i64 {
    if s.trial_period_days.is_some() {
        return 0;
    }
    s.line_items
        .iter()
        .filter_map(|(p, q)| state.price(p).map(|p| p.unit_amount * *q as i64))
        .sum()
}

pub fn checkout_session(state: &State, s: &CheckoutSession) -> Value {
    let currency = s
        .line_items
        .first()
        .and_then(|(p, _)| state.price(p))
        .map(|p| p.currency.clone());
    let total = session_total(state, s);
    let customer_details = s
        .customer
        .as_ref()
        .and_then(|id| state.customer(id))
        .map(|c| {
            json!({
                "address": null, "email": c.email, "name": c.name, "phone": null,
                "tax_exempt": "none", "tax_ids": [], "business_name": null, "individual_name": null,
            })
        });
    let status = match s.status {
        SessionStatus::Open => "open",
        SessionStatus::Complete => "complete",
        SessionStatus::Expired => "expired",
    };
    from_template(
        "checkout_session",
        json!({
            "id": s.id,
            "created": s.created,
            "expires_at": s.expires_at,
            "customer": s.customer,
            "customer_email": s.customer_email,
            "customer_details": customer_details,
            "success_url": s.success_url,
            "cancel_url": s.cancel_url,
            "client_reference_id": s.client_reference_id,
            "metadata": s.metadata,
            "currency": currency,
            "amount_subtotal": total,
            "amount_total": total,
            "status": status,
            "payment_status": s.payment_status,
            "subscription": s.subscription,
            "invoice": s.invoice,
            "url": (s.status == SessionStatus::Open)
                .then(|| format!("{}/checkout/{}", state.base_url, s.id)),
        }),
    )
}

/// The line items of a session (`GET …/line_items`, `expand[]=line_items`).
pub fn checkout_line_items(state: &State, s: &CheckoutSession) -> Value {
    let data = s
        .line_items
        .iter()
        .enumerate()
        .map(|(n, (p, q))| {
            let price_obj = state.price(p);
            let amount = price_obj.map_or(0, |p| p.unit_amount * *q as i64);
            let description = price_obj
                .and_then(|p| state.product(&p.product))
                .map(|p| p.name.clone());
            from_template(
                "checkout_line_item",
                json!({
                    "id": format!("li_{}{n}", &s.id[s.id.len() - 12..]),
                    "amount_subtotal": amount,
                    "amount_total": amount,
                    "currency": price_obj.map_or("usd".to_owned(), |p| p.currency.clone()),
                    "description": description,
                    "price": price_obj.map(price),
                    "quantity": q,
                }),
            )
        })
        .collect();
    list(
        data,
        &format!("/v1/checkout/sessions/{}/line_items", s.id),
        false,
    )
}

pub fn portal_session(state: &State, s: &PortalSession) -> Value {
    from_template(
        "billing_portal_session",
        json!({
            "id": s.id,
            "created": s.created,
            "customer": s.customer,
            "configuration": s.configuration,
            "return_url": s.return_url,
            "url": format!("{}/portal/{}", state.base_url, s.id),
        }),
    )
}

/// The object with id `id`, whatever its kind (for `expand[]`).
pub fn by_id(state: &State, id: &str) -> Option<Value> {
    let prefix = id.split('_').next().unwrap_or_default();
    match prefix {
        "cus" => state.customer(id).map(customer),
        "prod" => state.product(id).map(product),
        "price" => state.price(id).map(price),
        "sub" => state.subscription(id).map(|s| subscription(state, s)),
        "in" => state.invoice(id).map(|i| invoice(state, i)),
        "cs" => state.session(id).map(|s| checkout_session(state, s)),
        _ => None,
    }
}

/// Expands each dotted path of `paths` in `value` (`latest_invoice`,
/// `data.customer`, `items.data.price.product`): an id found there is
/// replaced by its object. Unknown paths are left as they are.
pub fn expand(state: &State, value: &mut Value, paths: &[String]) {
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        expand_at(state, value, &parts);
    }
}

fn expand_at(state: &State, value: &mut Value, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        if let Value::String(id) = value
            && let Some(object) = by_id(state, id)
        {
            *value = object;
        }
        return;
    };
    match value {
        Value::Array(items) => {
            for item in items {
                expand_at(state, item, parts);
            }
        }
        Value::Object(map) => {
            if *first == "line_items"
                && rest.is_empty()
                && map.get("object") == Some(&json!("checkout.session"))
            {
                if let Some(s) = map
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| state.session(id))
                {
                    let items = checkout_line_items(state, s);
                    map.insert("line_items".into(), items);
                }
                return;
            }
            if let Some(next) = map.get_mut(*first) {
                expand_at(state, next, rest);
            }
        }
        _ => {}
    }
}
