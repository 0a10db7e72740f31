//! The `ApiKey` type, its enums, and the answer of `authorize`.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::usage_series::{UsageGranularity, UsageSeries};
use crate::auth::api_keys::{Environment, KeyScope};
use crate::db::api_keys::{ApiKey as Row, KeyState};
use crate::error::AppError;
use crate::graphql::context::{db, services, session};
use crate::graphql::loaders::{KeyUsage, KeyUsageLoader};
use crate::tenancy::Scope as DbScope;

/// Live or test mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[graphql(name = "ApiKeyEnvironment")]
pub enum KeyEnvironment {
    /// Live data; usage counts against quotas and billing.
    #[default]
    Live,
    /// Test-mode data only; usage never counts against quotas or billing.
    Test,
}

impl From<KeyEnvironment> for Environment {
    fn from(e: KeyEnvironment) -> Self {
        match e {
            KeyEnvironment::Live => Self::Live,
            KeyEnvironment::Test => Self::Test,
        }
    }
}

impl From<Environment> for KeyEnvironment {
    fn from(e: Environment) -> Self {
        match e {
            Environment::Live => Self::Live,
            Environment::Test => Self::Test,
        }
    }
}

/// What a key may do (`tenant:read` … as the JSON endpoint writes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ApiKeyScope")]
pub enum Scope {
    /// `tenant:read`: read the tenant itself (`tenant` and its own fields).
    TenantRead,
    /// `members:read`: read members and invitations.
    MembersRead,
    /// `keys:read`: read the tenant's API keys.
    KeysRead,
    /// `keys:write`: create, rotate, update and revoke keys (never beyond the
    /// key's own scopes and environment).
    KeysWrite,
    /// `audit:read`: read the audit trail.
    AuditRead,
    /// `billing:read`: read the subscription and invoices.
    BillingRead,
    /// `usage:read`: read usage and quotas.
    UsageRead,
    /// `usage:write`: record usage in batches.
    UsageWrite,
    /// `webhooks:read`: read webhook endpoints and their delivery log.
    WebhooksRead,
    /// `webhooks:write`: manage webhook endpoints (create, update, delete,
    /// rotate secrets), replay deliveries, send test events.
    WebhooksWrite,
}

impl From<Scope> for KeyScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::TenantRead => Self::TenantRead,
            Scope::MembersRead => Self::MembersRead,
            Scope::KeysRead => Self::KeysRead,
            Scope::KeysWrite => Self::KeysWrite,
            Scope::AuditRead => Self::AuditRead,
            Scope::BillingRead => Self::BillingRead,
            Scope::UsageRead => Self::UsageRead,
            Scope::UsageWrite => Self::UsageWrite,
            Scope::WebhooksRead => Self::WebhooksRead,
            Scope::WebhooksWrite => Self::WebhooksWrite,
        }
    }
}

impl From<KeyScope> for Scope {
    fn from(s: KeyScope) -> Self {
        match s {
            KeyScope::TenantRead => Self::TenantRead,
            KeyScope::MembersRead => Self::MembersRead,
            KeyScope::KeysRead => Self::KeysRead,
            KeyScope::KeysWrite => Self::KeysWrite,
            KeyScope::AuditRead => Self::AuditRead,
            KeyScope::BillingRead => Self::BillingRead,
            KeyScope::UsageRead => Self::UsageRead,
            KeyScope::UsageWrite => Self::UsageWrite,
            KeyScope::WebhooksRead => Self::WebhooksRead,
            KeyScope::WebhooksWrite => Self::WebhooksWrite,
        }
    }
}

/// A key's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ApiKeyState")]
pub enum State {
    /// Usable.
    Active,
    /// A new secret was issued; the previous one works until `rotationEndsAt`.
    Rotating,
    /// Revoked: refused everywhere.
    Revoked,
    /// Past `expiresAt`: refused everywhere.
    Expired,
}

impl From<KeyState> for State {
    fn from(s: KeyState) -> Self {
        match s {
            KeyState::Active => Self::Active,
            KeyState::Rotating => Self::Rotating,
            KeyState::Revoked => Self::Revoked,
            KeyState::Expired => Self::Expired,
        }
    }
}

impl From<State> for KeyState {
    fn from(s: State) -> Self {
        match s {
            State::Active => Self::Active,
            State::Rotating => Self::Rotating,
            State::Revoked => Self::Revoked,
            State::Expired => Self::Expired,
        }
    }
}

/// A rate limit: `limit` calls per `periodSeconds`.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct RateLimit {
    /// Calls allowed per period (a full burst of them is allowed at once).
    pub limit: i32,
    /// The period, in seconds.
    pub period_seconds: i32,
}

/// A tenant's API key (never its secret), with the usage loader of the
/// page it was listed on (keys read one at a time get their own).
pub struct ApiKey(
    pub Row,
    pub Option<Arc<DataLoader<crate::graphql::loaders::KeyUsageLoader>>>,
);

impl ApiKey {
    /// A key read on its own (no page to batch its usage with).
    pub fn new(row: Row) -> Self {
        Self(row, None)
    }
}

/// A credential for machine callers of a tenant.
#[Object]
impl ApiKey {
    /// The key's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Live or test.
    async fn environment(&self) -> KeyEnvironment {
        Environment::parse(&self.0.environment)
            .unwrap_or(Environment::Live)
            .into()
    }

