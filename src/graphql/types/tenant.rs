//! The `Tenant` type, its branding, and its lists (members, invitations, audit log).

use std::sync::Arc;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::api_key::{ApiKey, KeyEnvironment, State as ApiKeyState};
use super::audit::AuditEntry;
use super::data_export::DataExport;
use super::invitation::Invitation;
use super::member::Member;
use super::usage_series::{UsageGranularity, UsageGroupBy, UsageSeries};
use crate::audit;
use crate::auth::api_keys::{KeyGrant, KeyScope};
use crate::auth::keys::Manager;
use crate::auth::{Role, TenantAccess, Verified};
use crate::db::{data_exports, invitations, memberships, tenants};
use crate::error::{AppError, AppResult};
use crate::graphql::context::{db, meta};
use crate::graphql::cursor;
use crate::graphql::loaders::UserLoader;
use crate::graphql::types::member::UserSource;
use crate::members;
use crate::tenancy::Scope;

/// The lifecycle state of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TenantStatus {
    /// In normal use.
    Active,
    /// Stopped by a platform admin: its users and keys are refused.
    Suspended,
    /// Scheduled for deletion.
    PendingDeletion,
}

impl TenantStatus {
    pub fn from_db(s: &str) -> Self {
        match s {
            "suspended" => Self::Suspended,
            "pending_deletion" => Self::PendingDeletion,
            _ => Self::Active,
        }
    }

    pub fn as_db(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::PendingDeletion => "pending_deletion",
        }
    }
}

/// How the caller came to this tenant, which decides what of it they may read.
#[derive(Debug, Clone)]
pub enum Reader {
    /// A member, with their verified role.
    Member(TenantAccess),
    /// A platform admin on the audited admin path.
    Admin(Verified),
    /// An API key of the tenant: its scopes decide.
    Key(Arc<KeyGrant>),
    /// Only the tenant's own fields (e.g. in a list of the user's memberships).
    Basic,
}

/// The GraphQL view of a tenant row.
pub struct Tenant {
    pub row: tenants::Tenant,
    pub reader: Reader,
    /// The member count, when the list that produced this tenant read it for
    /// the whole page in one statement.
    pub member_count: Option<i64>,
}

impl Tenant {
    /// The platform admin reading this tenant, when it is read on the admin path.
    pub(super) fn admin_reader(&self) -> Option<uuid::Uuid> {
        match &self.reader {
            Reader::Admin(admin) => Some(admin.user_id),
            _ => None,
        }
    }

    /// The scope to read this tenant's lists in, when the reader holds `needed`
    /// (`None`: any role) or, for an API key, `key_scope`.
    /// Who reads this tenant's keys: the caller, acting in this very tenant.
    async fn key_reader(&self, ctx: &Context<'_>) -> Result<Manager> {
        match &self.reader {
            Reader::Member(access) if access.tenant_id == self.row.id => {
                crate::graphql::context::key_manager(ctx).await
            }
            Reader::Key(grant) if grant.tenant_id == self.row.id => Ok(Manager::Key(grant.clone())),
            _ => Err(AppError::forbidden(
                "act in this tenant (X-Tenant-ID or switchTenant) to read its keys",
            )
            .into()),
        }
    }

    /// The caller's access when they are an owner acting in this tenant
    /// (data exports: neither API keys nor platform admins).
    fn owner_access(&self) -> AppResult<TenantAccess> {
        match &self.reader {
            Reader::Member(access) if access.tenant_id == self.row.id => {
                access.require(Role::Owner)?;
                Ok(access.clone())
            }
            _ => Err(AppError::forbidden(
                "only the tenant's owners, acting in it, see its data exports",
            )),
        }
    }

    pub(super) fn scope_for(&self, needed: Option<Role>, key_scope: KeyScope) -> AppResult<Scope> {
        match &self.reader {
            Reader::Key(grant) if grant.tenant_id == self.row.id => {
                grant.require(key_scope)?;
                Ok(Scope::tenant(grant.tenant_id))
            }
            Reader::Member(access) if access.tenant_id == self.row.id => {
                if let Some(needed) = needed {
                    access.require(needed)?;
                }
                Ok(access.scope())
            }
            Reader::Admin(admin) => Ok(Scope::platform_admin(admin.user_id)),
            _ => Err(AppError::forbidden(
                "act in this tenant (X-Tenant-ID or switchTenant) to read its details",
            )),
        }
    }
}

