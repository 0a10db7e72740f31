//! Platform admins' changes to the plan catalogue (`createPlan`,
//! `updatePlan`) and to a tenant's plan (`setTenantPlan`). Every field is
//! validated before anything is written (BAD_USER_INPUT naming it), each
//! change is audited with its before and after in the transaction that makes
//! it, and the catalogue's trigger announces it to every instance on commit.

use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};
use uuid::Uuid;

use super::plan_draft::{MAX_PRICE_CENTS, PlanDraft, plan_key};
use super::{actor, scope};
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::Verified;
use crate::db::plans::{self as rows, PlanRow, PlanValues};
use crate::db::{self, Db, tenants::Tenant};
use crate::error::{AppError, AppResult};
use crate::tenancy::not_found;
/// What the audit trail records of a plan.
fn summary(plan: &PlanValues) -> Value {
    json!({
        "name": plan.name,
        "monthlyPriceCents": plan.monthly_price_cents,
        "yearlyPriceCents": plan.yearly_price_cents,
        "currency": plan.currency,
        "stripeMonthlyPriceId": plan.stripe_monthly_price_id,
        "stripeYearlyPriceId": plan.stripe_yearly_price_id,
        "maxMembers": plan.max_members,
        "apiCallsPerHour": plan.api_calls_per_hour,
        "monthlyQuotas": plan.monthly_quotas,
        "customBranding": plan.custom_branding,
        "auditRetentionDays": plan.audit_retention_days,
        "ssoReady": plan.sso_ready,
        "customDomain": plan.custom_domain,
        "trialDays": plan.trial_days,
        "public": plan.public,
        "sortOrder": plan.sort_order,
    })
}

/// CONFLICT when a Stripe price of `plan` names another plan too (a price
/// names one plan and one interval), or both of its intervals.
async fn check_prices(
    conn: &mut diesel_async::AsyncPgConnection,
    plan: &PlanValues,
) -> AppResult<()> {
    if plan.stripe_monthly_price_id.is_some()
        && plan.stripe_monthly_price_id == plan.stripe_yearly_price_id
    {
        return Err(AppError::bad_field(
            "stripeYearlyPriceId",
            "the yearly price must differ from the monthly one",
        ));
    }
    for id in [&plan.stripe_monthly_price_id, &plan.stripe_yearly_price_id]
        .into_iter()
        .flatten()
    {
        if let Some(other) = rows::price_user(conn, id, &plan.key).await? {
            return Err(AppError::conflict(format!(
                "the Stripe price {id} already belongs to the plan {other}"
            )));
        }
    }
    Ok(())
}

/// The defaults of a new plan (before its draft is applied).
fn new_plan(key: String, name: String) -> PlanValues {
    PlanValues {
        key,
        name,
        monthly_price_cents: 0,
        yearly_price_cents: 0,
        currency: "usd".into(),
        stripe_monthly_price_id: None,
        stripe_yearly_price_id: None,
        max_members: 1,
        api_calls_per_hour: 1,
        monthly_quotas: json!({}),
        custom_branding: false,
        audit_retention_days: 30,
        sso_ready: false,
        custom_domain: false,
        trial_days: 0,
        public: false,
        sort_order: 0,
    }
}

/// Creates a plan. It needs a key, a name, a monthly price and its member and
/// API call limits; a yearly price not given is ten months' price; it is not
/// offered (`public`) unless asked. CONFLICT when the key or a Stripe price
/// is taken.
pub async fn create_plan(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    key: &str,
    draft: PlanDraft,
) -> AppResult<PlanRow> {
    let key = plan_key("key", key)?;
    let mut draft = draft.validated()?;
    let name = draft
        .name
        .take()
        .ok_or_else(|| AppError::bad_field("name", "a new plan needs a name"))?;
    let monthly = draft
        .monthly_price_cents
        .ok_or_else(|| AppError::bad_field("monthlyPrice", "a new plan needs a monthly price"))?;
    if draft.max_members.is_none() || draft.api_calls_per_hour.is_none() {
        return Err(AppError::bad_field(
            "limits",
            "a new plan needs its members and apiCallsPerHour limits",
        ));
    }
    draft
        .yearly_price_cents
        .get_or_insert((monthly * 10).min(MAX_PRICE_CENTS));
    let values = draft.apply(new_plan(key.clone(), name));
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            check_prices(conn, &values).await?;
            let created = rows::insert_if_key_free(conn, &values)
                .await?
                .ok_or_else(|| AppError::conflict(format!("a plan with the key {key} exists")))?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, actor, "plan.create")
                    .target("plan", &key)
                    .change(None, Some(summary(&values))),
            )
            .await?;
            tracing::info!(plan = %key, "plan created");
            Ok(created)
        }
        .scope_boxed()
    })
    .await
}

/// Changes a plan: only the fields given. What it changes applies to every
/// tenant on it from now on; nothing over a lower limit is deleted.
pub async fn update_plan(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    key: &str,
    draft: PlanDraft,
) -> AppResult<PlanRow> {
    let key = plan_key("key", key)?;
    if draft.is_empty() {
        return Err(AppError::bad_input(
            "nothing to change: give at least one field",
        ));
    }
    let draft = draft.validated()?;
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let before = rows::find_for_update(conn, &key)
                .await?
                .ok_or_else(|| not_found("plan"))?;
            let before = PlanValues::from(&before);
            let after = draft.apply(before.clone());
            check_prices(conn, &after).await?;
            let updated = rows::update(conn, &after).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, actor, "plan.update")
                    .target("plan", &key)
                    .change(Some(summary(&before)), Some(summary(&after))),
            )
            .await?;
            tracing::info!(plan = %key, "plan changed");
            Ok(updated)
        }
        .scope_boxed()
    })
    .await
}

/// Puts a tenant on a plan (public or not). CONFLICT when its plan follows a
/// live Stripe subscription (change it through Stripe then), or when it is
/// on that plan already. A downgrade deletes nothing: members over the new
/// limit stay, new ones are refused.
pub async fn set_tenant_plan(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    tenant_id: Uuid,
    plan_key_input: &str,
) -> AppResult<Tenant> {
    let plan = plan_key("planKey", plan_key_input)?;
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let before = match rows::lock_tenant_plan(conn, tenant_id).await {
                Err(diesel::result::Error::NotFound) => return Err(not_found("tenant")),
                other => other?,
            };
            let catalogue = crate::plans::Catalogue::read(conn).await?;
            let Some(target) = catalogue.get(&plan) else {
                return Err(AppError::bad_field("planKey", format!("no plan has the key {plan}")));
            };
            if db::billing::subscription_owns_plan(conn, tenant_id).await? {
                return Err(AppError::conflict(
                    "the tenant's plan follows its Stripe subscription: change it through \
                     Stripe (changePlan or the billing portal), or cancel the subscription first",
                ));
            }
            if before == plan {
                return Err(AppError::conflict(format!(
                    "the tenant is on the {} plan already",
                    target.name
                )));
            }
            db::tenants::set_plan(conn, tenant_id, &plan).await?;
            let updated = db::tenants::find(conn, tenant_id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant_id), actor, "tenant.plan_change")
                    .target("tenant", tenant_id)
                    .change(Some(json!({ "plan": before })), Some(json!({ "plan": plan }))),
            )
            .await?;
            crate::webhooks::tenant::updated(conn, tenant_id, "plan", json!(plan), json!(before))
                .await?;
            tracing::info!(tenant.id = %tenant_id, from = %before, to = %plan, "tenant plan set by a platform admin");
            Ok(updated)
        }
        .scope_boxed()
    })
    .await
}
