//! Billing end to end through the Stripe simulator: checkout, signed webhooks,
//! the event worker, the plan following the subscription, dunning, trials,
//! cancelling, ordering and duplicates, Stripe outages and the reconcile pass.
//! The server talks to the simulator only through `STRIPE_API_BASE`, with the
//! client it uses for real Stripe.

use std::time::Duration;

use serde_json::{Value, json};
use tenantgate::billing::StripeApi;
use tenantgate::config::BillingConfig;
use tenantgate::stripe_sim::{Outage, SimConfig, SimHandle, StripeSim};

use crate::matrix::{call, join, no_errors, text};
use crate::support::{Answer, TestApp};

const WHSEC: &str = "whsec_billing_tests_secret";
const DAY: Duration = Duration::from_secs(86_400);

pub(crate) const CHECKOUT: &str = "mutation($p: String!, $i: BillingInterval!) { createCheckoutSession(planKey: $p, interval: $i) { id url } }";
pub(crate) const CHANGE: &str = "mutation($p: String!, $i: BillingInterval!) { changePlan(planKey: $p, interval: $i) { status planKey interval } }";
pub(crate) const CANCEL: &str =
    "mutation($e: Boolean!) { cancelSubscription(atPeriodEnd: $e) { status cancelAtPeriodEnd } }";
pub(crate) const RESUME: &str = "mutation { resumeSubscription { status cancelAtPeriodEnd } }";
pub(crate) const PORTAL: &str = "mutation { createBillingPortalSession { url } }";
pub(crate) const BILLING: &str = "{ tenant { planKey billing { configured customerPortalAvailable warning subscription { status planKey interval currentPeriodEnd cancelAtPeriodEnd trialEnd } invoices(first: 20) { nodes { number status total currency hostedInvoiceUrl periodStart periodEnd } } } } }";

/// A server with billing on the simulator, and a tenant's owner.
pub(crate) struct Billed {
    pub app: TestApp,
    pub sim: SimHandle,
    pub owner: String,
    pub tenant: String,
}

pub(crate) fn config(sim: &SimHandle) -> BillingConfig {
    BillingConfig {
        secret_key: sim.secret_key().to_owned(),
        webhook_secrets: vec![WHSEC.to_owned()],
        api_base: Some(sim.base_url().to_owned()),
        timeout: Duration::from_secs(2),
        reconcile_every: Duration::from_secs(3600),
    }
}

