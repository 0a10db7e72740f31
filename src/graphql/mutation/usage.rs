//! `recordUsage`: batch usage ingest with an API key holding `usage:write`
//! (or a signed-in owner or admin, for the active tenant).

use async_graphql::{Context, Object, Result};

use crate::auth::api_keys::{Environment, KeyScope};
use crate::auth::roles::Role;
use crate::graphql::context::{EventBudget, db, services, session};
use crate::graphql::types::usage::{RecordUsageResult, UsageEventInput};
use crate::usage::ingest::{self, QuotaCheck, Recorder};

/// Usage mutations.
#[derive(Default)]
pub struct UsageMutation;

#[Object]
impl UsageMutation {
    /// Records up to 1,000 usage events; each gets its own result (RECORDED,
    /// DUPLICATE or REFUSED with a code and reason) and a refused one does not
    /// hold back the others (also a malformed `quantity` or `occurredAt`:
    /// see their scalars). RECORDED means committed when this answers. A
    /// test key's usage is kept apart (test mode). More than 1,000 events,
    /// or more than 1,000 across all `recordUsage` fields of one request:
    /// BAD_USER_INPUT for the field (nothing of it recorded).
    async fn record_usage(
        &self,
        ctx: &Context<'_>,
        events: Vec<UsageEventInput>,
    ) -> Result<RecordUsageResult> {
        let who = recorder(ctx).await?;
        if let Some(budget) = ctx.data_opt::<EventBudget>() {
            budget.take(events.len())?;
        }
        let events = events.into_iter().map(UsageEventInput::parse).collect();
        let plan_key = session(ctx).key().map(|call| call.grant.plan_key.as_str());
        let quotas = QuotaCheck {
            usage: &services(ctx).usage,
            plans: &services(ctx).plans,
            plan_key,
        };
        let results =
            ingest::record_each(db(ctx), Some(quotas), who, events, chrono::Utc::now()).await?;
        Ok(RecordUsageResult::new(results))
    }
}

/// The tenant, mode and key the caller records for.
async fn recorder(ctx: &Context<'_>) -> Result<Recorder> {
    let session = session(ctx);
    if let Some(call) = session.key() {
        call.grant.require(KeyScope::UsageWrite)?;
        return Ok(Recorder {
            tenant_id: call.grant.tenant_id,
            environment: call.grant.environment,
            api_key_id: Some(call.grant.key_id),
        });
    }
    let access = session.require_role(db(ctx), Role::Admin).await?;
    Ok(Recorder {
        tenant_id: access.tenant_id,
        environment: Environment::Live,
        api_key_id: None,
    })
}
