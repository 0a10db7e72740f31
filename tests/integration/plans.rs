//! The plan catalogue, end to end: the public catalogue (shape, order,
//! private plans hidden, no sign-in), the platform admins' plan mutations
//! (every bad input refused with its code and nothing changed, audit entries
//! with before and after, CONFLICT while a Stripe subscription owns the
//! tenant's plan), and a catalogue change seen by a second instance at once.
//! The limits plans set are in `plan_limits.rs`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenantgate::plans::PlanCatalogue;
use tenantgate::usage::limits::Limiter;

use crate::matrix::no_errors;
use crate::support::{Answer, TestApp};

const PLANS: &str = "{ plans { key name monthlyPrice { amount currency formatted } \
    yearlyPrice { amount currency formatted } limits { members apiCallsPerHour \
    monthlyQuotas { metric limit } } features { customBranding auditRetentionDays ssoReady \
    customDomain } trialDays } }";
pub(crate) const CREATE: &str = "mutation($i: CreatePlanInput!) { createPlan(input: $i) { key name public \
    sortOrder stripeMonthlyPriceId stripeYearlyPriceId monthlyPrice { amount formatted } \
    yearlyPrice { amount } limits { members apiCallsPerHour monthlyQuotas { metric limit } } \
    features { customBranding auditRetentionDays } trialDays } }";
const UPDATE: &str = "mutation($k: String!, $i: UpdatePlanInput!) { updatePlan(key: $k, input: $i) \
    { key name public stripeMonthlyPriceId limits { members } } }";
pub(crate) const SET_PLAN: &str = "mutation($t: ID!, $p: String!) { setTenantPlan(tenantId: $t, planKey: $p) \
    { id planKey plan { key name } } }";
pub(crate) const BRANDING: &str = "mutation($i: UpdateTenantInput!) { updateTenant(input: $i) \
    { name branding { primaryColor } } }";

/// Signs up `email` and makes them a platform admin; returns their token.
pub(crate) async fn platform_admin(app: &TestApp, email: &str) -> String {
    let (token, _, _) = app.sign_up(email, "Staff").await;
    tenantgate::admin::set_platform_admin(&app.db.url, email, true)
        .await
        .unwrap();
    token
}

fn field(a: &Answer) -> &str {
    a.body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("<none>")
}

pub(crate) fn ext(a: &Answer) -> &Value {
    &a.body["errors"][0]["extensions"]
}