impl Billed {
    pub(crate) async fn start(hold_events: bool) -> Self {
        let sim = StripeSim::start(SimConfig {
            hold_events,
            hang_for: Duration::from_secs(3),
            retry_delays: vec![Duration::from_millis(50); 3],
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let cfg = config(&sim);
        let app = TestApp::spawn_tuned(|s| s.billing = Some(cfg.clone())).await;
        sim.add_endpoint(format!("{}/webhooks/stripe", app.url), WHSEC);
        // The plans get their Stripe prices as `billing sync-prices` gives them.
        let mut owner_db = app.db.owner().await;
        let report =
            tenantgate::billing::sync_prices(&StripeApi::new(&cfg).unwrap(), &mut owner_db)
                .await
                .unwrap();
        assert!(report.iter().any(|l| l.contains("created")), "{report:?}");
        let (owner, _, tenant) = app.sign_up("owner@billed.test", "Billed Co").await;
        Self {
            app,
            sim,
            owner,
            tenant,
        }
    }

    pub(crate) async fn gql(&self, query: &str, vars: Value) -> Answer {
        self.app.gql(query, vars, Some(&self.owner)).await
    }

    pub(crate) async fn ok(&self, query: &str, vars: Value) -> Value {
        let a = self.gql(query, vars.clone()).await;
        assert!(no_errors(&a), "{query} {vars}: {:?}", a.body);
        a.body["data"].clone()
    }

    /// Lets delivery finish and the event worker work everything stored.
    pub(crate) async fn settle(&self) -> usize {
        assert!(
            self.sim.settled(Duration::from_secs(10)).await,
            "deliveries did not settle"
        );
        self.app.state.billing.work_events().await.unwrap()
    }

    pub(crate) async fn billing(&self) -> Value {
        self.ok(BILLING, json!({})).await["tenant"].clone()
    }

    pub(crate) async fn plan(&self) -> String {
        self.billing().await["planKey"].as_str().unwrap().to_owned()
    }

    /// Opens Checkout for `plan` and submits the hosted page with `outcome`
    /// (`pay` or `decline`), as a browser would.
    pub(crate) async fn checkout(&self, plan: &str, interval: &str, outcome: &str) {
        let data = self.ok(CHECKOUT, json!({ "p": plan, "i": interval })).await;
        let url = data["createCheckoutSession"]["url"]
            .as_str()
            .unwrap()
            .to_owned();
        pay(&url, outcome).await;
    }

    pub(crate) async fn customer(&self) -> String {
        let mut db = self.app.db.owner().await;
        text(
            &mut db,
            &format!(
                "SELECT stripe_customer_id AS s FROM billing_customers WHERE tenant_id = '{}'",
                self.tenant
            ),
        )
        .await
    }

    pub(crate) async fn count(&self, sql: &str) -> i64 {
        let mut db = self.app.db.owner().await;
        text(&mut db, &format!("SELECT ({sql})::text AS s"))
            .await
            .parse()
            .unwrap()
    }

    /// The Stripe price of `plan` for `interval` (`month` or `year`).
    pub(crate) async fn price_of(&self, plan: &str, interval: &str) -> String {
        let mut db = self.app.db.owner().await;
        text(
            &mut db,
            &format!("SELECT stripe_{interval}ly_price_id AS s FROM plans WHERE key = '{plan}'"),
        )
        .await
    }

    /// Does `action` (`change` with a price, `cancel`, `resume`) in the
    /// simulator's billing portal, as the customer would.
    pub(crate) async fn portal(&self, action: &str, price: Option<&str>) {
        let url = self.ok(PORTAL, json!({})).await["createBillingPortalSession"]["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = http.get(&url).send().await.unwrap().text().await.unwrap();
        let token = page
            .split("name=\"token\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no token on the portal page: {page}"))
            .to_owned();
        let mut db = self.app.db.owner().await;
        let sub = text(
            &mut db,
            &format!(
                "SELECT stripe_subscription_id AS s FROM subscriptions WHERE tenant_id = '{}'",
                self.tenant
            ),
        )
        .await;
        let mut form = vec![("token", token.as_str()), ("subscription", sub.as_str())];
        if let Some(price) = price {
            form.push(("price", price));
        }
        let res = http
            .post(format!("{url}/{action}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_redirection() || res.status().is_success(),
            "portal {action}: {}",
            res.status()
        );
    }

    /// The audit actions of the tenant written by Stripe, oldest first.
    pub(crate) async fn stripe_audit(&self) -> Vec<String> {
        let mut db = self.app.db.owner().await;
        let all = text(
            &mut db,
            &format!(
                "SELECT coalesce(string_agg(action, ',' ORDER BY created_at, id), '') AS s
                 FROM audit_log WHERE tenant_id = '{}' AND actor_type = 'stripe'",
                self.tenant
            ),
        )
        .await;
        all.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Submits a hosted checkout page as a browser would.
pub(crate) async fn pay(url: &str, outcome: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    let token = page
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no token on the checkout page: {page}"))
        .to_owned();
    let res = http
        .post(url)
        .form(&[("token", token.as_str()), ("outcome", outcome)])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_redirection(),
        "paying answered {}",
        res.status()
    );
}

fn code(a: &Answer) -> String {
    a.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_full_upgrade_changes_the_plan_with_stripe_in_the_audit_trail() {
    let b = Billed::start(false).await;
    let before = b.billing().await;
    assert_eq!(before["planKey"], "free");
    assert_eq!(before["billing"]["configured"], true);
    assert_eq!(before["billing"]["subscription"], Value::Null);
    assert_eq!(before["billing"]["customerPortalAvailable"], false);
    // The free plan's five seats: the owner and four invitations; the fifth
    // invitation needs a larger plan.
    let invite =
        "mutation($e: String!) { inviteMember(input: { email: $e, role: MEMBER }) { id } }";
    for n in 0..4 {
        b.ok(invite, json!({ "e": format!("seat{n}@billed.test") }))
            .await;
    }
    let refused = b.gql(invite, json!({ "e": "seat4@billed.test" })).await;
    assert_eq!(code(&refused), "PAYMENT_REQUIRED", "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["extensions"]["plan"], "free");

    // Enterprise has no trial: checkout → active at once.
    b.checkout("enterprise", "MONTH", "pay").await;
    assert!(b.settle().await > 0);
    let after = b.billing().await;
    assert_eq!(after["planKey"], "enterprise", "{after}");
    let sub = &after["billing"]["subscription"];
    assert_eq!(sub["status"], "ACTIVE", "{sub}");
    assert_eq!(sub["planKey"], "enterprise");
    assert_eq!(sub["interval"], "MONTH");
    assert_eq!(sub["cancelAtPeriodEnd"], false);
    assert!(sub["currentPeriodEnd"].is_string());
    assert_eq!(after["billing"]["customerPortalAvailable"], true);
    // The new plan's limits apply at once.
    b.ok(invite, json!({ "e": "seat4@billed.test" })).await;
    let plan = b
        .ok("{ tenant { plan { key limits { members } } billing { subscription { plan { key } } } } }", json!({}))
        .await;
    assert_eq!(plan["tenant"]["plan"]["limits"]["members"], 1000, "{plan}");
    assert_eq!(
        plan["tenant"]["billing"]["subscription"]["plan"]["key"],
        "enterprise"
    );
    let invoices = after["billing"]["invoices"]["nodes"].as_array().unwrap();
    assert!(
        invoices
            .iter()
            .any(|i| i["status"] == "paid" && i["total"] == 29900),
        "{invoices:?}"
    );
    let audit = b.stripe_audit().await;
    assert!(
        audit.contains(&"tenant.plan_change".to_owned()),
        "{audit:?}"
    );
    assert!(
        audit.contains(&"billing.subscription.sync".to_owned()),
        "{audit:?}"
    );

    // One subscription per tenant: a second checkout is a conflict.
    let again = b.gql(CHECKOUT, json!({ "p": "pro", "i": "MONTH" })).await;
    assert_eq!(code(&again), "CONFLICT", "{:?}", again.body);

    // The portal opens for the customer.
    let portal = b.ok(PORTAL, json!({})).await;
    assert!(
        portal["createBillingPortalSession"]["url"]
            .as_str()
            .unwrap()
            .starts_with(b.sim.base_url())
    );
}

#[tokio::test]
async fn plan_changes_up_and_down_are_prorated_and_followed() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    let down = b.ok(CHANGE, json!({ "p": "basic", "i": "YEAR" })).await;
    assert_eq!(down["changePlan"]["planKey"], "basic", "{down}");
    b.settle().await;
    let now = b.billing().await;
    assert_eq!(now["planKey"], "basic");
    assert_eq!(now["billing"]["subscription"]["interval"], "YEAR");
    let up = b.ok(CHANGE, json!({ "p": "pro", "i": "MONTH" })).await;
    assert_eq!(up["changePlan"]["planKey"], "pro");
    b.settle().await;
    assert_eq!(b.plan().await, "pro");
    // Bad input changes nothing.
    for (plan, why) in [
        ("free", "the free plan"),
        ("nope", "no such plan"),
        ("pro", "the same price"),
    ] {
        let a = b.gql(CHANGE, json!({ "p": plan, "i": "MONTH" })).await;
        assert!(!no_errors(&a), "{why}: {:?}", a.body);
        assert!(
            ["BAD_USER_INPUT", "CONFLICT", "NOT_FOUND"].contains(&code(&a).as_str()),
            "{why}: {:?}",
            a.body
        );
    }
    assert_eq!(b.plan().await, "pro");
}

#[tokio::test]
async fn a_trial_becomes_active_and_the_owner_is_told_before_it_ends() {
    let b = Billed::start(false).await;
    b.checkout("pro", "MONTH", "pay").await;
    b.settle().await;
    let now = b.billing().await;
    assert_eq!(now["planKey"], "pro", "a trial gives the plan: {now}");
    assert_eq!(now["billing"]["subscription"]["status"], "TRIALING");
    assert!(now["billing"]["subscription"]["trialEnd"].is_string());
    b.sim.advance(12 * DAY);
    b.settle().await;
    let mail = b.app.mail_bodies("owner@billed.test").await;
    assert!(mail.iter().any(|m| m.contains("trial ends")), "{mail:?}");
    b.sim.advance(3 * DAY);
    b.settle().await;
    let now = b.billing().await;
    assert_eq!(now["billing"]["subscription"]["status"], "ACTIVE", "{now}");
    assert_eq!(now["planKey"], "pro");
    // A trial belongs to its plan: moving to enterprise (no trial) ends it.
    let c = Billed::start(false).await;
    c.checkout("pro", "MONTH", "pay").await;
    c.settle().await;
    let moved = c
        .ok(CHANGE, json!({ "p": "enterprise", "i": "MONTH" }))
        .await;
    assert_eq!(moved["changePlan"]["status"], "ACTIVE", "{moved}");
    c.settle().await;
    let now = c.billing().await;
    let invoices = now["billing"]["invoices"]["nodes"].as_array().unwrap();
    assert!(
        invoices
            .iter()
            .any(|i| i["status"] == "paid" && i["total"] == 29900),
        "{now}"
    );
    // A tenant gets a trial once: after cancelling, a new checkout has none.
    b.ok(CANCEL, json!({ "e": false })).await;
    b.settle().await;
    assert_eq!(b.plan().await, "free");
    b.checkout("pro", "MONTH", "pay").await;
    b.settle().await;
    let again = b.billing().await;
    assert_eq!(
        again["billing"]["subscription"]["status"], "ACTIVE",
        "{again}"
    );
}

#[tokio::test]
async fn a_failed_renewal_goes_past_due_then_unpaid_then_free_and_recovers_on_payment() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    let customer = b.customer().await;
    b.sim.set_card_fails(&customer, true).unwrap();
    b.sim.advance(32 * DAY);
    b.settle().await;
    let now = b.billing().await;
    assert_eq!(
        now["billing"]["subscription"]["status"], "PAST_DUE",
        "{now}"
    );
    assert_eq!(now["planKey"], "enterprise", "past_due keeps the plan");
    assert!(now["billing"]["warning"].is_string(), "{now}");
    let change = b.gql(CHANGE, json!({ "p": "basic", "i": "MONTH" })).await;
    assert_eq!(
        code(&change),
        "CONFLICT",
        "no plan change while a payment is overdue: {:?}",
        change.body
    );
    let mail = b.app.mail_bodies("owner@billed.test").await;
    assert!(
        mail.iter()
            .any(|m| m.contains("payment failed") || m.contains("could not charge")),
        "{mail:?}"
    );
    b.sim.advance(15 * DAY);
    b.settle().await;
    let now = b.billing().await;
    assert_eq!(now["billing"]["subscription"]["status"], "UNPAID", "{now}");
    assert_eq!(now["planKey"], "free", "unpaid is the free plan");
    // The customer fixes the card: the open invoice is paid, the plan is back.
    b.sim.set_card_fails(&customer, false).unwrap();
    b.settle().await;
    let now = b.billing().await;
    assert_eq!(now["billing"]["subscription"]["status"], "ACTIVE", "{now}");
    assert_eq!(now["planKey"], "enterprise");
    assert_eq!(now["billing"]["warning"], Value::Null);
}

#[tokio::test]
async fn cancel_at_period_end_can_be_resumed_and_otherwise_ends_on_free() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    let c = b.ok(CANCEL, json!({ "e": true })).await;
    assert_eq!(c["cancelSubscription"]["cancelAtPeriodEnd"], true, "{c}");
    b.settle().await;
    assert_eq!(b.plan().await, "enterprise", "the period is paid for");
    let r = b.ok(RESUME, json!({})).await;
    assert_eq!(r["resumeSubscription"]["cancelAtPeriodEnd"], false, "{r}");
    b.settle().await;
    b.ok(CANCEL, json!({ "e": true })).await;
    b.settle().await;
    b.sim.advance(32 * DAY);
    b.settle().await;
    let now = b.billing().await;
    assert_eq!(
        now["billing"]["subscription"]["status"], "CANCELED",
        "{now}"
    );
    assert_eq!(now["planKey"], "free");
    // Nothing left to resume.
    let a = b.gql(RESUME, json!({})).await;
    assert_eq!(code(&a), "CONFLICT", "{:?}", a.body);
}

#[tokio::test]
async fn deleting_the_subscription_downgrades_at_once() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "YEAR", "pay").await;
    b.settle().await;
    assert_eq!(b.plan().await, "enterprise");
    b.ok(CANCEL, json!({ "e": false })).await;
    b.settle().await;
    assert_eq!(b.plan().await, "free");
    assert!(
        b.sim
            .events()
            .iter()
            .any(|e| e.event_type == "customer.subscription.deleted")
    );
}

#[tokio::test]
async fn events_out_of_order_or_twice_converge_to_stripes_state() {
    let b = Billed::start(true).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    let held = b.sim.held();
    let kinds: Vec<&str> = held.iter().map(|e| e.event_type.as_str()).collect();
    assert!(
        kinds.contains(&"customer.subscription.created"),
        "{kinds:?}"
    );
    // Newest first (`updated` and `invoice.paid` before `created`), each twice.
    for event in held.iter().rev() {
        b.sim.deliver(&event.id).await.unwrap();
        b.sim.deliver(&event.id).await.unwrap();
    }
    b.settle().await;
    assert_eq!(b.plan().await, "enterprise");
    assert_eq!(
        b.count("SELECT count(*) FROM stripe_events").await,
        held.len() as i64,
        "each event stored once"
    );
    let changes = b
        .stripe_audit()
        .await
        .iter()
        .filter(|a| *a == "tenant.plan_change")
        .count();
    assert_eq!(changes, 1, "one plan change, however many deliveries");

    // Two changes; the older `updated` arrives last and must not move the tenant back.
    b.ok(CHANGE, json!({ "p": "basic", "i": "MONTH" })).await;
    let first = b.sim.held();
    b.ok(CHANGE, json!({ "p": "pro", "i": "MONTH" })).await;
    let second: Vec<_> = b
        .sim
        .held()
        .into_iter()
        .filter(|e| !first.iter().any(|f| f.id == e.id))
        .collect();
    for event in second.iter().chain(first.iter()) {
        b.sim.deliver(&event.id).await.unwrap();
        b.settle().await;
    }
    let now = b.billing().await;
    assert_eq!(now["planKey"], "pro", "{now}");
    assert_eq!(now["billing"]["subscription"]["planKey"], "pro");
}

#[tokio::test]
async fn stripe_down_is_unavailable_and_a_retry_makes_no_second_customer() {
    let b = Billed::start(false).await;
    // Stripe makes the customer but the answer is lost, every attempt.
    b.sim.fail_next(3, Outage::LostResponse);
    let a = b
        .gql(CHECKOUT, json!({ "p": "enterprise", "i": "MONTH" }))
        .await;
    assert_eq!(code(&a), "UNAVAILABLE", "{:?}", a.body);
    assert_eq!(
        b.count(&format!(
            "SELECT count(*) FROM billing_customers WHERE tenant_id = '{}'",
            b.tenant
        ))
        .await,
        0,
        "nothing half-written"
    );
    // Stripe refuses outright.
    b.sim.fail_next(3, Outage::Unavailable);
    let a = b
        .gql(CHECKOUT, json!({ "p": "enterprise", "i": "MONTH" }))
        .await;
    assert_eq!(code(&a), "UNAVAILABLE", "{:?}", a.body);
    // Back: the retry gets the customer Stripe already made.
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    assert_eq!(b.plan().await, "enterprise");
    assert_eq!(b.sim.count("customers.created"), 1, "{:?}", b.sim.counts());

    // Stripe down while an event is worked: the event stays and is worked
    // later. The change is made in the billing portal (at Stripe), so only
    // the worker can bring it here.
    b.portal("change", Some(&b.price_of("basic", "month").await))
        .await;
    assert!(b.sim.settled(Duration::from_secs(10)).await);
    b.sim.fail_next(100, Outage::Unavailable);
    b.app.state.billing.work_events().await.unwrap();
    let pending = b
        .count("SELECT count(*) FROM stripe_events WHERE processed_at IS NULL")
        .await;
    assert!(pending > 0, "a failed event is kept");
    assert_eq!(
        b.plan().await,
        "enterprise",
        "not applied while Stripe is down"
    );
    b.sim.fail_next(0, Outage::Unavailable);
    let mut db = b.app.db.owner().await;
    text(
        &mut db,
        "UPDATE stripe_events SET next_attempt_at = now() RETURNING 'x' AS s",
    )
    .await;
    b.app.state.billing.work_events().await.unwrap();
    assert_eq!(
        b.count("SELECT count(*) FROM stripe_events WHERE processed_at IS NULL")
            .await,
        0
    );
    assert_eq!(b.plan().await, "basic");
}

#[tokio::test]
async fn reconcile_repairs_missed_webhooks() {
    let b = Billed::start(true).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    for event in b.sim.held() {
        assert!(b.sim.drop_event(&event.id));
    }
    b.settle().await;
    assert_eq!(b.plan().await, "free", "no webhook came");
    let report = b.app.state.billing.reconcile().await.unwrap();
    assert_eq!(report.subscriptions, 1, "{report:?}");
    let now = b.billing().await;
    assert_eq!(now["planKey"], "enterprise", "{now}");
    assert!(
        !now["billing"]["invoices"]["nodes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A second pass changes nothing.
    let audit = b.stripe_audit().await.len();
    b.app.state.billing.reconcile().await.unwrap();
    assert_eq!(b.stripe_audit().await.len(), audit);
}

#[tokio::test]
async fn roles_and_other_tenants_cannot_touch_billing() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    let mut db = b.app.db.owner().await;
    let (member, _) = join(&b.app, &mut db, &b.owner, "member@billed.test", "MEMBER").await;
    let (viewer, _) = join(&b.app, &mut db, &b.owner, "viewer@billed.test", "VIEWER").await;
    let (biller, _) = join(&b.app, &mut db, &b.owner, "billing@billed.test", "BILLING").await;
    let (other, _, _) = b.app.sign_up("owner@other.test", "Other Co").await;
    let read = "{ tenant { billing { subscription { status } } } }";
    for (who, token) in [("member", &member), ("viewer", &viewer)] {
        for (q, vars) in [
            (read, json!({})),
            (PORTAL, json!({})),
            (CANCEL, json!({ "e": false })),
            (CHANGE, json!({ "p": "basic", "i": "MONTH" })),
            (CHECKOUT, json!({ "p": "basic", "i": "MONTH" })),
        ] {
            let a = call(&b.app, Some(token), Some(&b.tenant), q, vars).await;
            assert_eq!(code(&a), "FORBIDDEN", "{who} {q}: {:?}", a.body);
        }
    }
    // Another tenant's owner naming this tenant is refused; in its own tenant
    // it sees only its own (empty) billing.
    for (q, vars) in [
        (read, json!({})),
        (CANCEL, json!({ "e": false })),
        (PORTAL, json!({})),
    ] {
        let a = call(&b.app, Some(&other), Some(&b.tenant), q, vars).await;
        assert_eq!(code(&a), "FORBIDDEN", "outsider {q}: {:?}", a.body);
    }
    let own = call(&b.app, Some(&other), None, read, json!({})).await;
    assert_eq!(
        own.body["data"]["tenant"]["billing"]["subscription"],
        Value::Null,
        "{:?}",
        own.body
    );
    let a = call(&b.app, Some(&other), None, PORTAL, json!({})).await;
    assert_eq!(
        code(&a),
        "CONFLICT",
        "no billing account of its own: {:?}",
        a.body
    );
    // The billing role may.
    let a = call(&b.app, Some(&biller), Some(&b.tenant), read, json!({})).await;
    assert_eq!(
        a.body["data"]["tenant"]["billing"]["subscription"]["status"], "ACTIVE",
        "{:?}",
        a.body
    );
    let a = call(
        &b.app,
        Some(&biller),
        Some(&b.tenant),
        CHANGE,
        json!({ "p": "basic", "i": "MONTH" }),
    )
    .await;
    assert!(no_errors(&a), "{:?}", a.body);
    b.settle().await;
    assert_eq!(b.plan().await, "basic");
    // Nothing of it moved for anyone refused.
    assert_eq!(
        b.count("SELECT count(*) FROM billing_customers").await,
        1,
        "only the one customer"
    );
}

#[tokio::test]
async fn without_stripe_billing_mutations_say_so() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = app.sign_up("owner@nobilling.test", "No Billing").await;
    let a = app
        .gql(CHECKOUT, json!({ "p": "pro", "i": "MONTH" }), Some(&owner))
        .await;
    assert_eq!(code(&a), "UNAVAILABLE", "{:?}", a.body);
    let message = a.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("not configured"), "{message}");
    let a = app.gql(BILLING, json!({}), Some(&owner)).await;
    assert!(no_errors(&a), "{:?}", a.body);
    assert_eq!(a.body["data"]["tenant"]["billing"]["configured"], false);
}

