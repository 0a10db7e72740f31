//! Who is calling: principals, sessions, tokens, passwords, roles, sign-up.
//!
//! The HTTP layer turns request headers into a [`Session`] (no database work).
//! The first resolver that needs to know who the caller really is calls
//! [`Session::verify`]: one statement checks that the user exists, that the
//! session (refresh-token family) is live, and the user's membership, role and
//! tenant status in the active tenant. The answer is kept for the rest of the
//! request, so a logout, a removed member or a changed role takes effect on the
//! next request, not at token expiry.

pub mod api_keys;
pub mod email_links;
pub mod jwt;
pub mod key_bounds;
pub mod key_cache;
pub mod key_failures;
pub mod key_revocation;
pub mod keys;
pub mod origins;
pub mod password_reset;
pub mod passwords;
pub mod publishable;
pub mod publishable_admin;
pub mod roles;
pub mod sessions;
pub mod signup;
pub mod throttle;
pub mod tokens;

use scoped_futures::ScopedFutureExt;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;
pub use roles::Role;

/// The cookie that carries a browser's refresh token.
pub const REFRESH_COOKIE: &str = "tg_refresh";

/// Who made a request, as the credentials claim (not yet verified against the
/// database).
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    /// A signed-in user (an access token of session `session_id`).
    User {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// A tenant's API key, verified (from the key cache) before the request
    /// runs, with the outcome of its rate limits for this call.
    ApiKey(KeyCall),
}

/// A verified API key and what its limits said for this call.
#[derive(Debug, Clone)]
pub struct KeyCall {
    pub grant: std::sync::Arc<api_keys::KeyGrant>,
    pub limits: crate::usage::LimitOutcome,
}

/// What a request presents, as plain values (read from its headers, or from a
/// WebSocket's `connection_init` payload, by `http::credentials`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The token of `Authorization: Bearer <token>`.
    pub bearer: Option<String>,
    /// The tenant the request asks to act in (`X-Tenant-ID`).
    pub requested_tenant: Option<Uuid>,
    /// Whether a browser sent it (`Origin` or `Sec-Fetch-Site` present).
    pub browser: bool,
    /// The refresh token of the [`REFRESH_COOKIE`] cookie.
    pub refresh_cookie: Option<String>,
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

    /// FORBIDDEN unless the role is at least `needed`.
    pub fn require(&self, needed: Role) -> AppResult<()> {
        if self.role.at_least(needed) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this needs the {needed} role or higher; you are {}",
                self.role
            )))
        }
    }
}

/// A signed-in user, verified against the database for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub email: String,
    /// Whether the user is a platform admin and this session may use it
    /// (never a session bound to a tenant's custom domain).
    pub is_platform_admin: bool,
    /// The only tenant this session may act in: it was signed in on that
    /// tenant's custom domain (see [`crate::auth::sessions::open`]).
    pub bound_tenant: Option<Uuid>,
    /// Access to the active tenant, when there is one and the user is a member.
    pub access: Option<TenantAccess>,
    /// The active tenant's row as the check read it (with `access`).
    pub tenant: Option<Box<crate::db::tenants::Tenant>>,
    /// Why the active tenant cannot be used, when the user is a member of a
    /// tenant that is not active (e.g. "this tenant is suspended: unpaid").
    pub tenant_refusal: Option<String>,
    /// Whether the active tenant is scheduled for deletion: its members keep
    /// reading (and may export, and owners cancel), every other change is
    /// refused with TENANT_PENDING_DELETION.
    pub tenant_pending_deletion: bool,
}

/// The authentication state of one request.
#[derive(Debug)]
pub struct Session {
    pub principal: Principal,
    /// The tenant the request acts in: `X-Tenant-ID`, else the token's default.
    pub active_tenant: Option<Uuid>,
    /// Whether the caller is a browser (it sent `Origin` or `Sec-Fetch-Site`):
    /// browsers get refresh tokens as an httpOnly cookie, never in the payload.
    pub browser: bool,
    /// The refresh token from the `tg_refresh` cookie, if any.
    pub refresh_cookie: Option<String>,
    /// When the access token expires (Unix seconds), for long-lived sockets.
    pub expires_at: Option<i64>,
    /// Whether the request runs a mutation: a tenant pending deletion then
    /// refuses [`Session::require_tenant`] (reads go on).
    pub mutating: bool,
    verified: OnceCell<Option<Verified>>,
}

