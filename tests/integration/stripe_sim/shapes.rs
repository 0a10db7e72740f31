//! The objects checked field by field against async-stripe's structs.

use super::*;

/// Every non-null field of `ours` (recursively) is one async-stripe's type
/// keeps: decoded and encoded again, nothing we send is unknown to it.
fn fields_known(ours: &serde_json::Value, typed: &serde_json::Value, path: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    match (ours, typed) {
        (serde_json::Value::Object(ours), serde_json::Value::Object(typed)) => {
            for (key, value) in ours {
                if value.is_null() || key == "object" {
                    continue;
                }
                match typed.get(key) {
                    None => unknown.push(format!("{path}.{key}")),
                    Some(t) => unknown.extend(fields_known(value, t, &format!("{path}.{key}"))),
                }
            }
        }
        (serde_json::Value::Array(ours), serde_json::Value::Array(typed)) => {
            for (n, (o, t)) in ours.iter().zip(typed).enumerate() {
                unknown.extend(fields_known(o, t, &format!("{path}[{n}]")));
            }
        }
        _ => {}
    }
    unknown
}

/// A log writer into a shared buffer.
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes `value` as `T` (serde), checks no enum fell back to `Unknown`
/// and every field we send survives the round trip.
fn check_shape<T>(what: &str, value: &serde_json::Value)
where
    T: serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    // async-stripe decodes an enum value it does not know as `Unknown`,
    // with a warning: the warnings are caught here.
    let warnings = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = warnings.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || Sink(sink.clone()))
        .finish();
    let typed: T = tracing::subscriber::with_default(subscriber, || {
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("{what} does not decode: {e}\n{value:#}"))
    });
    let warnings = String::from_utf8_lossy(&warnings.lock().unwrap()).into_owned();
    assert!(warnings.is_empty(), "{what}: {warnings}");
    let again = serde_json::to_value(&typed).unwrap();
    let unknown = fields_known(value, &again, what);
    assert!(
        unknown.is_empty(),
        "fields async-stripe does not know: {unknown:?}"
    );
}

#[tokio::test]
async fn objects_match_async_stripes_structs_field_by_field() {
    let Setup {
        sim, client, web, ..
    } = setup(true).await;
    let (month, year) = catalogue(&client, "Pro", "pro", 9_900).await;
    let cus = customer(&client, "t-1").await;
    let (open_session, url) = checkout(&client, &cus, &month, Some(5)).await;
    let get = |path: String| {
        let web = web.clone();
        let key = sim.secret_key().to_owned();
        let base = sim.base_url().to_owned();
        async move {
            let response = web
                .get(format!("{base}{path}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    check_shape::<stripe_shared::CheckoutSession>(
        "open checkout session",
        &get(format!("/v1/checkout/sessions/{open_session}")).await,
    );
    pay(&web, &url, "pay").await;
    let session = get(format!(
        "/v1/checkout/sessions/{open_session}?expand[]=line_items"
    ))
    .await;
    check_shape::<stripe_shared::CheckoutSession>("complete checkout session", &session);
    let sub_id = session["subscription"].as_str().unwrap().to_owned();
    sim.advance(6 * DAY);
    let sub = get(format!("/v1/subscriptions/{sub_id}")).await;
    let item = sub["items"]["data"][0]["id"].as_str().unwrap().to_owned();
    UpdateSubscription::new(sub_id.as_str())
        .items(vec![{
            let mut change = UpdateSubscriptionItems::new();
            change.id = Some(item);
            change.price = Some(year.clone());
            change
        }])
        .send(&client)
        .await
        .unwrap();
    let customer_json = get(format!("/v1/customers/{cus}")).await;
    check_shape::<stripe_shared::Customer>("customer", &customer_json);
    // The check itself catches a field or an enum value async-stripe lacks.
    for (field, value) in [("colour", "red"), ("tax_exempt", "sometimes")] {
        let mut bad = customer_json.clone();
        bad[field] = serde_json::json!(value);
        let caught =
            std::panic::catch_unwind(|| check_shape::<stripe_shared::Customer>("bad", &bad));
        assert!(caught.is_err(), "{field} = {value} went unnoticed");
    }
    for p in get("/v1/products".into()).await["data"].as_array().unwrap() {
        check_shape::<stripe_shared::Product>("product", p);
    }
    for p in get("/v1/prices".into()).await["data"].as_array().unwrap() {
        check_shape::<stripe_shared::Price>("price", p);
    }
    check_shape::<stripe_shared::Subscription>(
        "subscription",
        &get(format!("/v1/subscriptions/{sub_id}")).await,
    );
    for i in get(format!("/v1/invoices?subscription={sub_id}")).await["data"]
        .as_array()
        .unwrap()
    {
        check_shape::<stripe_shared::Invoice>("invoice", i);
    }
    let portal = web
        .post(format!("{}/v1/billing_portal/sessions", sim.base_url()))
        .bearer_auth(sim.secret_key())
        .form(&[
            ("customer", cus.as_str()),
            ("return_url", "http://app.test/"),
        ])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    check_shape::<stripe_billing::BillingPortalSession>("billing portal session", &portal);
    for summary in sim.events() {
        let event = sim.event_json(&summary.id).unwrap();
        let object = &event["data"]["object"];
        let what = summary.event_type.as_str();
        match what.split('.').next().unwrap() {
            "customer" if what.starts_with("customer.subscription.") => {
                check_shape::<stripe_shared::Subscription>(what, object);
            }
            "customer" => check_shape::<stripe_shared::Customer>(what, object),
            "invoice" => check_shape::<stripe_shared::Invoice>(what, object),
            "invoiceitem" => check_shape::<stripe_billing::InvoiceItem>(what, object),
            "checkout" => check_shape::<stripe_shared::CheckoutSession>(what, object),
            "product" => check_shape::<stripe_shared::Product>(what, object),
            "price" => check_shape::<stripe_shared::Price>(what, object),
            other => panic!("an event of a kind this test does not check: {other}"),
        }
    }
}