#[tokio::test]
async fn keys_with_billing_read_and_platform_admins_read_billing_and_stats_count_revenue() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "YEAR", "pay").await;
    b.settle().await;
    let read = "{ tenant { billing { subscription { status planKey } invoices(first: 5) { nodes { total } } } } }";
    let key = |scopes: &str| {
        format!(
            "mutation {{ createApiKey(input: {{ name: \"k\", scopes: [{scopes}] }}) {{ secret }} }}"
        )
    };
    let with = b.ok(&key("TENANT_READ, BILLING_READ"), json!({})).await["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let without = b.ok(&key("TENANT_READ"), json!({})).await["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = call(&b.app, Some(&with), None, read, json!({})).await;
    assert_eq!(
        a.body["data"]["tenant"]["billing"]["subscription"]["planKey"], "enterprise",
        "{:?}",
        a.body
    );
    let a = call(&b.app, Some(&without), None, read, json!({})).await;
    assert_eq!(code(&a), "FORBIDDEN", "{:?}", a.body);

    // Platform admins read a tenant's billing on their audited path, and the
    // platform's revenue.
    let (staff, _, _) = b.app.sign_up("staff@billed.test", "Staff").await;
    tenantgate::admin::set_platform_admin(&b.app.db.url, "staff@billed.test", true)
        .await
        .unwrap();
    let a = b
        .app
        .gql(
            "query($id: ID!) { admin { tenant(id: $id) { billing { subscription { status } invoices(first: 5) { nodes { total } } } } stats { activeSubscriptions mrr { currency amount } byPlan { planKey activeSubscriptions mrr { amount } } } } }",
            json!({ "id": b.tenant }),
            Some(&staff),
        )
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    let admin = &a.body["data"]["admin"];
    assert_eq!(
        admin["tenant"]["billing"]["subscription"]["status"],
        "ACTIVE"
    );
    assert_eq!(
        admin["tenant"]["billing"]["invoices"]["nodes"][0]["total"],
        299000
    );
    assert_eq!(admin["stats"]["activeSubscriptions"], 1);
    // Enterprise yearly: 2,990.00 a year is 249.16 a month.
    assert_eq!(
        admin["stats"]["mrr"],
        json!([{ "currency": "usd", "amount": 24916 }])
    );
    assert_eq!(
        admin["stats"]["byPlan"],
        json!([{ "planKey": "enterprise", "activeSubscriptions": 1, "mrr": { "amount": 24916 } }])
    );
}