impl Session {
    /// A session for `principal` acting in `active_tenant`.
    pub fn new(principal: Principal, active_tenant: Option<Uuid>) -> Self {
        Self {
            principal,
            active_tenant,
            browser: false,
            refresh_cookie: None,
            expires_at: None,
            mutating: false,
            verified: OnceCell::new(),
        }
    }

    /// Reads the principal from the bearer token and the active tenant from
    /// the requested one (else the token's). A present but invalid credential
    /// is an error, never a silent downgrade to anonymous.
    pub fn from_credentials(credentials: Credentials, keys: &jwt::JwtKeys) -> AppResult<Self> {
        let requested = credentials.requested_tenant;
        let mut session = match credentials.bearer.as_deref() {
            None => Self::new(Principal::Anonymous, None),
            Some(token) if publishable::looks_like_publishable(token) => {
                return Err(AppError::forbidden(
                    "a publishable key (tg_pk_…) cannot sign in or call this API: it only calls \
                     /v1/public/{key}/… from an allowed origin",
                ));
            }
            Some(token) => {
                let claims = keys.verify_access(token)?;
                let mut session = Self::new(
                    Principal::User {
                        user_id: claims.sub,
                        session_id: claims.sid,
                    },
                    requested.or(claims.tid),
                );
                session.expires_at = Some(claims.exp);
                session
            }
        };
        session.browser = credentials.browser;
        session.refresh_cookie = credentials.refresh_cookie;
        Ok(session)
    }

    /// Verifies the caller against the database (once per request): `None` for
    /// anonymous callers; UNAUTHENTICATED when the user or session is gone;
    /// FORBIDDEN when the active tenant is suspended.
    pub async fn verify(&self, db: &Db) -> AppResult<Option<Verified>> {
        self.verified
            .get_or_try_init(|| async {
                let Principal::User {
                    user_id,
                    session_id,
                } = self.principal
                else {
                    return Ok(None);
                };
                load_verified(db, user_id, session_id, self.active_tenant)
                    .await
                    .map(Some)
            })
            .await
            .cloned()
    }

    /// Verifies again against the database, ignoring the answer kept for this
    /// request (for long-lived subscriptions): the token must not have expired,
    /// the session must be live and the membership current.
    pub async fn reverify(&self, db: &Db) -> AppResult<Verified> {
        if let Principal::ApiKey(_) = self.principal {
            return Err(key_refused());
        }
        let Principal::User {
            user_id,
            session_id,
        } = self.principal
        else {
            return Err(AppError::unauthenticated("sign in first"));
        };
        if self
            .expires_at
            .is_some_and(|exp| exp <= chrono::Utc::now().timestamp())
        {
            return Err(AppError::unauthenticated("the access token expired"));
        }
        load_verified(db, user_id, session_id, self.active_tenant).await
    }

    /// The verified signed-in user, or UNAUTHENTICATED.
    pub async fn require_user(&self, db: &Db) -> AppResult<Verified> {
        if let Principal::ApiKey(_) = self.principal {
            return Err(key_refused());
        }
        self.verify(db)
            .await?
            .ok_or_else(|| AppError::unauthenticated("sign in first"))
    }

    /// The caller's access to the active tenant, or an error saying what is
    /// missing. In a mutation, a tenant pending deletion is refused
    /// (TENANT_PENDING_DELETION): only the changes that take
    /// [`Session::require_tenant_while_deleting`] go on.
    pub async fn require_tenant(&self, db: &Db) -> AppResult<TenantAccess> {
        let verified = self.require_user(db).await?;
        if self.mutating && verified.tenant_pending_deletion {
            return Err(pending_deletion());
        }
        Self::access_of(verified)
    }

    /// The caller's access to the active tenant, also while it is pending
    /// deletion (cancelling it, exporting its data).
    pub async fn require_tenant_while_deleting(&self, db: &Db) -> AppResult<TenantAccess> {
        Self::access_of(self.require_user(db).await?)
    }

    fn access_of(verified: Verified) -> AppResult<TenantAccess> {
        if let Some(refusal) = verified.tenant_refusal {
            return Err(AppError::forbidden(refusal));
        }
        verified.access.ok_or_else(|| {
            AppError::forbidden(
                "no active tenant: pick one of your tenants (X-Tenant-ID or switchTenant)",
            )
        })
    }

    /// The caller's access to the active tenant with at least `role`.
    pub async fn require_role(&self, db: &Db, role: Role) -> AppResult<TenantAccess> {
        let access = self.require_tenant(db).await?;
        access.require(role)?;
        Ok(access)
    }

    /// The verified caller, who must be a platform admin.
    pub async fn require_platform_admin(&self, db: &Db) -> AppResult<Verified> {
        let verified = self.require_user(db).await?;
        if !verified.is_platform_admin {
            return Err(AppError::forbidden("this needs a platform admin"));
        }
        Ok(verified)
    }
}

