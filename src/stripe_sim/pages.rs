//! The hosted pages, plain server-rendered HTML without scripts: Checkout
//! (`/checkout/<session>`: the plan, price and trial, "Pay" and "Pay with a
//! card that will be declined"), the billing portal (`/portal/<session>`:
//! switch price, cancel at the period's end, resume, use a working card,
//! return) and a hosted invoice (`/invoices/<id>`). Every state change is a
//! POST carrying the session's own token, so no other site can make one and
//! no GET changes anything.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::changes;
use super::lifecycle::{self, money};
use super::state::{InvoiceStatus, SessionStatus, State, SubStatus};
use super::{Shared, clock};

/// Text made safe for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{title} · Stripe simulator</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         button{{font-size:1rem;padding:.5rem 1rem;margin:.25rem 0}}table{{border-collapse:collapse}}\
         td,th{{padding:.25rem .75rem;text-align:left;border-bottom:1px solid #ddd}}\
         .note{{color:#555;font-size:.9rem}}</style></head>\
         <body><main><p class=\"note\">Stripe simulator (test mode): no real money moves.</p>\
         <h1>{title}</h1>{body}</main></body></html>",
        title = esc(title)
    );
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn not_found(what: &str) -> Response {
    let mut response = page("Not found", &format!("<p>No such {}.</p>", esc(what)));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn forbidden() -> Response {
    let mut response = page(
        "Expired form",
        "<p>This form is not valid for this session. Reload the page and try again.</p>",
    );
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

fn token_ok(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// A price as people read it: `$29.00 / month`.
fn price_text(state: &State, price: &str) -> String {
    let Some(p) = state.price(price) else {
        return esc(price);
    };
    let amount = money(p.unit_amount, &p.currency);
    match (&p.interval, p.interval_count) {
        (Some(i), 1) => format!("{amount} / {i}"),
        (Some(i), n) => format!("{amount} every {n} {i}s"),
        (None, _) => amount,
    }
}

fn product_text(state: &State, price: &str) -> String {
    state
        .price(price)
        .and_then(|p| state.product(&p.product))
        .map_or_else(|| esc(price), |p| esc(&p.name))
}

fn date(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%-d %B %Y").to_string())
        .unwrap_or_default()
}

/// `GET /`: what this is.
pub async fn index() -> Response {
    page(
        "Stripe simulator",
        "<p>A test double of Stripe's API for development. Point the server's \
         <code>STRIPE_API_BASE</code> here; checkout and portal sessions link to their \
         pages on this server.</p>",
    )
}

/// `GET /checkout/<session>`.
pub async fn checkout(AxState(shared): AxState<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut state = shared.lock();
    clock::run_due(&mut state);
    let Some(s) = state.session(&id).cloned() else {
        return not_found("checkout session");
    };
    if s.status != SessionStatus::Open {
        let back = s
            .success_url
            .as_deref()
            .map(|u| u.replace("{CHECKOUT_SESSION_ID}", &id))
            .map(|u| format!("<p><a href=\"{}\">Continue</a></p>", esc(&u)))
            .unwrap_or_default();
        return page(
            "Checkout complete",
            &format!("<p>This checkout is complete.</p>{back}"),
        );
    }
    let mut rows = String::new();
    for (price, quantity) in &s.line_items {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{quantity}</td><td>{}</td></tr>",
            product_text(&state, price),
            price_text(&state, price)
        ));
    }
    let trial = s
        .trial_period_days
        .map(|d| format!("<p><strong>{d}-day free trial.</strong> Nothing is charged today; the first payment is due when the trial ends.</p>"))
        .unwrap_or_default();
    let cancel = s
        .cancel_url
        .as_deref()
        .map(|u| format!("<p><a href=\"{}\">Cancel and go back</a></p>", esc(u)))
        .unwrap_or_default();
    let email = s
        .customer
        .as_deref()
        .and_then(|c| state.customer(c))
        .and_then(|c| c.email.clone())
        .map(|e| format!("<p>Customer: {}</p>", esc(&e)))
        .unwrap_or_default();
    let body = format!(
        "{email}<table><thead><tr><th scope=\"col\">Plan</th><th scope=\"col\">Quantity</th>\
         <th scope=\"col\">Price</th></tr></thead><tbody>{rows}</tbody></table>{trial}\
         <form method=\"post\" action=\"/checkout/{id}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <p><button type=\"submit\" name=\"outcome\" value=\"pay\">Pay</button></p>\
         <p><button type=\"submit\" name=\"outcome\" value=\"decline\">Pay with a card that will be declined</button></p>\
         </form>{cancel}",
        id = esc(&id),
        token = esc(&s.page_token),
    );
    page("Subscribe", &body)
}

#[derive(Deserialize)]
pub struct PayForm {
    token: String,
    outcome: String,
}

/// `POST /checkout/<session>`: completes it and redirects to `success_url`.
pub async fn pay(
    AxState(shared): AxState<Arc<Shared>>,
    Path(id): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let result = {
        let mut state = shared.lock();
        clock::run_due(&mut state);
        let Some(s) = state.session(&id) else {
            return not_found("checkout session");
        };
        if !token_ok(&s.page_token, &form.token) {
            return forbidden();
        }
        let declined = match form.outcome.as_str() {
            "pay" => false,
            "decline" => true,
            _ => return forbidden(),
        };
        let result = lifecycle::complete_checkout(&mut state, &id, declined);
        clock::run_due(&mut state);
        result
    };
    shared.wake.notify_one();
    match result {
        Ok(url) if !url.is_empty() => Redirect::to(&url).into_response(),
        Ok(_) => page("Checkout complete", "<p>Payment recorded.</p>"),
        Err(refusal) => {
            let mut response = page("Checkout", &format!("<p>{}</p>", esc(&refusal.message)));
            *response.status_mut() = StatusCode::CONFLICT;
            response
        }
    }
}

/// `GET /portal/<session>`.
pub async fn portal(AxState(shared): AxState<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut state = shared.lock();
    clock::run_due(&mut state);
    let Some(session) = state.portal(&id).cloned() else {
        return not_found("billing portal session");
    };
    let form = |action: &str, fields: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/portal/{id}/{action}\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">{fields}\
             <button type=\"submit\">{label}</button></form>",
            id = esc(&id),
            token = esc(&session.page_token),
        )
    };
    let mut body = String::new();
    let subs: Vec<_> = state
        .subscriptions
        .iter()
        .filter(|s| s.customer == session.customer && !s.status.ended())
        .cloned()
        .collect();
    if subs.is_empty() {
        body.push_str("<p>No current subscription.</p>");
    }
    for sub in &subs {
        let Some(item) = sub.items.first() else {
            continue;
        };
        body.push_str(&format!(
            "<section aria-label=\"Subscription\"><h2>{} — {}</h2><p>Status: {}. ",
            product_text(&state, &item.price),
            price_text(&state, &item.price),
            sub.status.as_str()
        ));
        if sub.cancel_at_period_end {
            body.push_str(&format!("Ends on {}.</p>", date(sub.period_end())));
        } else if sub.status == SubStatus::Trialing {
            body.push_str(&format!("Trial ends on {}.</p>", date(sub.period_end())));
        } else {
            body.push_str(&format!("Renews on {}.</p>", date(sub.period_end())));
        }
        let sub_field = format!(
            "<input type=\"hidden\" name=\"subscription\" value=\"{}\">",
            esc(&sub.id)
        );
        let others: Vec<_> = state
            .prices
            .iter()
            .filter(|p| p.active && p.interval.is_some() && p.id != item.price)
            .map(|p| p.id.clone())
            .collect();
        if !others.is_empty() {
            body.push_str("<h3>Change plan</h3>");
        }
        for price in others {
            let fields = format!(
                "{sub_field}<input type=\"hidden\" name=\"price\" value=\"{}\">",
                esc(&price)
            );
            let label = format!(
                "Switch to {} ({})",
                product_text(&state, &price),
                price_text(&state, &price)
            );
            body.push_str(&form("change", &fields, &label));
        }
        body.push_str("<h3>Cancellation</h3>");
        if sub.cancel_at_period_end {
            body.push_str(&form("resume", &sub_field, "Resume subscription"));
        } else {
            body.push_str(&form(
                "cancel",
                &sub_field,
                "Cancel at the end of the period",
            ));
        }
        body.push_str("</section>");
    }
    let open: Vec<_> = state
        .invoices
        .iter()
        .filter(|i| i.customer == session.customer && i.status == InvoiceStatus::Open)
        .collect();
    let fails = state
        .customer(&session.customer)
        .is_some_and(|c| c.card_fails);
    if fails || !open.is_empty() {
        body.push_str("<h2>Payment method</h2><p>The card on file declines.</p>");
        body.push_str(&form(
            "card",
            "",
            "Use a working card (and pay open invoices)",
        ));
    }
    if let Some(url) = &session.return_url {
        body.push_str(&format!("<p><a href=\"{}\">Return</a></p>", esc(url)));
    }
    page("Billing", &body)
}

#[derive(Deserialize)]
pub struct PortalForm {
    token: String,
    subscription: Option<String>,
    price: Option<String>,
}

/// `POST /portal/<session>/<change|cancel|resume|card>`.
pub async fn portal_action(
    AxState(shared): AxState<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<PortalForm>,
) -> Response {
    let result = {
        let mut state = shared.lock();
        clock::run_due(&mut state);
        let Some(session) = state.portal(&id).cloned() else {
            return not_found("billing portal session");
        };
        if !token_ok(&session.page_token, &form.token) {
            return forbidden();
        }
        // Only the session's customer's subscriptions are reachable.
        let sub = form.subscription.as_deref().and_then(|s| {
            state
                .subscription(s)
                .filter(|s| s.customer == session.customer)
                .cloned()
        });
        let result = match (action.as_str(), sub, form.price.as_deref()) {
            ("change", Some(sub), Some(price)) => match sub.items.first() {
                Some(item) => {
                    let item = item.id.clone();
                    changes::change_price(&mut state, &sub.id, &item, price, "create_prorations")
                }
                None => Err(lifecycle::Refusal::new(None, "subscription without items")),
            },
            ("cancel", Some(sub), _) => {
                changes::set_cancel_at_period_end(&mut state, &sub.id, true)
            }
            ("resume", Some(sub), _) => {
                changes::set_cancel_at_period_end(&mut state, &sub.id, false)
            }
            ("card", _, _) => lifecycle::set_card_fails(&mut state, &session.customer, false),
            _ => return forbidden(),
        };
        clock::run_due(&mut state);
        result
    };
    shared.wake.notify_one();
    match result {
        Ok(()) => Redirect::to(&format!("/portal/{id}")).into_response(),
        Err(refusal) => {
            let mut response = page("Billing", &format!("<p>{}</p>", esc(&refusal.message)));
            *response.status_mut() = StatusCode::CONFLICT;
            response
        }
    }
}

/// `GET /invoices/<id>`: the hosted invoice.
pub async fn invoice(AxState(shared): AxState<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let state = shared.lock();
    let Some(invoice) = state
        .invoice(&id)
        .filter(|i| i.status != InvoiceStatus::Draft)
    else {
        return not_found("invoice");
    };
    let mut rows = String::new();
    for line in &invoice.lines {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&line.description),
            money(line.amount, &invoice.currency)
        ));
    }
    let body = format!(
        "<p>Invoice {} · {} · {}</p><table><thead><tr><th scope=\"col\">Description</th>\
         <th scope=\"col\">Amount</th></tr></thead><tbody>{rows}</tbody></table>\
         <p><strong>Total: {}</strong></p>",
        esc(invoice.number.as_deref().unwrap_or(&invoice.id)),
        invoice.status.as_str(),
        date(invoice.created),
        money(invoice.total(), &invoice.currency)
    );
    page("Invoice", &body)
}
