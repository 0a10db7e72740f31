//! Plans: the catalogue (prices, Stripe price ids, limits, features), and what
//! a plan's limits are checked against (a tenant's seats, locked).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{invitations, memberships, plans, tenants};

/// A plan row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    pub key: String,
    pub name: String,
    pub monthly_price_cents: i32,
    pub yearly_price_cents: i32,
    pub currency: String,
    pub stripe_monthly_price_id: Option<String>,
    pub stripe_yearly_price_id: Option<String>,
    pub max_members: i32,
    pub api_calls_per_hour: i32,
    /// `{ "<metric>": <limit per month>, … }`
    pub monthly_quotas: serde_json::Value,
    pub custom_branding: bool,
    pub audit_retention_days: i32,
    pub sso_ready: bool,
    pub custom_domain: bool,
    pub trial_days: i32,
    pub public: bool,
    pub sort_order: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every column a platform admin sets, for an insert or a full update.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = plans, treat_none_as_null = true)]
pub struct PlanValues {
    pub key: String,
    pub name: String,
    pub monthly_price_cents: i32,
    pub yearly_price_cents: i32,
    pub currency: String,
    pub stripe_monthly_price_id: Option<String>,
    pub stripe_yearly_price_id: Option<String>,
    pub max_members: i32,
    pub api_calls_per_hour: i32,
    pub monthly_quotas: serde_json::Value,
    pub custom_branding: bool,
    pub audit_retention_days: i32,
    pub sso_ready: bool,
    pub custom_domain: bool,
    pub trial_days: i32,
    pub public: bool,
    pub sort_order: i32,
}

impl From<&PlanRow> for PlanValues {
    fn from(row: &PlanRow) -> Self {
        Self {
            key: row.key.clone(),
            name: row.name.clone(),
            monthly_price_cents: row.monthly_price_cents,
            yearly_price_cents: row.yearly_price_cents,
            currency: row.currency.clone(),
            stripe_monthly_price_id: row.stripe_monthly_price_id.clone(),
            stripe_yearly_price_id: row.stripe_yearly_price_id.clone(),
            max_members: row.max_members,
            api_calls_per_hour: row.api_calls_per_hour,
            monthly_quotas: row.monthly_quotas.clone(),
            custom_branding: row.custom_branding,
            audit_retention_days: row.audit_retention_days,
            sso_ready: row.sso_ready,
            custom_domain: row.custom_domain,
            trial_days: row.trial_days,
            public: row.public,
            sort_order: row.sort_order,
        }
    }
}

/// Every plan, public or not, in catalogue order.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<PlanRow>> {
    plans::table
        .select(PlanRow::as_select())
        .order((plans::sort_order, plans::key))
        .load(conn)
        .await
}

/// The plan `key`, locked until the transaction ends (an edit waits for
/// another edit of the same plan).
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> QueryResult<Option<PlanRow>> {
    plans::table
        .find(key)
        .select(PlanRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Gives plan `key` these monthly quotas when it has none (`--demo`: an
/// admin's quotas, set since, are kept); whether it changed.
pub async fn set_quotas_if_none(
    conn: &mut AsyncPgConnection,
    key: &str,
    quotas: &serde_json::Value,
) -> QueryResult<bool> {
    diesel::update(
        plans::table
            .find(key)
            .filter(plans::monthly_quotas.eq(serde_json::json!({}))),
    )
    .set(plans::monthly_quotas.eq(quotas))
    .execute(conn)
    .await
    .map(|n| n > 0)
}

/// Inserts a plan unless its key is taken; `None` when it is.
pub async fn insert_if_key_free(
    conn: &mut AsyncPgConnection,
    values: &PlanValues,
) -> QueryResult<Option<PlanRow>> {
    diesel::insert_into(plans::table)
        .values(values)
        .on_conflict(plans::key)
        .do_nothing()
        .returning(PlanRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Replaces every column of the plan `values.key`.
pub async fn update(conn: &mut AsyncPgConnection, values: &PlanValues) -> QueryResult<PlanRow> {
    diesel::update(plans::table.find(&values.key))
        .set(values)
        .returning(PlanRow::as_returning())
        .get_result(conn)
        .await
}

/// The key of another plan than `except` that uses `price_id` as its
/// monthly or yearly Stripe price, if any (a price names one plan).
pub async fn price_user(
    conn: &mut AsyncPgConnection,
    price_id: &str,
    except: &str,
) -> QueryResult<Option<String>> {
    plans::table
        .filter(
            plans::stripe_monthly_price_id
                .eq(price_id)
                .or(plans::stripe_yearly_price_id.eq(price_id)),
        )
        .filter(plans::key.ne(except))
        .select(plans::key)
        .first(conn)
        .await
        .optional()
}

/// The tenant's plan key, with the tenant's row locked until the transaction
/// ends (`FOR NO KEY UPDATE`: new memberships and invitations may still
/// reference the row, but two transactions that take this lock run one after
/// the other). Every change that a plan limit counts takes it first, so the
/// count it then reads cannot be overtaken by a concurrent one.
pub async fn lock_tenant_plan(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> QueryResult<String> {
    tenants::table
        .find(tenant_id)
        .select(tenants::plan_key)
        .for_no_key_update()
        .first(conn)
        .await
}

/// The tenant's seats in use: `(members, pending invitations)` (unexpired,
/// neither accepted nor revoked).
pub async fn seats(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> QueryResult<(i64, i64)> {
    let members: i64 = memberships::table
        .filter(memberships::tenant_id.eq(tenant_id))
        .count()
        .get_result(conn)
        .await?;
    let pending: i64 = invitations::table
        .filter(invitations::tenant_id.eq(tenant_id))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(diesel::dsl::now))
        .count()
        .get_result(conn)
        .await?;
    Ok((members, pending))
}