/// A tenant's public look.
#[derive(SimpleObject, Default)]
pub struct Branding {
    /// The name shown to the tenant's users (defaults to the tenant name).
    pub display_name: Option<String>,
    /// An https:// URL of the logo.
    pub logo_url: Option<String>,
    /// The main color, as #rrggbb.
    pub primary_color: Option<String>,
    /// The accent color, as #rrggbb.
    pub accent_color: Option<String>,
    /// Where the tenant's users get help.
    pub support_email: Option<String>,
}

/// Which invitations to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum InvitationFilter {
    /// Only those that can still be accepted.
    #[default]
    Pending,
    /// Neither accepted nor revoked: the pending ones and the expired ones
    /// (an expired invitation still holds its address, so inviting it again
    /// is a CONFLICT: send it again with `resendInvitation` or revoke it).
    Open,
    /// All of them: pending, accepted, revoked and expired.
    All,
}

/// Filters of the API key list.
#[derive(InputObject, Default)]
pub struct ApiKeyFilter {
    /// Only keys in this state.
    pub state: Option<ApiKeyState>,
    /// Only live or only test keys.
    pub environment: Option<KeyEnvironment>,
}

/// Filters of the audit log.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only this action (e.g. `member.role_change`).
    pub action: Option<String>,
    /// Only entries by this user.
    pub actor: Option<ID>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
}

/// An organisation: the owner of all tenant data.
#[Object]
impl Tenant {
    /// The tenant's id (use it in the X-Tenant-ID header).
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// The tenant's display name.
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// The tenant's unique URL slug.
    async fn slug(&self) -> &str {
        &self.row.slug
    }

    /// The tenant's lifecycle state.
    async fn status(&self) -> TenantStatus {
        TenantStatus::from_db(&self.row.status)
    }

    /// Why the tenant is suspended, when it is.
    async fn status_reason(&self) -> Option<&str> {
        self.row.status_reason.as_deref()
    }

    /// The tenant's scheduled deletion, while it is pending one (null
    /// otherwise): when it was asked for, by whom, and when the purge is due.
    async fn deletion(&self) -> Option<super::erasure::TenantDeletion> {
        super::erasure::TenantDeletion::of(&self.row)
    }

    /// The key of the tenant's plan (`free`, `basic`, `pro`, `enterprise`, …).
    async fn plan_key(&self) -> &str {
        &self.row.plan_key
    }

