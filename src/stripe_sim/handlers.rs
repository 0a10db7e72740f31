//! The API's resources: each request read from its form and answered with
//! the object it made, changed or found (`expand[]` applied), or a Stripe
//! error naming the parameter. Lists are newest first, with `limit`
//! (default 10, at most 100), `starting_after` and `ending_before`.

use axum::http::Method;
use serde_json::Value;

use super::api::ApiError;
use super::events;
use super::forms::Form;
use super::objects;
use super::state::{
    CheckoutSession, PortalSession, Price, Product, SessionStatus, State, new_id, new_token,
};
use super::{changes, lifecycle};

type Answer = Result<Value, ApiError>;

/// Routes one request (after authentication and idempotency).
pub fn dispatch(state: &mut State, method: &Method, path: &str, form: &Form) -> Answer {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let value = match (method.as_str(), parts.as_slice()) {
        ("POST", ["v1", "customers"]) => create_customer(state, form),
        ("GET", ["v1", "customers"]) => list_customers(state, form),
        ("GET", ["v1", "customers", id]) if state.deleted_customers.iter().any(|c| c == id) => {
            Ok(deleted_customer(id))
        }
        ("GET", ["v1", "customers", id]) => state
            .customer(id)
            .map(objects::customer)
            .ok_or_else(|| ApiError::no_such("customer", id, "id")),
        ("DELETE", ["v1", "customers", id]) => {
            if lifecycle::delete_customer(state, id) {
                Ok(deleted_customer(id))
            } else {
                Err(ApiError::no_such("customer", id, "id"))
            }
        }
        ("POST", ["v1", "products"]) => create_product(state, form),
        ("GET", ["v1", "products"]) => list_products(state, form),
        ("GET", ["v1", "products", id]) => state
            .product(id)
            .map(objects::product)
            .ok_or_else(|| ApiError::no_such("product", id, "id")),
        ("POST", ["v1", "prices"]) => create_price(state, form),
        ("GET", ["v1", "prices"]) => list_prices(state, form),
        ("GET", ["v1", "prices", id]) => state
            .price(id)
            .map(objects::price)
            .ok_or_else(|| ApiError::no_such("price", id, "price")),
        ("POST", ["v1", "checkout", "sessions"]) => create_checkout(state, form),
        ("GET", ["v1", "checkout", "sessions", id]) => state
            .session(id)
            .map(|s| objects::checkout_session(state, s))
            .ok_or_else(|| ApiError::no_such("checkout.session", id, "session")),
        ("GET", ["v1", "checkout", "sessions", id, "line_items"]) => state
            .session(id)
            .map(|s| objects::checkout_line_items(state, s))
            .ok_or_else(|| ApiError::no_such("checkout.session", id, "session")),
        ("POST", ["v1", "billing_portal", "sessions"]) => create_portal(state, form),
        ("GET", ["v1", "subscriptions"]) => list_subscriptions(state, form),
        ("GET", ["v1", "subscriptions", id]) => subscription(state, id),
        ("POST", ["v1", "subscriptions", id]) => update_subscription(state, id, form),
        ("DELETE", ["v1", "subscriptions", id]) => {
            let now = state.now();
            subscription(state, id)?;
            changes::end_subscription(state, id, now)?;
            subscription(state, id)
        }
        ("GET", ["v1", "invoices"]) => list_invoices(state, form),
        ("GET", ["v1", "invoices", id]) => state
            .invoice(id)
            .map(|i| objects::invoice(state, i))
            .ok_or_else(|| ApiError::no_such("invoice", id, "invoice")),
        ("GET", ["v1", "events"]) => list_events(state, form),
        ("GET", ["v1", "events", id]) => state
            .event(id)
            .map(events::render)
            .ok_or_else(|| ApiError::no_such("event", id, "id")),
        _ => Err(ApiError::unknown_path(method, path)),
    };
    let mut value = value?;
    let expand = form.strings("expand");
    objects::expand(state, &mut value, &expand);
    Ok(value)
}

/// What Stripe answers for a deleted customer.
fn deleted_customer(id: &str) -> Value {
    serde_json::json!({ "id": id, "object": "customer", "deleted": true })
}

/// One page of `items` (newest first) by `limit`, `starting_after`, `ending_before`.
fn page(items: Vec<(String, Value)>, form: &Form, url: &str) -> Answer {
    let limit = form.int("limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            Some("limit"),
            "This value must be greater than or equal to 1 and less than or equal to 100.",
        ));
    }
    let limit = limit as usize;
    let position = |param: &str| -> Result<Option<usize>, ApiError> {
        let Some(id) = form.str(param) else {
            return Ok(None);
        };
        items
            .iter()
            .position(|(i, _)| i == id)
            .map(Some)
            .ok_or_else(|| ApiError::no_such("object", id, param))
    };
    let (from, to) = if let Some(after) = position("starting_after")? {
        (after + 1, (after + 1 + limit).min(items.len()))
    } else if let Some(before) = position("ending_before")? {
        (before.saturating_sub(limit), before)
    } else {
        (0, limit.min(items.len()))
    };
    let has_more = if form.str("ending_before").is_some() {
        from > 0
    } else {
        to < items.len()
    };
    let data = items[from.min(to)..to]
        .iter()
        .map(|(_, v)| v.clone())
        .collect();
    Ok(objects::list(data, url, has_more))
}

