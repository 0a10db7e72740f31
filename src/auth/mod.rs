//! Who is calling: principals, sessions, tokens, passwords, roles, sign-up.
//!
//! The HTTP layer turns request headers into a [`Session`] (no database work);
//! the tenant access of a session (membership, role, tenant status) is checked
//! against the database on first use in each request, so a removed member or a
//! changed role takes effect on the next request, not at token expiry.

pub mod jwt;
pub mod passwords;
pub mod roles;
pub mod signup;

use axum::http::HeaderMap;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::db::Db;
use crate::db::schema::{memberships, tenants};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;
pub use roles::Role;

/// The header that picks the active tenant of a request.
pub const TENANT_HEADER: &str = "x-tenant-id";

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    /// A signed-in user (an access token).
    User {
        user_id: Uuid,
    },
}

/// A user's verified access to one tenant, for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantAccess {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
}

impl TenantAccess {
    /// The database scope of this access.
    pub fn scope(&self) -> Scope {
        Scope::tenant_user(self.tenant_id, self.user_id)
    }
}

/// The authentication state of one request.
#[derive(Debug)]
pub struct Session {
    pub principal: Principal,
    /// The tenant the request acts in: `X-Tenant-ID`, else the token's default.
    pub active_tenant: Option<Uuid>,
    access: OnceCell<Option<TenantAccess>>,
}

impl Session {
    /// A session for `principal` acting in `active_tenant`.
    pub fn new(principal: Principal, active_tenant: Option<Uuid>) -> Self {
        Self {
            principal,
            active_tenant,
            access: OnceCell::new(),
        }
    }

    /// The anonymous session.
    pub fn anonymous() -> Self {
        Self::new(Principal::Anonymous, None)
    }

    /// Reads the principal from `Authorization: Bearer …` and the active tenant
    /// from `X-Tenant-ID`. A present but invalid credential is an error, never a
    /// silent downgrade to anonymous.
    pub fn from_headers(headers: &HeaderMap, keys: &jwt::JwtKeys) -> AppResult<Self> {
        let requested = match headers.get(TENANT_HEADER) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .and_then(|s| Uuid::parse_str(s.trim()).ok())
                    .ok_or_else(|| {
                        AppError::bad_input("the X-Tenant-ID header must be a tenant id (a UUID)")
                    })?,
            ),
        };
        let Some(auth) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Self::new(Principal::Anonymous, None));
        };
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::unauthenticated("the Authorization header must be `Bearer <token>`")
            })?;
        let claims = keys.verify_access(token)?;
        Ok(Self::new(
            Principal::User {
                user_id: claims.sub,
            },
            requested.or(claims.tid),
        ))
    }

    /// The signed-in user, or UNAUTHENTICATED.
    pub fn require_user(&self) -> AppResult<Uuid> {
        match self.principal {
            Principal::User { user_id } => Ok(user_id),
            Principal::Anonymous => Err(AppError::unauthenticated("sign in first")),
        }
    }

    /// The caller's access to the active tenant, checked once per request:
    /// `None` when there is no active tenant or the user is not a member of it.
    /// A suspended tenant is FORBIDDEN, with the reason.
    pub async fn tenant_access(&self, db: &Db) -> AppResult<Option<TenantAccess>> {
        self.access
            .get_or_try_init(|| async {
                let (Principal::User { user_id }, Some(tenant_id)) =
                    (&self.principal, self.active_tenant)
                else {
                    return Ok(None);
                };
                load_access(db, tenant_id, *user_id).await
            })
            .await
            .cloned()
    }

    /// The caller's access to the active tenant, or an error saying what is missing.
    pub async fn require_tenant(&self, db: &Db) -> AppResult<TenantAccess> {
        self.require_user()?;
        self.tenant_access(db).await?.ok_or_else(|| {
            AppError::forbidden("no active tenant: pick one of your tenants with X-Tenant-ID")
        })
    }
}

async fn load_access(db: &Db, tenant_id: Uuid, user_id: Uuid) -> AppResult<Option<TenantAccess>> {
    let row: Option<(String, String, Option<String>)> = db
        .scoped(Scope::tenant_user(tenant_id, user_id), |conn| {
            async move {
                memberships::table
                    .inner_join(tenants::table)
                    .filter(memberships::tenant_id.eq(tenant_id))
                    .filter(memberships::user_id.eq(user_id))
                    .select((memberships::role, tenants::status, tenants::status_reason))
                    .first(conn)
                    .await
                    .optional()
                    .map_err(AppError::from)
            }
            .scope_boxed()
        })
        .await?;
    let Some((role, status, reason)) = row else {
        return Ok(None);
    };
    if status != "active" {
        let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
        return Err(AppError::forbidden(format!(
            "this tenant is {}{why}",
            status.replace('_', " ")
        )));
    }
    let role = Role::parse(&role)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role {role:?} stored")))?;
    Ok(Some(TenantAccess {
        tenant_id,
        user_id,
        role,
    }))
}
