//! Billing's tables: a tenant's Stripe customer, its subscription and invoices
//! (mirrors of what Stripe said), the Stripe event queue and the billing jobs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    billing_customers, billing_jobs, invoices, memberships, plans, stripe_events, subscriptions,
    tenants, users,
};

/// A tenant's Stripe customer.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = billing_customers)]
pub struct Customer {
    pub tenant_id: Uuid,
    pub stripe_customer_id: String,
    pub trial_used: bool,
}

/// The tenant's Stripe customer, if it has one.
pub async fn customer(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<Option<Customer>> {
    billing_customers::table
        .find(tenant)
        .select(Customer::as_select())
        .first(conn)
        .await
        .optional()
}

/// Records the tenant's Stripe customer; keeps the first one recorded (a
/// concurrent request made the same customer with the same idempotency key).
pub async fn insert_customer(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    stripe_customer_id: &str,
) -> QueryResult<Customer> {
    diesel::insert_into(billing_customers::table)
        .values((
            billing_customers::tenant_id.eq(tenant),
            billing_customers::stripe_customer_id.eq(stripe_customer_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    billing_customers::table
        .find(tenant)
        .select(Customer::as_select())
        .first(conn)
        .await
}

/// Locks the tenant's billing row, made with `customer` when missing; returns
/// the row (whose customer may be another).
pub async fn lock_customer(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    customer: &str,
) -> QueryResult<Customer> {
    diesel::insert_into(billing_customers::table)
        .values((
            billing_customers::tenant_id.eq(tenant),
            billing_customers::stripe_customer_id.eq(customer),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    billing_customers::table
        .find(tenant)
        .select(Customer::as_select())
        .for_update()
        .first(conn)
        .await
}

/// The tenant whose Stripe customer is `customer` (billing's lookup outside
/// any tenant).
pub async fn tenant_of_customer(
    conn: &mut AsyncPgConnection,
    customer: &str,
) -> QueryResult<Option<Uuid>> {
    billing_customers::table
        .filter(billing_customers::stripe_customer_id.eq(customer))
        .select(billing_customers::tenant_id)
        .first(conn)
        .await
        .optional()
}

/// Notes that the tenant has had its trial.
pub async fn mark_trial_used(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<()> {
    diesel::update(billing_customers::table.find(tenant))
        .set(billing_customers::trial_used.eq(true))
        .execute(conn)
        .await
        .map(drop)
}

/// A subscription as last read from Stripe.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = subscriptions, treat_none_as_null = true)]
pub struct Subscription {
    pub tenant_id: Uuid,
    pub stripe_subscription_id: String,
    pub stripe_customer_id: String,
    pub status: String,
    pub plan_key: Option<String>,
    pub price_id: String,
    pub price_interval: Option<String>,
    pub current_period_start: Option<DateTime<Utc>>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub trial_end: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub stripe_created: DateTime<Utc>,
    /// What it charges each interval (unit amount × quantity), in `currency`.
    pub amount: Option<i64>,
    pub currency: Option<String>,
}

/// The tenant's subscription row, if any.
pub async fn subscription(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> QueryResult<Option<Subscription>> {
    subscriptions::table
        .find(tenant)
        .select(Subscription::as_select())
        .first(conn)
        .await
        .optional()
}

/// The tenant's subscription row, locked for the sync that replaces it.
pub async fn subscription_for_update(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> QueryResult<Option<Subscription>> {
    subscriptions::table
        .find(tenant)
        .select(Subscription::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Stores `sub` as the tenant's subscription (insert or replace).
pub async fn upsert_subscription(
    conn: &mut AsyncPgConnection,
    sub: &Subscription,
) -> QueryResult<()> {
    diesel::insert_into(subscriptions::table)
        .values(sub)
        .on_conflict(subscriptions::tenant_id)
        .do_update()
        .set((sub, subscriptions::synced_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await
        .map(drop)
}

/// An invoice as last read from Stripe.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = invoices, treat_none_as_null = true)]
pub struct Invoice {
    pub stripe_invoice_id: String,
    pub tenant_id: Uuid,
    pub stripe_subscription_id: Option<String>,
    pub number: Option<String>,
    pub status: String,
    pub total: i64,
    pub currency: String,
    pub hosted_invoice_url: Option<String>,
    pub pdf_url: Option<String>,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub stripe_created: DateTime<Utc>,
}

/// Stores `invoice` (insert or replace).
pub async fn upsert_invoice(conn: &mut AsyncPgConnection, invoice: &Invoice) -> QueryResult<()> {
    diesel::insert_into(invoices::table)
        .values(invoice)
        .on_conflict(invoices::stripe_invoice_id)
        .do_update()
        .set((invoice, invoices::synced_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await
        .map(drop)
}

/// A page of the tenant's invoices, newest first, after `(created, id)`:
/// `limit + 1` rows so the caller can tell whether more follow.
pub async fn invoices_page(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> QueryResult<Vec<Invoice>> {
    let mut query = invoices::table
        .filter(invoices::tenant_id.eq(tenant))
        .select(Invoice::as_select())
        .order((
            invoices::stripe_created.desc(),
            invoices::stripe_invoice_id.desc(),
        ))
        .limit(limit + 1)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            invoices::stripe_created.lt(at).or(invoices::stripe_created
                .eq(at)
                .and(invoices::stripe_invoice_id.lt(id))),
        );
    }
    query.load(conn).await
}

/// The plan whose Stripe price is `price_id`, with the interval it is the
/// price of.
pub async fn plan_for_price(
    conn: &mut AsyncPgConnection,
    price_id: &str,
) -> QueryResult<Option<(String, &'static str)>> {
    let found: Option<(String, Option<String>)> = plans::table
        .filter(
            plans::stripe_monthly_price_id
                .eq(price_id)
                .or(plans::stripe_yearly_price_id.eq(price_id)),
        )
        .select((plans::key, plans::stripe_monthly_price_id))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(key, monthly)| {
        let interval = if monthly.as_deref() == Some(price_id) {
            "month"
        } else {
            "year"
        };
        (key, interval)
    }))
}

/// What checkout needs of a plan: its Stripe prices, trial days and whether
/// it is offered.
#[derive(Debug, Clone, Queryable)]
pub struct PlanPrices {
    pub key: String,
    pub name: String,
    pub monthly_price_id: Option<String>,
    pub yearly_price_id: Option<String>,
    pub trial_days: i32,
    pub public: bool,
}

/// The plan `key`'s prices.
pub async fn plan_prices(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> QueryResult<Option<PlanPrices>> {
    plans::table
        .find(key)
        .select((
            plans::key,
            plans::name,
            plans::stripe_monthly_price_id,
            plans::stripe_yearly_price_id,
            plans::trial_days,
            plans::public,
        ))
        .first(conn)
        .await
        .optional()
}

/// Every plan's prices (for `billing sync-prices`).
pub async fn all_plan_prices(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(PlanPrices, i32, i32, String)>> {
    plans::table
        .order(plans::sort_order)
        .select((
            (
                plans::key,
                plans::name,
                plans::stripe_monthly_price_id,
                plans::stripe_yearly_price_id,
                plans::trial_days,
                plans::public,
            ),
            plans::monthly_price_cents,
            plans::yearly_price_cents,
            plans::currency,
        ))
        .load(conn)
        .await
}

/// Records the Stripe prices of a plan (the owner connection: `billing
/// sync-prices`).
pub async fn set_plan_prices(
    conn: &mut AsyncPgConnection,
    key: &str,
    monthly: Option<&str>,
    yearly: Option<&str>,
) -> QueryResult<()> {
    diesel::update(plans::table.find(key))
        .set((
            plans::stripe_monthly_price_id.eq(monthly),
            plans::stripe_yearly_price_id.eq(yearly),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The tenant's plan key and name (for messages).
pub async fn tenant_plan(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> QueryResult<Option<String>> {
    tenants::table
        .find(tenant)
        .select(tenants::plan_key)
        .first(conn)
        .await
        .optional()
}

/// Sets the tenant's plan (the billing role: the plan follows the subscription).
pub async fn set_tenant_plan(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    plan: &str,
) -> QueryResult<()> {
    diesel::update(tenants::table.find(tenant))
        .set(tenants::plan_key.eq(plan))
        .execute(conn)
        .await
        .map(drop)
}

/// The emails of the tenant's owners (and billing members: they pay).
pub async fn billing_contacts(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> QueryResult<Vec<String>> {
    memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant))
        .filter(memberships::role.eq_any(["owner", "billing"]))
        .select(users::email)
        .order(users::email)
        .limit(50)
        .load(conn)
        .await
}

/// A Stripe event to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = stripe_events)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub stripe_created: DateTime<Utc>,
    pub customer_id: Option<&'a str>,
    pub subscription_id: Option<&'a str>,
    pub invoice_id: Option<&'a str>,
}

/// Stores an event once: `false` when its id was already stored (a redelivery).
pub async fn insert_event(conn: &mut AsyncPgConnection, event: &NewEvent<'_>) -> QueryResult<bool> {
    diesel::insert_into(stripe_events::table)
        .values(event)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// A stored event, leased for work.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stripe_events)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub invoice_id: Option<String>,
    pub attempts: i32,
}

/// Leases the oldest due event for `lease` (any instance; a lease that runs
/// out is taken again), counting the attempt.
pub async fn lease_event(
    conn: &mut AsyncPgConnection,
    lease: std::time::Duration,
) -> QueryResult<Option<Event>> {
    let due: Option<String> = stripe_events::table
        .filter(stripe_events::processed_at.is_null())
        .filter(stripe_events::next_attempt_at.le(diesel::dsl::now))
        .filter(
            stripe_events::leased_until
                .is_null()
                .or(stripe_events::leased_until.lt(diesel::dsl::now)),
        )
        .order(stripe_events::next_attempt_at)
        .select(stripe_events::id)
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()?;
    let Some(id) = due else { return Ok(None) };
    let until = Utc::now() + lease;
    diesel::update(stripe_events::table.find(&id))
        .set((
            stripe_events::leased_until.eq(until),
            stripe_events::attempts.eq(stripe_events::attempts + 1),
        ))
        .returning(Event::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Marks an event done.
pub async fn event_done(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<()> {
    diesel::update(stripe_events::table.find(id))
        .set((
            stripe_events::processed_at.eq(diesel::dsl::now),
            stripe_events::leased_until.eq(None::<DateTime<Utc>>),
            stripe_events::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Puts an event back for another attempt at `next`.
pub async fn event_failed(
    conn: &mut AsyncPgConnection,
    id: &str,
    next: DateTime<Utc>,
    error: &str,
) -> QueryResult<()> {
    diesel::update(stripe_events::table.find(id))
        .set((
            stripe_events::next_attempt_at.eq(next),
            stripe_events::leased_until.eq(None::<DateTime<Utc>>),
            stripe_events::last_error.eq(error),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// How many events wait (for `/metrics` and tests).
pub async fn pending_events(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    stripe_events::table
        .filter(stripe_events::processed_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// Takes the lease of job `name` for `lease` when no one holds it.
pub async fn lease_job(
    conn: &mut AsyncPgConnection,
    name: &str,
    lease: std::time::Duration,
) -> QueryResult<bool> {
    let until = Utc::now() + lease;
    diesel::update(
        billing_jobs::table
            .find(name)
            .filter(billing_jobs::leased_until.lt(diesel::dsl::now)),
    )
    .set(billing_jobs::leased_until.eq(until))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Ends job `name`'s lease; `ok` records a successful run.
pub async fn release_job(conn: &mut AsyncPgConnection, name: &str, ok: bool) -> QueryResult<()> {
    let query = diesel::update(billing_jobs::table.find(name));
    if ok {
        // Done: the lease runs to its end (the next pass is due then).
        query
            .set(billing_jobs::last_ok_at.eq(diesel::dsl::now))
            .execute(conn)
            .await
    } else {
        query
            .set(billing_jobs::leased_until.eq(Utc::now()))
            .execute(conn)
            .await
    }
    .map(drop)
}

/// Subscriptions counted by status, plan, interval and currency, with what
/// they charge per interval in all (the platform-admin path: MRR and counts).
pub async fn subscription_counts(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<SubscriptionCount>> {
    subscriptions::table
        .group_by((
            subscriptions::status,
            subscriptions::plan_key,
            subscriptions::price_interval,
            subscriptions::currency,
        ))
        .select((
            subscriptions::status,
            subscriptions::plan_key,
            subscriptions::price_interval,
            subscriptions::currency,
            diesel::dsl::count_star(),
            diesel::dsl::sql::<diesel::sql_types::BigInt>("coalesce(sum(amount), 0)::bigint"),
            diesel::dsl::sql::<diesel::sql_types::BigInt>("count(amount)"),
        ))
        .load(conn)
        .await
}

/// One group of [`subscription_counts`].
#[derive(Debug, Clone, Queryable)]
pub struct SubscriptionCount {
    pub status: String,
    pub plan_key: Option<String>,
    pub interval: Option<String>,
    pub currency: Option<String>,
    pub subscriptions: i64,
    /// What those with a known amount charge per interval.
    pub amount: i64,
    /// How many have a known amount.
    pub with_amount: i64,
}

/// Every plan's monthly and yearly price in cents, and its currency.
pub async fn plan_amounts(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(String, i32, i32, String)>> {
    plans::table
        .select((
            plans::key,
            plans::monthly_price_cents,
            plans::yearly_price_cents,
            plans::currency,
        ))
        .load(conn)
        .await
}

/// Whether the tenant's plan belongs to a Stripe subscription that still
/// exists (a platform admin's `setTenantPlan` is then refused: the plan
/// follows the subscription). Readable on the tenant path and the
/// platform-admin path alike.
pub async fn subscription_owns_plan(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> QueryResult<bool> {
    let status: Option<String> = subscriptions::table
        .find(tenant)
        .select(subscriptions::status)
        .first(conn)
        .await
        .optional()?;
    Ok(status.is_some_and(|s| crate::billing::live(&s)))
}

/// Forgets every plan's Stripe prices (`--demo`: the simulator's are new on
/// each start).
pub async fn clear_plan_prices(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::update(plans::table)
        .set((
            plans::stripe_monthly_price_id.eq(None::<String>),
            plans::stripe_yearly_price_id.eq(None::<String>),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Forgets events worked before `before` (their ids only guard against
/// redeliveries, which Stripe makes for 3 days); returns how many.
pub async fn prune_events(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        stripe_events::table
            .filter(stripe_events::processed_at.is_not_null())
            .filter(stripe_events::processed_at.lt(before)),
    )
    .execute(conn)
    .await
}

/// Whether plan `key` exists.
pub async fn plan_exists(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(plans::table.find(key)))
        .get_result(conn)
        .await
}

/// Gives event `id` up: marked worked, its last error kept.
pub async fn event_given_up(
    conn: &mut AsyncPgConnection,
    id: &str,
    error: &str,
) -> QueryResult<()> {
    diesel::update(stripe_events::table.find(id))
        .set((
            stripe_events::processed_at.eq(diesel::dsl::now),
            stripe_events::leased_until.eq(None::<DateTime<Utc>>),
            stripe_events::attempts.eq(stripe_events::attempts + 1),
            stripe_events::last_error.eq(error),
        ))
        .execute(conn)
        .await
        .map(drop)
}