/// `created` filters: `created=ts` or `created[gte|gt|lte|lt]=ts`.
fn created_matches(form: &Form, created: i64) -> Result<bool, ApiError> {
    if let Some(exact) = form.int("created")? {
        return Ok(created == exact);
    }
    Ok(form.int("created.gte")?.is_none_or(|t| created >= t)
        && form.int("created.gt")?.is_none_or(|t| created > t)
        && form.int("created.lte")?.is_none_or(|t| created <= t)
        && form.int("created.lt")?.is_none_or(|t| created < t))
}

fn create_customer(state: &mut State, form: &Form) -> Answer {
    let id = lifecycle::create_customer(
        state,
        form.str("email").map(str::to_owned),
        form.str("name").map(str::to_owned),
        form.str("description").map(str::to_owned),
        form.map("metadata").unwrap_or_default(),
    );
    Ok(state
        .customer(&id)
        .map(objects::customer)
        .unwrap_or_default())
}

fn list_customers(state: &State, form: &Form) -> Answer {
    let email = form.str("email");
    let mut items = Vec::new();
    for c in state.customers.iter().rev() {
        if email.is_none_or(|e| c.email.as_deref() == Some(e)) && created_matches(form, c.created)?
        {
            items.push((c.id.clone(), objects::customer(c)));
        }
    }
    page(items, form, "/v1/customers")
}

fn create_product(state: &mut State, form: &Form) -> Answer {
    let name = form.required("name")?.to_owned();
    let id = match form.str("id") {
        Some(id) if state.product(id).is_some() => {
            return Err(ApiError::invalid(
                Some("id"),
                format!("Product already exists: '{id}'"),
            ));
        }
        Some(id) => id.to_owned(),
        None => new_id("prod_", 14),
    };
    let now = state.now();
    let product = Product {
        id: id.clone(),
        created: now,
        updated: now,
        name,
        description: form.str("description").map(str::to_owned),
        active: form.bool("active")?.unwrap_or(true),
        metadata: form.map("metadata").unwrap_or_default(),
        default_price: None,
    };
    state.products.push(product.clone());
    state.count("products.created");
    let object = objects::product(&product);
    events::emit(state, "product.created", object.clone(), None);
    Ok(object)
}

fn list_products(state: &State, form: &Form) -> Answer {
    let active = form.bool("active")?;
    let ids = form.strings("ids");
    let items = state
        .products
        .iter()
        .rev()
        .filter(|p| active.is_none_or(|a| p.active == a))
        .filter(|p| ids.is_empty() || ids.contains(&p.id))
        .map(|p| (p.id.clone(), objects::product(p)))
        .collect();
    page(items, form, "/v1/products")
}