#[tokio::test]
async fn the_periodic_job_reconciles_once_per_period_and_prunes_old_events() {
    let b = Billed::start(true).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    for event in b.sim.held() {
        b.sim.drop_event(&event.id);
    }
    let mut db = b.app.db.owner().await;
    text(
        &mut db,
        "INSERT INTO stripe_events (id, event_type, stripe_created, processed_at)
         VALUES ('evt_old', 'invoice.paid', now() - interval '40 days', now() - interval '31 days'),
                ('evt_recent', 'invoice.paid', now() - interval '2 days', now() - interval '2 days'),
                ('evt_pending', 'invoice.paid', now() - interval '40 days', NULL)
         RETURNING 'x' AS s",
    )
    .await;
    let hour = Duration::from_secs(3600);
    b.app.state.billing.reconcile_if_due(hour).await;
    assert_eq!(b.plan().await, "enterprise", "the job reconciled");
    let left = text(
        &mut db,
        "SELECT string_agg(id, ',' ORDER BY id) AS s FROM stripe_events",
    )
    .await;
    assert_eq!(
        left, "evt_pending,evt_recent",
        "worked events older than 30 days are pruned"
    );
    // Within the period another instance's attempt does nothing.
    text(
        &mut db,
        "INSERT INTO stripe_events (id, event_type, stripe_created, processed_at)
         VALUES ('evt_old_too', 'invoice.paid', now() - interval '40 days', now() - interval '31 days')
         RETURNING 'x' AS s",
    )
    .await;
    b.app.state.billing.reconcile_if_due(hour).await;
    let left = text(
        &mut db,
        "SELECT string_agg(id, ',' ORDER BY id) AS s FROM stripe_events",
    )
    .await;
    assert_eq!(
        left, "evt_old_too,evt_pending,evt_recent",
        "the lease holds until the period ends"
    );
    // Once it is due again, it runs.
    text(
        &mut db,
        "UPDATE billing_jobs SET leased_until = now() - interval '1 second' RETURNING 'x' AS s",
    )
    .await;
    b.app.state.billing.reconcile_if_due(hour).await;
    let left = text(
        &mut db,
        "SELECT string_agg(id, ',' ORDER BY id) AS s FROM stripe_events",
    )
    .await;
    assert_eq!(left, "evt_pending,evt_recent");
}