impl Session {
    /// The verified API key of this call, when the caller is one.
    pub fn key(&self) -> Option<&KeyCall> {
        match &self.principal {
            Principal::ApiKey(call) => Some(call),
            _ => None,
        }
    }

    /// The API key of this call holding `scope`: UNAUTHENTICATED without a key,
    /// FORBIDDEN without the scope.
    pub fn require_key_scope(&self, scope: api_keys::KeyScope) -> AppResult<&KeyCall> {
        let call = self
            .key()
            .ok_or_else(|| AppError::unauthenticated("this needs an API key"))?;
        call.grant.require(scope)?;
        Ok(call)
    }
}

/// Why a change is refused in a tenant scheduled for deletion.
pub fn pending_deletion() -> AppError {
    AppError::tenant_pending_deletion(
        "this tenant is scheduled for deletion: its data can be read and exported, and an owner \
         can cancel the deletion (cancelTenantDeletion); nothing else can change",
    )
}

/// Why an API key cannot do what needs a signed-in user.
fn key_refused() -> AppError {
    AppError::forbidden(
        "API keys cannot do this: it needs a signed-in user (sessions, passwords, invitations \
         to accept, checkout, platform administration)",
    )
}

/// Why a session bound to a tenant's custom domain is refused elsewhere.
pub const BOUND_ELSEWHERE: &str = "this session was signed in on another tenant's own domain and \
    acts only in that tenant: sign in on the portal's own address to use your other tenants";

impl Verified {
    /// FORBIDDEN when this session is bound to a tenant other than `tenant`
    /// (or to any tenant, for `None`: things outside every tenant, such as
    /// creating one).
    pub fn require_unbound_or(&self, tenant: Option<Uuid>) -> AppResult<()> {
        match self.bound_tenant {
            Some(bound) if Some(bound) != tenant => Err(AppError::forbidden(BOUND_ELSEWHERE)),
            _ => Ok(()),
        }
    }
}

async fn load_verified(
    db: &Db,
    user_id: Uuid,
    session_id: Uuid,
    tenant_id: Option<Uuid>,
) -> AppResult<Verified> {
    let scope = match tenant_id {
        Some(tenant_id) => Scope::tenant_user(tenant_id, user_id),
        None => Scope::user(user_id),
    };
    let row = db
        .scoped(scope, |conn| {
            async move { Ok(crate::db::sessions::check(conn, user_id, session_id, tenant_id).await?) }
                .scope_boxed()
        })
        .await?;
    let Some(row) = row.filter(|r| r.session_live) else {
        return Err(AppError::unauthenticated(
            "this session has ended: sign in again",
        ));
    };
    let mut tenant_refusal = None;
    let mut tenant_pending_deletion = false;
    let tenant = row.tenant();
    let bound = row.bound_tenant_id;
    let access = match (tenant_id, row.role) {
        (Some(tenant_id), _) if bound.is_some_and(|b| b != tenant_id) => {
            tenant_refusal = Some(BOUND_ELSEWHERE.to_owned());
            None
        }
        (Some(tenant_id), Some(role)) => 'access: {
            tenant_pending_deletion = row.status.as_deref() == Some("pending_deletion");
            if let Some(status) = row
                .status
                .clone()
                .filter(|s| s != "active" && s != "pending_deletion")
            {
                // The user stays signed in (viewer, logOut, switchTenant work);
                // everything that needs this tenant is refused with the reason.
                let why = row
                    .status_reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                tenant_refusal = Some(format!("this tenant is {}{why}", status.replace('_', " ")));
                break 'access None;
            }
            let role = Role::parse(&role).ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("unknown role {role:?} stored"))
            })?;
            Some(TenantAccess {
                tenant_id,
                user_id,
                role,
            })
        }
        _ => None,
    };
    let tenant = tenant.filter(|_| access.is_some()).map(Box::new);
    Ok(Verified {
        user_id,
        session_id,
        tenant,
        email: row.email,
        // A bound session never uses platform-admin powers.
        is_platform_admin: row.is_platform_admin && bound.is_none(),
        bound_tenant: bound,
        access,
        tenant_refusal,
        tenant_pending_deletion,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_required() {
        let access = TenantAccess {
            tenant_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            role: Role::Member,
        };
        access.require(Role::Member).unwrap();
        assert_eq!(
            access.require(Role::Admin).unwrap_err().code().as_str(),
            "FORBIDDEN"
        );
    }
}