fn create_price(state: &mut State, form: &Form) -> Answer {
    let currency = form.required("currency")?.to_lowercase();
    let product = match (form.str("product"), form.str("product_data.name")) {
        (Some(p), _) => {
            if state.product(p).is_none() {
                return Err(ApiError::no_such("product", p, "product"));
            }
            p.to_owned()
        }
        (None, Some(_)) => {
            let product_form = Form(form.value("product_data").cloned().unwrap_or_default());
            create_product(state, &product_form)?["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
        (None, None) => return Err(ApiError::missing("product")),
    };
    let unit_amount = form
        .int("unit_amount")?
        .ok_or_else(|| ApiError::missing("unit_amount"))?;
    if unit_amount < 0 {
        return Err(ApiError::invalid(
            Some("unit_amount"),
            "Invalid non-negative integer",
        ));
    }
    let interval = form.str("recurring.interval").map(str::to_owned);
    if let Some(i) = &interval
        && !matches!(i.as_str(), "day" | "week" | "month" | "year")
    {
        return Err(ApiError::invalid(
            Some("recurring[interval]"),
            format!(
                "Invalid recurring[interval]: must be one of day, week, month, or year (got {i})"
            ),
        ));
    }
    let interval_count = form.int("recurring.interval_count")?.unwrap_or(1);
    let lookup_key = form.str("lookup_key").map(str::to_owned);
    if let Some(key) = &lookup_key
        && let Some(holder) = state
            .prices
            .iter_mut()
            .find(|p| p.lookup_key.as_deref() == Some(key))
    {
        if form.bool("transfer_lookup_key")? != Some(true) {
            return Err(ApiError::invalid(
                Some("lookup_key"),
                format!(
                    "A price (`{}`) already uses that lookup key. Pass `transfer_lookup_key=true` to move it.",
                    holder.id
                ),
            ));
        }
        holder.lookup_key = None;
    }
    let price = Price {
        id: new_id("price_", 24),
        created: state.now(),
        product: product.clone(),
        unit_amount,
        currency,
        interval,
        interval_count: u32::try_from(interval_count.clamp(1, 365)).unwrap_or(1),
        lookup_key,
        nickname: form.str("nickname").map(str::to_owned),
        active: form.bool("active")?.unwrap_or(true),
        metadata: form.map("metadata").unwrap_or_default(),
    };
    state.prices.push(price.clone());
    state.count("prices.created");
    if let Some(p) = state.products.iter_mut().find(|p| p.id == product)
        && p.default_price.is_none()
    {
        p.default_price = Some(price.id.clone());
    }
    let object = objects::price(&price);
    events::emit(state, "price.created", object.clone(), None);
    Ok(object)
}

fn list_prices(state: &State, form: &Form) -> Answer {
    let active = form.bool("active")?;
    let keys = form.strings("lookup_keys");
    let product = form.str("product");
    let kind = form.str("type");
    let items = state
        .prices
        .iter()
        .rev()
        .filter(|p| active.is_none_or(|a| p.active == a))
        .filter(|p| keys.is_empty() || p.lookup_key.as_ref().is_some_and(|k| keys.contains(k)))
        .filter(|p| product.is_none_or(|id| p.product == id))
        .filter(|p| kind.is_none_or(|k| (k == "recurring") == p.interval.is_some()))
        .map(|p| (p.id.clone(), objects::price(p)))
        .collect();
    page(items, form, "/v1/prices")
}

fn create_checkout(state: &mut State, form: &Form) -> Answer {
    match form.str("mode") {
        Some("subscription") => {}
        Some(other) => {
            return Err(ApiError::invalid(
                Some("mode"),
                format!("The Stripe simulator supports mode=subscription only (got {other})."),
            ));
        }
        None => return Err(ApiError::missing("mode")),
    }
    let customer = form.str("customer").map(str::to_owned);
    if let Some(c) = &customer
        && state.customer(c).is_none()
    {
        return Err(ApiError::no_such("customer", c, "customer"));
    }
    let mut line_items = Vec::new();
    for (n, item) in form.objects("line_items").iter().enumerate() {
        let param = format!("line_items[{n}][price]");
        let price = item.str("price").ok_or_else(|| ApiError::missing(&param))?;
        let Some(p) = state.price(price) else {
            return Err(ApiError::no_such("price", price, &param));
        };
        if p.interval.is_none() {
            return Err(ApiError::invalid(
                Some(&param),
                "You must provide at least one recurring price in `subscription` mode when using prices.",
            ));
        }
        let quantity = item.int("quantity")?.unwrap_or(1);
        if quantity < 1 {
            return Err(ApiError::invalid(
                Some(&format!("line_items[{n}][quantity]")),
                "This value must be greater than or equal to 1.",
            ));
        }
        line_items.push((price.to_owned(), quantity as u64));
    }
    if line_items.is_empty() {
        return Err(ApiError::missing("line_items"));
    }
    let success_url = form.required("success_url")?.to_owned();
    let trial = form.int("subscription_data.trial_period_days")?;
    if trial.is_some_and(|d| !(1..=730).contains(&d)) {
        return Err(ApiError::invalid(
            Some("subscription_data[trial_period_days]"),
            "trial_period_days must be between 1 and 730.",
        ));
    }
    let now = state.now();
    let session = CheckoutSession {
        id: new_id("cs_test_a1", 56),
        created: now,
        expires_at: now + 24 * 3600,
        customer,
        customer_email: form.str("customer_email").map(str::to_owned),
        line_items,
        success_url: Some(success_url),
        cancel_url: form.str("cancel_url").map(str::to_owned),
        client_reference_id: form.str("client_reference_id").map(str::to_owned),
        metadata: form.map("metadata").unwrap_or_default(),
        subscription_metadata: form.map("subscription_data.metadata").unwrap_or_default(),
        trial_period_days: trial.map(|d| d as u32),
        status: SessionStatus::Open,
        payment_status: "unpaid",
        subscription: None,
        invoice: None,
        page_token: new_token(),
    };
    state.checkout_sessions.push(session.clone());
    state.count("checkout_sessions.created");
    Ok(objects::checkout_session(state, &session))
}

fn create_portal(state: &mut State, form: &Form) -> Answer {
    let customer = form.required("customer")?.to_owned();
    if state.customer(&customer).is_none() {
        return Err(ApiError::no_such("customer", &customer, "customer"));
    }
    let session = PortalSession {
        id: new_id("bps_", 24),
        created: state.now(),
        customer,
        return_url: form.str("return_url").map(str::to_owned),
        configuration: "bpc_simulator_default".into(),
        page_token: new_token(),
    };
    state.portal_sessions.push(session.clone());
    state.count("portal_sessions.created");
    Ok(objects::portal_session(state, &session))
}

fn subscription(state: &State, id: &str) -> Answer {
    state
        .subscription(id)
        .map(|s| objects::subscription(state, s))
        .ok_or_else(|| ApiError::no_such("subscription", id, "id"))
}

fn list_subscriptions(state: &State, form: &Form) -> Answer {
    let customer = form.str("customer");
    let price = form.str("price");
    let status = form.str("status");
    let mut items = Vec::new();
    for s in state.subscriptions.iter().rev() {
        let status_ok = match status {
            Some("all") => true,
            Some("ended") => s.status.ended(),
            Some(wanted) => s.status.as_str() == wanted,
            // Stripe's default: every subscription not canceled.
            None => s.status != super::state::SubStatus::Canceled,
        };
        if status_ok
            && customer.is_none_or(|c| s.customer == c)
            && price.is_none_or(|p| s.items.iter().any(|i| i.price == p))
            && created_matches(form, s.created)?
        {
            items.push((s.id.clone(), objects::subscription(state, s)));
        }
    }
    page(items, form, "/v1/subscriptions")
}

fn update_subscription(state: &mut State, id: &str, form: &Form) -> Answer {
    subscription(state, id)?;
    let proration = form
        .str("proration_behavior")
        .unwrap_or("create_prorations");
    if !matches!(proration, "create_prorations" | "none" | "always_invoice") {
        return Err(ApiError::invalid(
            Some("proration_behavior"),
            format!(
                "Invalid proration_behavior: must be one of create_prorations, none, or always_invoice (got {proration})"
            ),
        ));
    }
    for (n, item) in form.objects("items").iter().enumerate() {
        let Some(item_id) = item.str("id") else {
            return Err(ApiError::invalid(
                Some(&format!("items[{n}][id]")),
                "The Stripe simulator changes existing items only: give items[n][id] and items[n][price].",
            ));
        };
        let Some(price) = item.str("price") else {
            continue;
        };
        changes::change_price(state, id, item_id, price, proration)?;
    }
    match form.str("trial_end") {
        None => {}
        // Ends the trial now: the period ends with it, so the clock renews
        // (invoices and charges) at once.
        Some("now") => {
            let now = state.now();
            if let Some(s) = state.subscription_mut(id)
                && s.status == super::state::SubStatus::Trialing
            {
                s.trial_end = Some(now);
                for item in &mut s.items {
                    item.current_period_end = now;
                }
            }
            super::clock::run_due(state);
        }
        Some(other) => {
            return Err(ApiError::invalid(
                Some("trial_end"),
                format!("The Stripe simulator ends trials with trial_end=now only (got {other})."),
            ));
        }
    }
    if let Some(cancel) = form.bool("cancel_at_period_end")? {
        changes::set_cancel_at_period_end(state, id, cancel)?;
    }
    if let Some(metadata) = form.map("metadata") {
        let before = subscription(state, id)?;
        if let Some(s) = state.subscription_mut(id) {
            for (k, v) in metadata {
                if v.as_str() == Some("") {
                    s.metadata.remove(&k);
                } else {
                    s.metadata.insert(k, v);
                }
            }
        }
        let after = subscription(state, id)?;
        events::updated(state, "customer.subscription.updated", &before, after);
    }
    subscription(state, id)
}

fn list_invoices(state: &State, form: &Form) -> Answer {
    let customer = form.str("customer");
    let sub = form.str("subscription");
    let status = form.str("status");
    let mut items = Vec::new();
    for i in state.invoices.iter().rev() {
        if customer.is_none_or(|c| i.customer == c)
            && sub.is_none_or(|s| i.subscription.as_deref() == Some(s))
            && status.is_none_or(|s| i.status.as_str() == s)
            && created_matches(form, i.created)?
        {
            items.push((i.id.clone(), objects::invoice(state, i)));
        }
    }
    page(items, form, "/v1/invoices")
}

fn list_events(state: &State, form: &Form) -> Answer {
    let kind = form.str("type");
    let mut items = Vec::new();
    for e in state.events.iter().rev() {
        let type_ok = kind.is_none_or(|k| match k.strip_suffix('*') {
            Some(prefix) => e.event_type.starts_with(prefix),
            None => e.event_type == k,
        });
        if type_ok && created_matches(form, e.created)? {
            items.push((e.id.clone(), events::render(e)));
        }
    }
    page(items, form, "/v1/events")
}
