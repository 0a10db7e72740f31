//! The `Viewer` type: who the caller is, where they act, and their tenants.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use scoped_futures::ScopedFutureExt;

use super::data_export::DataExport;
use super::tenant::{Reader, Tenant};
use super::user::User;
use crate::auth::{self, Verified};
use crate::db::data_exports::Owner;
use crate::db::{memberships, tenants::Tenant as TenantRow, users};
use crate::error::AppError;
use crate::graphql::context::db;
use crate::tenancy::Scope;

/// A member's role in a tenant: owner > admin > member; billing and viewer aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Role {
    /// Full control, including billing and deleting the tenant.
    Owner,
    /// Manages members, keys and settings.
    Admin,
    /// Uses the product.
    Member,
    /// Billing only.
    Billing,
    /// Read only.
    Viewer,
}

impl From<auth::Role> for Role {
    fn from(role: auth::Role) -> Self {
        match role {
            auth::Role::Owner => Self::Owner,
            auth::Role::Admin => Self::Admin,
            auth::Role::Member => Self::Member,
            auth::Role::Billing => Self::Billing,
            auth::Role::Viewer => Self::Viewer,
        }
    }
}

impl From<Role> for auth::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::Member => Self::Member,
            Role::Billing => Self::Billing,
            Role::Viewer => Self::Viewer,
        }
    }
}

/// One of the caller's tenants.
#[derive(SimpleObject)]
pub struct Membership {
    /// The tenant (its own fields; act in it to read its lists).
    pub tenant: Tenant,
    /// The caller's role in it.
    pub role: Role,
}

/// The signed-in caller.
pub struct Viewer {
    pub verified: Verified,
    pub user: users::User,
    pub tenant: Option<TenantRow>,
}

/// The signed-in caller: who they are, the active tenant, and their tenants.
#[Object]
impl Viewer {
    /// The signed-in user.
    async fn user(&self) -> User {
        User(self.user.clone())
    }

    /// The active tenant (X-Tenant-ID, else the session's default), when the user
    /// is a member of it.
    async fn tenant(&self) -> Option<Tenant> {
        let access = self.verified.access.clone()?;
        self.tenant.clone().map(|row| Tenant {
            row,
            reader: Reader::Member(access),
            member_count: None,
        })
    }

    /// Why the active tenant cannot be used, when the user is a member of it
    /// but it is not active: the message every refused request gets, with the
    /// platform admin's reason (`this tenant is suspended: unpaid invoices`).
    /// Null otherwise (then `tenant` is set, or the user is not a member).
    async fn tenant_refusal(&self) -> Option<&str> {
        self.verified.tenant_refusal.as_deref()
    }

    /// The user's role in the active tenant.
    async fn role(&self) -> Option<Role> {
        self.verified.access.as_ref().map(|a| a.role.into())
    }

    /// Whether the user is a platform admin (the SaaS team's staff).
    async fn is_platform_admin(&self) -> bool {
        self.verified.is_platform_admin
    }

    /// The user's own data exports (`requestMyDataExport`), newest first;
    /// FORBIDDEN for a session signed in on a tenant's custom domain (they
    /// hold every tenant of the user's).
    #[graphql(complexity = "crate::graphql::cursor::list_cost(first, child_complexity)")]
    async fn data_exports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<
        async_graphql::connection::Connection<
            String,
            DataExport,
            async_graphql::connection::EmptyFields,
            async_graphql::connection::EmptyFields,
        >,
    > {
        self.verified.require_unbound_or(None)?;
        let user = self.verified.user_id;
        super::data_export::page(
            ctx,
            Scope::user(user),
            Owner::Person(user),
            user,
            first,
            after,
        )
        .await
    }

    /// One of the user's own data exports; null when there is no such export
    /// of theirs; FORBIDDEN for a session signed in on a tenant's custom
    /// domain.
    async fn data_export(
        &self,
        ctx: &Context<'_>,
        id: async_graphql::ID,
    ) -> Result<Option<DataExport>> {
        self.verified.require_unbound_or(None)?;
        let user = self.verified.user_id;
        super::data_export::one(ctx, Scope::user(user), Owner::Person(user), user, &id).await
    }

    /// Every tenant the user belongs to, oldest membership first; for a
    /// session signed in on a tenant's custom domain, that tenant only.
    #[graphql(complexity = "crate::graphql::cursor::list_cost(None, child_complexity)")]
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let user_id = self.verified.user_id;
        let bound = self.verified.bound_tenant;
        let rows: Vec<(TenantRow, String)> = db(ctx)
            .scoped(Scope::user(user_id), |conn| {
                async move { Ok(memberships::tenants_of(conn, user_id).await?) }.scope_boxed()
            })
            .await?;
        rows.into_iter()
            .filter(|(row, _)| bound.is_none_or(|b| b == row.id))
            .map(|(row, role)| {
                let role = auth::Role::parse(&role)
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role stored")))?;
                Ok(Membership {
                    tenant: Tenant {
                        row,
                        reader: Reader::Basic,
                        member_count: None,
                    },
                    role: role.into(),
                })
            })
            .collect()
    }
}