    /// The tenant's current plan (whoever may read the tenant; it may be a
    /// plan that is not offered publicly).
    async fn plan(&self, ctx: &Context<'_>) -> Result<super::plan::Plan> {
        let plan = crate::graphql::context::services(ctx)
            .plans
            .plan(db(ctx), &self.row.plan_key)
            .await?
            .ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "the tenant's plan {:?} is not in the catalogue",
                    self.row.plan_key
                ))
            })?;
        Ok(super::plan::Plan::from(&*plan))
    }

    /// The plan's monthly quotas and how much of each is used this month
    /// (live usage; resets at the start of each calendar month, UTC):
    /// members of this tenant, API keys with `usage:read`, platform admins.
    async fn quotas(&self, ctx: &Context<'_>) -> Result<Vec<super::usage::Quota>> {
        let scope = self.scope_for(None, KeyScope::UsageRead)?;
        let services = crate::graphql::context::services(ctx);
        let Some(plan) = services.plans.plan(db(ctx), &self.row.plan_key).await? else {
            return Ok(Vec::new());
        };
        if let Some(admin) = self.admin_reader() {
            let (tenant_id, meta) = (self.row.id, meta(ctx).clone());
            db(ctx)
                .scoped(scope.clone(), |conn| {
                    async move {
                        audit_admin_read(
                            conn,
                            &meta,
                            Some(admin),
                            tenant_id,
                            "admin.tenant.quotas.read",
                        )
                        .await
                    }
                    .scope_boxed()
                })
                .await?;
        }
        Ok(
            super::usage::quotas(db(ctx), scope, services.usage.quotas(), &plan, self.row.id)
                .await?,
        )
    }

    /// The tenant's usage of `metric` over `[from, to)` in hourly or daily
    /// buckets (UTC; `from` rounds down and `to` up to whole buckets; at most
    /// 35 days of hours or 400 days of days; `to` at most 31 days ahead).
    /// `environment`: live usage by default (an API key reads its own
    /// environment's, by default and only). `groupBy: KEY` adds one series
    /// per key (the `first` keys with the most usage, 1-100, default 10) and
    /// one for members' own; it needs the right to list keys too. Members of
    /// this tenant, API keys with `usage:read`, platform admins (audited).
    #[graphql(
        complexity = "super::usage_series::usage_cost(group_by, first, from, to, granularity, child_complexity)"
    )]
    #[expect(clippy::too_many_arguments)]
    async fn usage(
        &self,
        ctx: &Context<'_>,
        metric: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        granularity: UsageGranularity,
        #[graphql(default)] group_by: UsageGroupBy,
        environment: Option<KeyEnvironment>,
        #[graphql(default = 10)] first: i32,
    ) -> Result<UsageSeries> {
        let asked = super::tenant_usage::Asked {
            metric,
            from,
            to,
            granularity,
            group_by,
            environment,
            first,
        };
        super::tenant_usage::read(self, ctx, asked).await
    }

    /// The tenant's subscription and invoices: owners, admins and billing
    /// members of this tenant, API keys with `billing:read`, platform admins.
    async fn billing(&self, ctx: &Context<'_>) -> Result<super::billing::TenantBilling> {
        if let Reader::Member(access) = &self.reader
            && access.tenant_id == self.row.id
        {
            crate::billing::require_reader(access)?;
        }
        let scope = self.scope_for(None, KeyScope::BillingRead)?;
        if let Some(admin) = self.admin_reader() {
            let (tenant_id, meta) = (self.row.id, meta(ctx).clone());
            db(ctx)
                .scoped(scope.clone(), |conn| {
                    async move {
                        audit_admin_read(
                            conn,
                            &meta,
                            Some(admin),
                            tenant_id,
                            "admin.tenant.billing.read",
                        )
                        .await
                    }
                    .scope_boxed()
                })
                .await?;
        }
        let overview = crate::graphql::context::services(ctx)
            .billing
            .overview(db(ctx), scope.clone(), self.row.id)
            .await?;
        Ok(super::billing::TenantBilling {
            scope,
            tenant: self.row.id,
            overview,
        })
    }

    /// The tenant's branding.
    async fn branding(&self) -> Branding {
        serde_json::from_value::<members::Branding>(self.row.branding.clone())
            .map(|b| Branding {
                display_name: b.display_name,
                logo_url: b.logo_url,
                primary_color: b.primary_color,
                accent_color: b.accent_color,
                support_email: b.support_email,
            })
            .unwrap_or_default()
    }

    /// The tenant's custom domain and its verification, `null` without one
    /// (admins and owners acting in this tenant; FORBIDDEN to others, API
    /// keys and the platform admins' path included).
    async fn custom_domain(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<super::custom_domain::CustomDomain>> {
        let Reader::Member(access) = &self.reader else {
            return Err(AppError::forbidden(
                "only the tenant's admins and owners, signed in and acting in it, see its custom domain",
            )
            .into());
        };
        if access.tenant_id != self.row.id {
            return Err(AppError::forbidden("act in this tenant to read its custom domain").into());
        }
        let row = crate::domains::custom::read(db(ctx), access).await?;
        Ok(row.map(Into::into))
    }

    /// When the tenant was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// The tenant's API keys, oldest first (any role but billing; keys with
    /// `keys:read`; platform admins, audited).
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ApiKeyFilter>,
    ) -> Result<Connection<String, ApiKey, EmptyFields, EmptyFields>> {
        let manager = match &self.reader {
            Reader::Admin(admin) => {
                let limit = cursor::page_size(first)?;
                let after = cursor::decode_opt(after.as_deref())?;
                let filter = filter.unwrap_or_default();
                let rows = crate::admin::tenant_keys(
                    db(ctx),
                    meta(ctx),
                    admin,
                    self.row.id,
                    filter
                        .environment
                        .map(|e| crate::auth::api_keys::Environment::from(e).as_str()),
                    filter.state.map(Into::into),
                    after,
                    limit,
                )
                .await?;
                return Ok(cursor::connection(
                    rows,
                    limit,
                    after.is_some(),
                    |r| (r.created_at, r.id),
                    ApiKey::new,
                ));
            }
            _ => self.key_reader(ctx).await?,
        };
        let limit = cursor::page_size(first)?;
        let after = cursor::decode_opt(after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let rows = crate::auth::keys::page(
            db(ctx),
            &manager,
            filter.environment.map(Into::into),
            filter.state.map(Into::into),
            after,
            limit,
        )
        .await?;
        // Keys' usage, one batch for the page: the batch goes out as soon as
        // every key of the page asked (the delay only bounds a page some of
        // whose keys never ask), so its size never splits it.
        let on_page = rows.len().min(usize::try_from(limit).unwrap_or(0)).max(1);
        let loader = Arc::new(
            DataLoader::new(
                crate::graphql::loaders::KeyUsageLoader {
                    db: db(ctx).clone(),
                    scope: match &manager {
                        Manager::Member { access, .. } => access.scope(),
                        Manager::Key(grant) => Scope::tenant(grant.tenant_id),
                    },
                    tenant_id: manager.tenant_id(),
                },
                tokio::spawn,
            )
            .max_batch_size(on_page)
            .delay(std::time::Duration::from_millis(50)),
        );
        Ok(cursor::connection(
            rows,
            limit,
            after.is_some(),
            |r| (r.created_at, r.id),
            |row| ApiKey(row, Some(loader.clone())),
        ))
    }

    /// One of the tenant's keys by id (`null`: no such key in this tenant);
    /// members and keys that may list the keys, acting in this tenant (platform
    /// admins read keys through `apiKeys`, audited).
    async fn api_key(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ApiKey>> {
        let manager = self.key_reader(ctx).await?;
        let Ok(id) = Uuid::parse_str(&id) else {
            return Err(AppError::bad_field("id", "not an API key id").into());
        };
        let row = crate::auth::keys::find(db(ctx), &manager, id).await?;
        Ok(row.map(ApiKey::new))
    }

    /// How many members the tenant has (whoever may list them; read for a
    /// whole page of tenants at once in `admin { tenants }`).
    async fn member_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let scope = self.scope_for(None, KeyScope::MembersRead)?;
        if let Reader::Member(access) = &self.reader
            && access.role == Role::Billing
        {
            return Err(AppError::forbidden("the billing role cannot list members").into());
        }
        if let Some(count) = self.member_count {
            return Ok(count);
        }
        let tenant_id = self.row.id;
        let (admin, meta) = (self.admin_reader(), meta(ctx).clone());
        let counts = db(ctx)
            .scoped(scope, |conn| {
                async move {
                    audit_admin_read(conn, &meta, admin, tenant_id, "admin.tenant.members.read")
                        .await?;
                    Ok(crate::db::memberships::counts(conn, &[tenant_id]).await?)
                }
                .scope_boxed()
            })
            .await?;
        Ok(counts.first().map_or(0, |(_, n)| *n))
    }

    /// The tenant's members, oldest first (viewer role or higher; billing
    /// members cannot list the team).
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Member, EmptyFields, EmptyFields>> {
        let scope = self.scope_for(None, KeyScope::MembersRead)?;
        if let Reader::Member(access) = &self.reader
            && access.role == Role::Billing
        {
            return Err(AppError::forbidden("the billing role cannot list members").into());
        }
        let limit = cursor::page_size(first)?;
        let after = cursor::decode_opt(after.as_deref())?;
        let db = db(ctx).clone();
        let tenant_id = self.row.id;
        let (admin, meta) = (self.admin_reader(), meta(ctx).clone());
        // Users asked for: read with the page (one statement for any size).
        let look = ctx.look_ahead();
        let with_users = look.field("nodes").field("user").exists()
            || look.field("edges").field("node").field("user").exists();
        let rows = db
            .scoped(scope.clone(), |conn| {
                async move {
                    audit_admin_read(conn, &meta, admin, tenant_id, "admin.tenant.members.read")
                        .await?;
                    Ok(if with_users {
                        memberships::page_with_users(conn, tenant_id, after, limit)
                            .await?
                            .into_iter()
                            .map(|(row, user)| (row, Some(user)))
                            .collect()
                    } else {
                        memberships::page(conn, tenant_id, after, limit)
                            .await?
                            .into_iter()
                            .map(|row| (row, None))
                            .collect::<Vec<_>>()
                    })
                }
                .scope_boxed()
            })
            .await?;
        let loader = Arc::new(DataLoader::new(UserLoader { db, scope }, tokio::spawn));
        Ok(cursor::connection(
            rows,
            limit,
            after.is_some(),
            |(r, _)| (r.created_at, r.user_id),
            |(row, user)| Member {
                row,
                user: match user {
                    Some(user) => UserSource::Read(user),
                    None => UserSource::Loader(loader.clone()),
                },
            },
        ))
    }

    /// Invitations (admins and owners), oldest first.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: InvitationFilter,
    ) -> Result<Connection<String, Invitation, EmptyFields, EmptyFields>> {
        let scope = self.scope_for(Some(Role::Admin), KeyScope::MembersRead)?;
        let limit = cursor::page_size(first)?;
        let after = cursor::decode_opt(after.as_deref())?;
        let tenant_id = self.row.id;
        let listed = match filter {
            InvitationFilter::Pending => invitations::Listed::Pending,
            InvitationFilter::Open => invitations::Listed::Open,
            InvitationFilter::All => invitations::Listed::All,
        };
        let (admin, meta) = (self.admin_reader(), meta(ctx).clone());
        let rows = db(ctx)
            .scoped(scope, |conn| {
                async move {
                    audit_admin_read(
                        conn,
                        &meta,
                        admin,
                        tenant_id,
                        "admin.tenant.invitations.read",
                    )
                    .await?;
                    Ok(invitations::page(conn, tenant_id, listed, after, limit).await?)
                }
                .scope_boxed()
            })
            .await?;
        Ok(cursor::connection(
            rows,
            limit,
            after.is_some(),
            |r| (r.created_at, r.id),
            Invitation,
        ))
    }

    /// The tenant's publishable keys, revoked ones too, oldest first (admins
    /// and owners acting in the tenant).
    async fn publishable_keys(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::publishable::PublishableKey>> {
        super::publishable::keys(ctx, &self.reader, self.row.id).await
    }

    /// The origins whose pages may use the publishable keys, in order
    /// (admins and owners acting in the tenant).
    async fn allowed_origins(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::publishable::AllowedOrigin>> {
        super::publishable::origins(ctx, &self.reader, self.row.id).await
    }

    /// The tenant's data exports (owners), newest first: status, progress
    /// and download links. Ask for one with `requestDataExport`.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    async fn data_exports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, DataExport, EmptyFields, EmptyFields>> {
        let access = self.owner_access()?;
        let owner = data_exports::Owner::Tenant(self.row.id);
        super::data_export::page(ctx, access.scope(), owner, access.user_id, first, after).await
    }

    /// One of the tenant's data exports (owners); null when there is no such
    /// export of this tenant.
    async fn data_export(&self, ctx: &Context<'_>, id: ID) -> Result<Option<DataExport>> {
        let access = self.owner_access()?;
        let owner = data_exports::Owner::Tenant(self.row.id);
        super::data_export::one(ctx, access.scope(), owner, access.user_id, &id).await
    }

    /// The tenant's webhook endpoints, oldest first (at most 20): admins and
    /// owners of this tenant, API keys with `webhooks:read`. Priced as 20
    /// endpoints (every field under it, its delivery log too, counts 20×).
    #[graphql(complexity = "super::webhook::endpoints_cost(child_complexity)")]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::webhook::WebhookEndpoint>> {
        super::webhook::list(self, ctx).await
    }

    /// One of the tenant's webhook endpoints, with its delivery log (null:
    /// no such endpoint of this tenant). Who may: as `webhookEndpoints`.
    async fn webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<super::webhook::WebhookEndpoint>> {
        super::webhook::one(self, ctx, &id).await
    }

    /// The audit trail (admins and owners), newest first.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AuditLogFilter>,
    ) -> Result<Connection<String, AuditEntry, EmptyFields, EmptyFields>> {
        let scope = self.scope_for(Some(Role::Admin), KeyScope::AuditRead)?;
        let limit = cursor::page_size(first)?;
        let after = cursor::decode_opt(after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let filter = audit::Filter {
            action: filter.action,
            actor_id: filter
                .actor
                .map(|id| {
                    Uuid::parse_str(&id)
                        .map_err(|_| AppError::bad_field("filter.actor", "not a user id"))
                })
                .transpose()?,
            since: filter.since,
            until: filter.until,
        };
        let tenant_id = self.row.id;
        let (admin, meta) = (self.admin_reader(), meta(ctx).clone());
        let rows = db(ctx)
            .scoped(scope, |conn| {
                async move {
                    // Read first, so the admin's own entry is not on the page.
                    let rows = audit::page(conn, Some(tenant_id), &filter, after, limit).await?;
                    audit_admin_read(conn, &meta, admin, tenant_id, "admin.tenant.audit_log.read")
                        .await?;
                    Ok(rows)
                }
                .scope_boxed()
            })
            .await?;
        Ok(cursor::connection(
            rows,
            limit,
            after.is_some(),
            |r| (r.created_at, r.id),
            AuditEntry,
        ))
    }
}

/// On the admin path, records the read in the tenant's own trail (in the
/// transaction of the read).
pub(super) async fn audit_admin_read(
    conn: &mut diesel_async::AsyncPgConnection,
    meta: &audit::RequestMeta,
    admin: Option<Uuid>,
    tenant_id: Uuid,
    action: &'static str,
) -> AppResult<()> {
    if let Some(admin) = admin {
        audit::record(
            conn,
            meta,
            audit::Entry::new(
                Some(tenant_id),
                audit::Actor::PlatformAdmin { id: admin },
                action,
            )
            .target("tenant", tenant_id),
        )
        .await?;
    }
    Ok(())
}