/// A fingerprint of the whole catalogue and of the audit trail's plan entries.
async fn catalogue(app: &TestApp) -> String {
    let mut conn = app.db.owner().await;
    crate::matrix::text(
        &mut conn,
        "SELECT md5(concat_ws('|',
            (SELECT string_agg(p::text, ',' ORDER BY p.key) FROM plans p),
            (SELECT count(*)::text FROM audit_log WHERE action LIKE 'plan.%'))) AS s",
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_catalogue_in_order_for_anyone_private_plans_hidden() {
    let app = TestApp::spawn().await;
    let a = app.gql(PLANS, json!({}), None).await;
    assert!(no_errors(&a), "{:?}", a.body);
    let plans = a.body["data"]["plans"].as_array().unwrap();
    let keys: Vec<&str> = plans.iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["free", "basic", "pro", "enterprise"]);
    assert_eq!(
        plans[2],
        json!({
            "key": "pro", "name": "Pro",
            "monthlyPrice": { "amount": 9900, "currency": "usd", "formatted": "$99.00" },
            "yearlyPrice": { "amount": 99000, "currency": "usd", "formatted": "$990.00" },
            "limits": { "members": 100, "apiCallsPerHour": 50000, "monthlyQuotas": [] },
            "features": { "customBranding": true, "auditRetentionDays": 90, "ssoReady": true,
                          "customDomain": true },
            "trialDays": 14,
        })
    );
    assert_eq!(plans[0]["limits"]["members"], 5);
    assert_eq!(plans[0]["monthlyPrice"]["formatted"], "$0.00");
    // Over GET too, without credentials.
    let res = app
        .client
        .get(format!("{}/graphql", app.url))
        .query(&[("query", "{ plans { key } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A private plan is not offered; a tenant on it sees it as its own.
    let admin = platform_admin(&app, "staff@plans.test").await;
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "key": "partner", "name": "Partner", "monthlyPrice": 0,
                           "limits": { "members": 50, "apiCallsPerHour": 5000 },
                           "sortOrder": -1 } }),
            Some(&admin),
        )
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    assert_eq!(a.body["data"]["createPlan"]["public"], false);
    let keys = |a: &Answer| -> Vec<String> {
        a.body["data"]["plans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let a = app.gql("{ plans { key } }", json!({}), None).await;
    assert_eq!(keys(&a), ["free", "basic", "pro", "enterprise"]);
    let (owner, _, tenant) = app.sign_up("owner@partner.test", "Partner Co").await;
    let a = app
        .gql(
            SET_PLAN,
            json!({ "t": tenant, "p": "partner" }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        a.body["data"]["setTenantPlan"]["plan"]["key"], "partner",
        "{:?}",
        a.body
    );
    let a = app
        .gql(
            "{ tenant { planKey plan { key name limits { members } } } }",
            json!({}),
            Some(&owner),
        )
        .await;
    assert_eq!(
        a.body["data"]["tenant"],
        json!({ "planKey": "partner", "plan": { "key": "partner", "name": "Partner",
                "limits": { "members": 50 } } })
    );
    // Published, it is offered, first (its sort order).
    let a = app
        .gql(
            UPDATE,
            json!({ "k": "partner", "i": { "public": true } }),
            Some(&admin),
        )
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    let a = app.gql("{ plans { key } }", json!({}), None).await;
    assert_eq!(keys(&a), ["partner", "free", "basic", "pro", "enterprise"]);
    // The admins' view shows every plan with its Stripe prices.
    let a = app
        .gql(
            "{ admin { plans { key public stripeMonthlyPriceId sortOrder } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        a.body["data"]["admin"]["plans"].as_array().unwrap().len(),
        5,
        "{:?}",
        a.body
    );
    // Nobody else reads it.
    for token in [None, Some(owner.as_str())] {
        let a = app
            .gql("{ admin { plans { key } } }", json!({}), token)
            .await;
        assert!(a.body["data"]["admin"].is_null(), "{:?}", a.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_create_and_update_plans_every_bad_input_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = platform_admin(&app, "staff@catalogue.test").await;
    let (owner, _, _) = app.sign_up("owner@catalogue.test", "Catalogue Co").await;
    let good = json!({
        "key": "team", "name": "Team", "monthlyPrice": 4900, "currency": "EUR",
        "stripeMonthlyPriceId": "price_team_monthly",
        "limits": { "members": 10, "apiCallsPerHour": 20000,
                    "monthlyQuotas": [{ "metric": "api_calls", "limit": 1000000 }] },
        "features": { "customBranding": true, "auditRetentionDays": 60 },
        "trialDays": 7, "public": true, "sortOrder": 5,
    });
    let with = |change: Value| {
        let mut input = good.clone();
        for (k, v) in change.as_object().unwrap() {
            input[k] = v.clone();
        }
        json!({ "i": input })
    };
    let before = catalogue(&app).await;
    for (vars, code, at) in [
        (with(json!({ "key": "Team" })), "BAD_USER_INPUT", "key"),
        (
            with(json!({ "key": "x".repeat(33) })),
            "BAD_USER_INPUT",
            "key",
        ),
        (with(json!({ "name": "  " })), "BAD_USER_INPUT", "name"),
        (
            with(json!({ "name": "n".repeat(65) })),
            "BAD_USER_INPUT",
            "name",
        ),
        (
            with(json!({ "monthlyPrice": -1 })),
            "BAD_USER_INPUT",
            "monthlyPrice",
        ),
        (
            with(json!({ "yearlyPrice": 100_000_001 })),
            "BAD_USER_INPUT",
            "yearlyPrice",
        ),
        (
            with(json!({ "currency": "dollars" })),
            "BAD_USER_INPUT",
            "currency",
        ),
        (
            with(json!({ "stripeMonthlyPriceId": "prod_123" })),
            "BAD_USER_INPUT",
            "stripeMonthlyPriceId",
        ),
        (
            with(json!({ "stripeYearlyPriceId": "price_team_monthly" })),
            "BAD_USER_INPUT",
            "stripeYearlyPriceId",
        ),
        (
            with(json!({ "limits": { "members": 0, "apiCallsPerHour": 1 } })),
            "BAD_USER_INPUT",
            "limits.members",
        ),
        (
            with(json!({ "limits": { "members": 1, "apiCallsPerHour": 1_000_000_001 } })),
            "BAD_USER_INPUT",
            "limits.apiCallsPerHour",
        ),
        (
            with(json!({ "limits": { "members": 1, "apiCallsPerHour": 1,
                                     "monthlyQuotas": [{ "metric": "API Calls", "limit": 1 }] } })),
            "BAD_USER_INPUT",
            "limits.monthlyQuotas[0].metric",
        ),
        (
            with(json!({ "limits": { "members": 1, "apiCallsPerHour": 1,
                                     "monthlyQuotas": [{ "metric": "a", "limit": -1 }] } })),
            "BAD_USER_INPUT",
            "limits.monthlyQuotas[0].limit",
        ),
        (
            with(json!({ "features": { "auditRetentionDays": 3651 } })),
            "BAD_USER_INPUT",
            "features.auditRetentionDays",
        ),
        (
            with(json!({ "trialDays": 731 })),
            "BAD_USER_INPUT",
            "trialDays",
        ),
        (
            with(json!({ "sortOrder": 10_001 })),
            "BAD_USER_INPUT",
            "sortOrder",
        ),
        // A key or a Stripe price another plan has.
        (with(json!({ "key": "pro" })), "CONFLICT", "<none>"),
    ] {
        let a = app.gql(CREATE, vars.clone(), Some(&admin)).await;
        assert_eq!((a.code(), field(&a)), (code, at), "{vars}: {:?}", a.body);
        assert!(a.body["data"]["createPlan"].is_null());
        assert_eq!(
            catalogue(&app).await,
            before,
            "{vars} changed the catalogue"
        );
    }
    // Not a platform admin: refused, nothing changes.
    for (token, code) in [
        (None, "UNAUTHENTICATED"),
        (Some(owner.as_str()), "FORBIDDEN"),
    ] {
        let a = app.gql(CREATE, with(json!({})), token).await;
        assert_eq!(a.code(), code, "{:?}", a.body);
        let a = app
            .gql(
                UPDATE,
                json!({ "k": "free", "i": { "name": "Gratis" } }),
                token,
            )
            .await;
        assert_eq!(a.code(), code, "{:?}", a.body);
    }
    assert_eq!(catalogue(&app).await, before);

    // Created: normalised, defaulted, audited (the platform's trail).
    let a = app.gql(CREATE, with(json!({})), Some(&admin)).await;
    assert!(no_errors(&a), "{:?}", a.body);
    assert_eq!(
        a.body["data"]["createPlan"],
        json!({
            "key": "team", "name": "Team", "public": true, "sortOrder": 5,
            "stripeMonthlyPriceId": "price_team_monthly", "stripeYearlyPriceId": null,
            "monthlyPrice": { "amount": 4900, "formatted": "€49.00" },
            "yearlyPrice": { "amount": 49000 },
            "limits": { "members": 10, "apiCallsPerHour": 20000,
                        "monthlyQuotas": [{ "metric": "api_calls", "limit": 1000000 }] },
            "features": { "customBranding": true, "auditRetentionDays": 60 },
            "trialDays": 7,
        })
    );
    assert_eq!(
        app.db
            .count(
                "SELECT count(*) AS n FROM audit_log WHERE action = 'plan.create' \
                 AND tenant_id IS NULL AND actor_type = 'platform_admin' AND target_id = 'team' \
                 AND before IS NULL AND after->>'maxMembers' = '10' AND after->>'currency' = 'eur'"
            )
            .await,
        1
    );
    // The same key again, or its Stripe price on another plan: CONFLICT.
    let a = app.gql(CREATE, with(json!({})), Some(&admin)).await;
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);
    let a = app
        .gql(
            UPDATE,
            json!({ "k": "basic", "i": { "stripeYearlyPriceId": "price_team_monthly" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);

    // Updates: bad input and unknown plans change nothing.
    let before = catalogue(&app).await;
    for (k, input, code, at) in [
        ("team", json!({}), "BAD_USER_INPUT", "<none>"),
        ("team", json!({ "name": "" }), "BAD_USER_INPUT", "name"),
        (
            "team",
            json!({ "limits": { "members": -3 } }),
            "BAD_USER_INPUT",
            "limits.members",
        ),
        (
            "team",
            json!({ "stripeMonthlyPriceId": "price_" }),
            "BAD_USER_INPUT",
            "stripeMonthlyPriceId",
        ),
        ("Team!", json!({ "name": "x" }), "BAD_USER_INPUT", "key"),
        ("nosuch", json!({ "name": "x" }), "NOT_FOUND", "<none>"),
    ] {
        let a = app
            .gql(UPDATE, json!({ "k": k, "i": input }), Some(&admin))
            .await;
        assert_eq!(
            (a.code(), field(&a)),
            (code, at),
            "{k} {input}: {:?}",
            a.body
        );
        assert_eq!(catalogue(&app).await, before);
    }
    // Only what is given changes; null clears a Stripe price.
    let a = app
        .gql(
            UPDATE,
            json!({ "k": "team", "i": { "name": "Team Plus", "limits": { "members": 12 },
                                        "stripeMonthlyPriceId": null } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        a.body["data"]["updatePlan"],
        json!({ "key": "team", "name": "Team Plus", "public": true, "stripeMonthlyPriceId": null,
                "limits": { "members": 12 } }),
        "{:?}",
        a.body
    );
    assert_eq!(
        app.db
            .count(
                "SELECT count(*) AS n FROM plans WHERE key = 'team' AND api_calls_per_hour = 20000 \
                 AND trial_days = 7 AND monthly_quotas = '{\"api_calls\": 1000000}'::jsonb"
            )
            .await,
        1
    );
    assert_eq!(
        app.db
            .count(
                "SELECT count(*) AS n FROM audit_log WHERE action = 'plan.update' AND target_id = 'team' \
                 AND before->>'name' = 'Team' AND after->>'name' = 'Team Plus' \
                 AND before->>'maxMembers' = '10' AND after->>'maxMembers' = '12' \
                 AND before->>'stripeMonthlyPriceId' = 'price_team_monthly' \
                 AND after->'stripeMonthlyPriceId' = 'null'::jsonb"
            )
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn set_tenant_plan_is_audited_and_refused_while_a_subscription_owns_the_plan() {
    let app = TestApp::spawn().await;
    let admin = platform_admin(&app, "staff@assign.test").await;
    let (owner, _, tenant) = app.sign_up("owner@assign.test", "Assign Co").await;
    let plan_of =
        format!("SELECT count(*) AS n FROM tenants WHERE id = '{tenant}' AND plan_key = 'free'");
    for (t, p, code, at) in [
        (tenant.as_str(), "Pro", "BAD_USER_INPUT", "planKey"),
        (tenant.as_str(), "nosuch", "BAD_USER_INPUT", "planKey"),
        ("not-an-id", "pro", "BAD_USER_INPUT", "tenantId"),
        (
            "00000000-0000-0000-0000-000000000000",
            "pro",
            "NOT_FOUND",
            "<none>",
        ),
        (tenant.as_str(), "free", "CONFLICT", "<none>"),
    ] {
        let a = app
            .gql(SET_PLAN, json!({ "t": t, "p": p }), Some(&admin))
            .await;
        assert_eq!((a.code(), field(&a)), (code, at), "{t} {p}: {:?}", a.body);
        assert_eq!(app.db.count(&plan_of).await, 1);
    }
    for (token, code) in [
        (None, "UNAUTHENTICATED"),
        (Some(owner.as_str()), "FORBIDDEN"),
    ] {
        let a = app
            .gql(SET_PLAN, json!({ "t": tenant, "p": "pro" }), token)
            .await;
        assert_eq!(a.code(), code, "{:?}", a.body);
        assert_eq!(app.db.count(&plan_of).await, 1);
    }
    let audit = format!(
        "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' AND action = 'tenant.plan_change'"
    );
    assert_eq!(app.db.count(&audit).await, 0);

    let a = app
        .gql(SET_PLAN, json!({ "t": tenant, "p": "pro" }), Some(&admin))
        .await;
    assert_eq!(
        a.body["data"]["setTenantPlan"],
        json!({ "id": tenant, "planKey": "pro", "plan": { "key": "pro", "name": "Pro" } }),
        "{:?}",
        a.body
    );
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' \
                 AND action = 'tenant.plan_change' AND actor_type = 'platform_admin' \
                 AND before->>'plan' = 'free' AND after->>'plan' = 'pro'"
            ))
            .await,
        1
    );
    // The tenant sees its new plan at once.
    let a = app
        .gql("{ tenant { plan { key } } }", json!({}), Some(&owner))
        .await;
    assert_eq!(a.body["data"]["tenant"]["plan"]["key"], "pro");

    // A live Stripe subscription owns the plan: CONFLICT, nothing changes.
    app.db
        .count(&format!(
            "WITH s AS (INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, \
             status, plan_key, price_id, stripe_created) VALUES ('{tenant}', 'sub_plans1', 'cus_plans1', \
             'active', 'pro', 'price_pro', now()) RETURNING 1) SELECT count(*) AS n FROM s"
        ))
        .await;
    for status in ["active", "trialing", "past_due", "unpaid"] {
        app.db
            .count(&format!(
                "WITH s AS (UPDATE subscriptions SET status = '{status}' WHERE tenant_id = '{tenant}' \
                 RETURNING 1) SELECT count(*) AS n FROM s"
            ))
            .await;
        let a = app
            .gql(
                SET_PLAN,
                json!({ "t": tenant, "p": "enterprise" }),
                Some(&admin),
            )
            .await;
        assert_eq!(a.code(), "CONFLICT", "{status}: {:?}", a.body);
        assert!(
            a.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("follows its Stripe subscription")
        );
        assert_eq!(app.db.count(&audit).await, 1);
    }
    // An ended subscription owns nothing.
    app.db
        .count(&format!(
            "WITH s AS (UPDATE subscriptions SET status = 'canceled' WHERE tenant_id = '{tenant}' \
             RETURNING 1) SELECT count(*) AS n FROM s"
        ))
        .await;
    let a = app
        .gql(
            SET_PLAN,
            json!({ "t": tenant, "p": "enterprise" }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        a.body["data"]["setTenantPlan"]["planKey"], "enterprise",
        "{:?}",
        a.body
    );
}

/// Polls `check` until it holds or `within` passes.
pub(crate) async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catalogue_change_reaches_another_instance_at_once() {
    let app = TestApp::spawn().await;
    let peer = app.peer(Limiter::local()).await;
    let admin = platform_admin(&app, "staff@peer.test").await;
    // Both instances receive announcements (heartbeats arrive every second).
    assert!(
        eventually(Duration::from_secs(5), async || {
            app.state.plans.is_live() && peer.state.plans.is_live()
        })
        .await
    );
    let basic_name = async |at: &TestApp| -> String {
        let a = at.gql("{ plans { key name } }", json!({}), None).await;
        a.body["data"]["plans"][1]["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(basic_name(&peer).await, "Basic");
    // Cached: reading again does not go to the database.
    let loads = peer.state.plans.loads();
    for _ in 0..5 {
        assert_eq!(basic_name(&peer).await, "Basic");
    }
    assert_eq!(
        peer.state.plans.loads(),
        loads,
        "the peer read the catalogue again"
    );

    let a = app
        .gql(
            UPDATE,
            json!({ "k": "basic", "i": { "name": "Starter" } }),
            Some(&admin),
        )
        .await;
    assert!(no_errors(&a), "{:?}", a.body);
    // This instance at once; the other as soon as the announcement arrives.
    assert_eq!(basic_name(&app).await, "Starter");
    let started = Instant::now();
    assert!(
        eventually(Duration::from_secs(2), async || basic_name(&peer).await
            == "Starter")
        .await,
        "the peer still shows the old name"
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // A change made outside the API (a migration, the owner) is announced too.
    app.db
        .count("WITH v AS (UPDATE plans SET name = 'Basic' WHERE key = 'basic' RETURNING 1) SELECT count(*) AS n FROM v")
        .await;
    assert!(
        eventually(Duration::from_secs(2), async || basic_name(&peer).await
            == "Basic")
        .await
    );

    // Without announcements nothing is cached: every read goes to the
    // database and sees every change.
    let offline = PlanCatalogue::new();
    assert!(!offline.is_live());
    let first = offline.get(&app.state.db).await.unwrap();
    assert_eq!(first.get("basic").unwrap().name, "Basic");
    app.db
        .count("WITH v AS (UPDATE plans SET name = 'Basic II' WHERE key = 'basic' RETURNING 1) SELECT count(*) AS n FROM v")
        .await;
    let second = offline.get(&app.state.db).await.unwrap();
    assert_eq!(second.get("basic").unwrap().name, "Basic II");
    assert_eq!(offline.loads(), 2);
    drop(peer);
}
