//! API keys (create, rotate, update, revoke) and `authorize`, the one-step
//! check a SaaS backend makes with its customer's key on every call.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use uuid::Uuid;

use crate::auth::keys::{self, KeyChanges, NewKey, RateLimitInput as DomainRate};
use crate::error::AppError;
use crate::graphql::context::{db, key_manager as manager, meta, services, session};
use crate::graphql::types::api_key::{
    ApiKey, ApiKeySecret, AuthorizeReason, AuthorizeResult, AuthorizedTenant, KeyEnvironment, Scope,
};
use crate::usage::{AuthorizeInput as DomainAuthorize, Refusal};

/// A rate limit to set.
#[derive(InputObject, Clone, Copy)]
pub struct RateLimitInput {
    /// Calls allowed per period (1 to 1,000,000,000).
    pub limit: i64,
    /// The period in seconds (1 to 86,400).
    pub period_seconds: i64,
}

impl From<RateLimitInput> for DomainRate {
    fn from(r: RateLimitInput) -> Self {
        Self {
            limit: r.limit,
            period_seconds: r.period_seconds,
        }
    }
}

/// What `createApiKey` needs.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// A name to tell it apart (1 to 100 characters).
    pub name: String,
    /// What it may do in this API (none: it can still be checked with `authorize`).
    #[graphql(default)]
    pub scopes: Vec<Scope>,
    /// Live or test (default live).
    #[graphql(default)]
    pub environment: KeyEnvironment,
    /// When it stops working (default: never). Made by an API key: no later
    /// than that key stops working, and by default then.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Its own rate limit (default: the plan's API calls per hour). Made by an
    /// API key: no more calls than that key's limit, and by default its limit.
    pub rate_limit: Option<RateLimitInput>,
}

/// What `updateApiKey` changes (absent: unchanged; `rateLimit: null` returns
/// to the plan's limit).
#[derive(InputObject)]
pub struct UpdateApiKeyInput {
    /// The key.
    pub id: ID,
    /// A new name.
    pub name: Option<String>,
    /// New scopes (replacing the old ones).
    pub scopes: Option<Vec<Scope>>,
    /// A new rate limit, or `null` for the plan's.
    pub rate_limit: MaybeUndefined<RateLimitInput>,
}

/// What `authorize` checks and records.
#[derive(InputObject, Default)]
pub struct AuthorizeInput {
    /// The usage metric to record (e.g. `api_calls`); none: only verify the
    /// key and apply the rate limits.
    pub metric: Option<String>,
    /// How much to record (1 to 1,000,000,000; default 1).
    pub quantity: Option<i64>,
    /// Recording twice with the same key records once (per tenant and mode).
    pub idempotency_key: Option<String>,
}

fn key_id(id: &ID) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| AppError::bad_field("id", "not an API key id").into())
}

/// Drops this instance's cached copy of a key at once after a change commits
/// (the announcement reaches every instance, this one included, moments later).
fn forget(ctx: &Context<'_>, id: Uuid) {
    services(ctx).api_keys.invalidate(&format!("k:{id}"));
}

/// API key mutations.
#[derive(Default)]
pub struct KeysMutation;

#[Object]
impl KeysMutation {
    /// Creates an API key (admins and owners, or a key with `keys:write`, which
    /// cannot exceed its own scopes, environment, rate limit or expiry) and
    /// returns its secret, shown this once.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> Result<ApiKeySecret> {
        let by = manager(ctx).await?;
        let (key, secret) = keys::create(
            db(ctx),
            meta(ctx),
            &by,
            NewKey {
                name: input.name,
                scopes: input.scopes.into_iter().map(Into::into).collect(),
                environment: input.environment.into(),
                expires_at: input.expires_at,
                rate_limit: input.rate_limit.map(Into::into),
            },
        )
        .await?;
        Ok(ApiKeySecret {
            api_key: ApiKey::new(key),
            secret,
        })
    }

    /// Issues a new secret; the old one keeps working for `gracePeriodSeconds`
    /// (default 86,400: a day; 0 ends it now; at most 30 days). A key may
    /// rotate only keys within its own scopes, rate limit and expiry.
    async fn rotate_api_key(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = 86400)] grace_period_seconds: i64,
    ) -> Result<ApiKeySecret> {
        let by = manager(ctx).await?;
        let (key, secret) =
            keys::rotate(db(ctx), meta(ctx), &by, key_id(&id)?, grace_period_seconds).await?;
        forget(ctx, key.id);
        Ok(ApiKeySecret {
            api_key: ApiKey::new(key),
            secret,
        })
    }

    /// Revokes a key: refused at once on every instance.
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> Result<ApiKey> {
        let by = manager(ctx).await?;
        let key = keys::revoke(db(ctx), meta(ctx), &by, key_id(&id)?).await?;
        forget(ctx, key.id);
        Ok(ApiKey::new(key))
    }

    /// Changes a key's name, scopes or rate limit (takes effect at once on
    /// every instance). A key may change only keys within its own scopes, rate
    /// limit and expiry, and no rate limits.
    async fn update_api_key(&self, ctx: &Context<'_>, input: UpdateApiKeyInput) -> Result<ApiKey> {
        let by = manager(ctx).await?;
        let changes = KeyChanges {
            name: input.name,
            scopes: input
                .scopes
                .map(|s| s.into_iter().map(Into::into).collect()),
            rate_limit: match input.rate_limit {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(r) => Some(Some(r.into())),
            },
        };
        let key = keys::update(db(ctx), meta(ctx), &by, key_id(&input.id)?, changes).await?;
        forget(ctx, key.id);
        Ok(ApiKey::new(key))
    }

    /// The one-step check, called with a customer's API key: verifies it,
    /// applies its and its tenant's rate limits, and records the usage — with
    /// no database round trip. Any valid key may check; recording usage (a
    /// `metric`) needs `usage:write`.
    async fn authorize(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] input: AuthorizeInput,
    ) -> Result<AuthorizeResult> {
        let call = session(ctx).key().ok_or_else(|| {
            AppError::unauthenticated(
                "authorize is called with an API key (Authorization: Bearer tg_… or X-API-Key)",
            )
        })?;
        let answer = services(ctx)
            .usage
            .authorize(
                db(ctx),
                &services(ctx).plans,
                &call.grant,
                &call.limits,
                DomainAuthorize {
                    metric: input.metric,
                    quantity: input.quantity.unwrap_or(1),
                    idempotency_key: input.idempotency_key,
                },
            )
            .await?;
        let grant = &call.grant;
        Ok(AuthorizeResult {
            allowed: answer.allowed,
            reason: match answer.refusal {
                None => AuthorizeReason::Ok,
                Some(Refusal::KeyRateLimited) => AuthorizeReason::KeyRateLimited,
                Some(Refusal::TenantRateLimited) => AuthorizeReason::TenantRateLimited,
            },
            tenant: AuthorizedTenant {
                id: ID(grant.tenant_id.to_string()),
                slug: grant.tenant_slug.clone(),
                plan: grant.plan_key.clone(),
            },
            key_id: ID(grant.key_id.to_string()),
            environment: grant.environment.into(),
            scopes: grant.scopes.iter().map(Into::into).collect(),
            remaining: i64::from(answer.remaining),
            reset_at: answer.reset_at,
            retry_after: answer.retry_after.map(|d| d.as_secs_f64().ceil() as i64),
            recorded: answer.recorded,
            duplicate: answer.duplicate,
        })
    }
}