#[tokio::test]
async fn a_second_checkout_is_refused_while_stripe_has_a_subscription_we_have_not_heard_of() {
    let b = Billed::start(true).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    // The webhooks are held: our row knows nothing yet, Stripe does.
    assert_eq!(b.plan().await, "free");
    let again = b.gql(CHECKOUT, json!({ "p": "basic", "i": "MONTH" })).await;
    assert_eq!(code(&again), "CONFLICT", "{:?}", again.body);
    // Asking Stripe caught us up.
    assert_eq!(b.plan().await, "enterprise");
    assert_eq!(b.sim.count("subscriptions.created"), 1);
    // A double click within minutes gets the same Checkout session.
    let c = Billed::start(false).await;
    let first = c.ok(CHECKOUT, json!({ "p": "pro", "i": "MONTH" })).await;
    let second = c.ok(CHECKOUT, json!({ "p": "pro", "i": "MONTH" })).await;
    assert_eq!(
        first["createCheckoutSession"]["id"], second["createCheckoutSession"]["id"],
        "one session for a double click"
    );
}

#[tokio::test]
async fn a_price_no_plan_lists_fails_closed_unless_its_metadata_names_a_plan() {
    use stripe_product::price::{
        CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, RetrievePrice,
    };
    let b = Billed::start(false).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    let api = StripeApi::new(&config(&b.sim)).unwrap();
    let known = b.price_of("enterprise", "month").await;
    let product = api
        .call(&RetrievePrice::new(known.as_str()), None)
        .await
        .unwrap()
        .product
        .id()
        .as_str()
        .to_owned();
    let make = |metadata: Option<&str>| {
        let mut request = CreatePrice::new(stripe_types::Currency::USD)
            .product(product.clone())
            .unit_amount(100i64)
            .recurring(CreatePriceRecurring::new(
                CreatePriceRecurringInterval::Month,
            ));
        if let Some(plan) = metadata {
            request = request.metadata(std::collections::HashMap::from([(
                "tenantgate_plan".to_owned(),
                plan.to_owned(),
            )]));
        }
        request
    };
    // A $1 price in the dashboard, named for no plan: the free plan, not enterprise.
    let cheap = api.call(&make(None), None).await.unwrap();
    b.portal("change", Some(cheap.id.as_str())).await;
    b.settle().await;
    let now = b.billing().await;
    assert_eq!(now["billing"]["subscription"]["status"], "ACTIVE", "{now}");
    assert_eq!(
        now["planKey"], "free",
        "an unknown price gives no paid plan: {now}"
    );
    // Revenue counts what Stripe charges: $1 a month, not enterprise's price.
    let (staff, _, _) = b.app.sign_up("staff@billed.test", "Staff").await;
    tenantgate::admin::set_platform_admin(&b.app.db.url, "staff@billed.test", true)
        .await
        .unwrap();
    let stats = b
        .app
        .gql(
            "{ admin { stats { activeSubscriptions mrr { currency amount } } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        stats.body["data"]["admin"]["stats"],
        json!({ "activeSubscriptions": 1, "mrr": [{ "currency": "usd", "amount": 100 }] }),
        "{:?}",
        stats.body
    );
    // An old price of a plan (its metadata says which): that plan.
    let legacy = api.call(&make(Some("pro")), None).await.unwrap();
    b.portal("change", Some(legacy.id.as_str())).await;
    b.settle().await;
    assert_eq!(b.plan().await, "pro");
}