    /// The first characters of the secret (e.g. `tg_live_AbC123`), to tell
    /// keys apart.
    async fn display_prefix(&self) -> &str {
        &self.0.display_prefix
    }

    /// What it may do.
    async fn scopes(&self) -> Vec<Scope> {
        self.0
            .scope_names()
            .iter()
            .filter_map(|n| KeyScope::parse(n))
            .map(Scope::from)
            .collect()
    }

    /// Active, rotating, revoked or expired.
    async fn state(&self) -> State {
        self.0.state(Utc::now()).into()
    }

    /// Its own rate limit; `null`: the plan's API calls per hour.
    async fn rate_limit(&self) -> Option<RateLimit> {
        self.0
            .rate_limit
            .zip(self.0.rate_limit_period)
            .map(|(limit, period_seconds)| RateLimit {
                limit,
                period_seconds,
            })
    }

    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When it was revoked.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// While rotating: when the previous secret stops working.
    async fn rotation_ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_valid_until.filter(|at| *at > Utc::now())
    }

    /// When it was last used (this instance's latest use included; other
    /// instances' within seconds).
    async fn last_used_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        let pending = services(ctx).api_keys.pending_last_used(self.0.id);
        self.0.last_used_at.max(pending)
    }

    /// The id of the user who created it.
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by.map(|id| ID(id.to_string()))
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// What this key recorded of `metric` over `[from, to)`, in its own
    /// environment (as `Tenant.usage`, same bounds; `groups` is empty):
    /// members who can see the key, API keys with `usage:read` for keys of
    /// their own environment (FORBIDDEN for another's). A page of
    /// keys reads its usage in one statement.
    #[graphql(
        complexity = "super::usage_series::series_cost(from, to, granularity, child_complexity)"
    )]
    async fn usage(
        &self,
        ctx: &Context<'_>,
        metric: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        granularity: UsageGranularity,
    ) -> Result<UsageSeries> {
        let session = session(ctx);
        let tenant_id = self.0.tenant_id;
        let scope = match session.key() {
            Some(call) => {
                call.grant.require(KeyScope::UsageRead)?;
                // As `Tenant.usage`: a key reads its own environment only
                // (another tenant's key is refused below, whatever its
                // environment).
                if call.grant.tenant_id == tenant_id
                    && Environment::parse(&self.0.environment) != Some(call.grant.environment)
                {
                    return Err(AppError::forbidden(
                        "an API key reads the usage of its own environment only",
                    )
                    .into());
                }
                (call.grant.tenant_id == tenant_id).then(|| DbScope::tenant(tenant_id))
            }
            None => {
                let access = session.require_tenant(db(ctx)).await?;
                (access.tenant_id == tenant_id).then(|| access.scope())
            }
        };
        let Some(scope) = scope else {
            return Err(AppError::forbidden("this key belongs to another tenant").into());
        };
        let range = crate::usage::reads::range(
            db(ctx),
            services(ctx).usage.metrics(),
            &metric,
            from,
            to,
            granularity.into(),
            Utc::now(),
        )
        .await?;
        let loader = match &self.1 {
            Some(loader) => loader.clone(),
            None => Arc::new(DataLoader::new(
                KeyUsageLoader {
                    db: db(ctx).clone(),
                    scope,
                    tenant_id,
                },
                tokio::spawn,
            )),
        };
        let environment = Environment::parse(&self.0.environment).unwrap_or(Environment::Live);
        let series = loader
            .load_one(KeyUsage {
                key_id: self.0.id,
                environment: environment.as_str(),
                range: range.clone(),
            })
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the usage loader lost a key")))?;
        Ok(UsageSeries::new(range, environment.into(), series))
    }
}

/// A new or rotated key, with its secret.
#[derive(SimpleObject)]
pub struct ApiKeySecret {
    /// The key.
    pub api_key: ApiKey,
    /// The secret (`tg_live_…` / `tg_test_…`): shown this once, never again.
    pub secret: String,
}

/// Why `authorize` answered as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AuthorizeReason {
    /// Allowed.
    Ok,
    /// The key's own rate limit is used up (see `retryAfter`).
    KeyRateLimited,
    /// The tenant's plan limit of API calls per hour is used up.
    TenantRateLimited,
}

/// The tenant a key belongs to.
#[derive(SimpleObject)]
pub struct AuthorizedTenant {
    /// The tenant's id.
    pub id: ID,
    /// Its slug.
    pub slug: String,
    /// Its plan's key.
    pub plan: String,
}

/// The answer of `authorize`.
#[derive(SimpleObject)]
pub struct AuthorizeResult {
    /// Whether the call may proceed.
    pub allowed: bool,
    /// Why (OK when allowed).
    pub reason: AuthorizeReason,
    /// The key's tenant.
    pub tenant: AuthorizedTenant,
    /// The key's id.
    pub key_id: ID,
    /// Live or test.
    pub environment: KeyEnvironment,
    /// The key's scopes.
    pub scopes: Vec<Scope>,
    /// Calls left in the binding rate limit.
    pub remaining: i64,
    /// When the binding rate limit is full again.
    pub reset_at: DateTime<Utc>,
    /// When refused: seconds until a retry can succeed.
    pub retry_after: Option<i64>,
    /// Whether this call recorded usage.
    pub recorded: bool,
    /// The idempotency key was seen before: nothing was recorded again.
    pub duplicate: bool,
}