#[tokio::test]
async fn one_billing_change_at_a_time_per_tenant() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    // Stripe answers slowly: the first change holds the tenant's turn.
    b.sim.fail_next(1, Outage::Hang);
    let calls: Vec<_> = (0..8)
        .map(|_| b.gql(CANCEL, json!({ "e": true })))
        .collect();
    let answers = futures_util::future::join_all(calls).await;
    let busy = answers
        .iter()
        .filter(|a| {
            code(a) == "CONFLICT"
                && a.body["errors"][0]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("under way")
        })
        .count();
    assert!(
        busy >= 6,
        "concurrent changes were not refused: {:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    let before = b.sim.count("api.requests");
    b.settle().await;
    // Afterwards the tenant may change again.
    let r = b.gql(RESUME, json!({})).await;
    assert!(no_errors(&r) || code(&r) == "CONFLICT", "{:?}", r.body);
    assert!(b.sim.count("api.requests") >= before);
}

#[tokio::test]
async fn a_plan_a_platform_admin_assigns_after_a_subscription_ended_survives_reconcile() {
    let b = Billed::start(false).await;
    b.checkout("enterprise", "MONTH", "pay").await;
    b.settle().await;
    b.ok(CANCEL, json!({ "e": false })).await;
    b.settle().await;
    assert_eq!(b.plan().await, "free");
    let (staff, _, _) = b.app.sign_up("staff@billed.test", "Staff").await;
    tenantgate::admin::set_platform_admin(&b.app.db.url, "staff@billed.test", true)
        .await
        .unwrap();
    let set = b
        .app
        .gql(
            "mutation($t: ID!) { setTenantPlan(tenantId: $t, planKey: \"pro\") { planKey } }",
            json!({ "t": b.tenant }),
            Some(&staff),
        )
        .await;
    assert!(no_errors(&set), "{:?}", set.body);
    b.app.state.billing.reconcile().await.unwrap();
    b.settle().await;
    assert_eq!(
        b.plan().await,
        "pro",
        "an ended subscription does not undo the admin's plan"
    );
    // The admin's read of the tenant's billing is in the tenant's trail.
    let read = b
        .app
        .gql(
            "query($id: ID!) { admin { tenant(id: $id) { billing { subscription { status } } } } }",
            json!({ "id": b.tenant }),
            Some(&staff),
        )
        .await;
    assert_eq!(
        read.body["data"]["admin"]["tenant"]["billing"]["subscription"]["status"], "CANCELED",
        "{:?}",
        read.body
    );
    assert_eq!(
        b.count(&format!(
            "SELECT count(*) FROM audit_log WHERE tenant_id = '{}' AND action = 'admin.tenant.billing.read'",
            b.tenant
        ))
        .await,
        1
    );
}
