//! What sign-in mutations return.

use async_graphql::{Context, SimpleObject};
use chrono::{DateTime, Utc};

use super::user::User;
use crate::auth::sessions::Grant;
use crate::auth::{REFRESH_COOKIE, sessions::SESSION_TTL};
use crate::graphql::context::session;

/// A new session.
#[derive(SimpleObject)]
pub struct SessionPayload {
    /// A short-lived access token: send it as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// When the access token expires (refresh before then).
    pub expires_at: DateTime<Utc>,
    /// The refresh token, for API clients. Browsers get it as an httpOnly
    /// cookie instead, and this is null.
    pub refresh_token: Option<String>,
    /// The signed-in user.
    pub user: User,
    /// The id of the tenant the session acts in by default, if any.
    pub tenant_id: Option<async_graphql::ID>,
}

impl SessionPayload {
    /// The payload of `grant`; browsers get the refresh token as a cookie.
    pub fn deliver(ctx: &Context<'_>, grant: Grant) -> Self {
        let refresh_token = if session(ctx).browser {
            ctx.append_http_header("set-cookie", refresh_cookie(&grant.refresh_token));
            None
        } else {
            Some(grant.refresh_token)
        };
        Self {
            access_token: grant.access.token,
            expires_at: grant.access.expires_at,
            refresh_token,
            user: User(grant.user),
            tenant_id: grant.tenant_id.map(|id| async_graphql::ID(id.to_string())),
        }
    }
}

/// The `Set-Cookie` value that stores a refresh token in a browser.
pub fn refresh_cookie(token: &str) -> String {
    format!(
        "{REFRESH_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/graphql; Max-Age={}",
        SESSION_TTL.num_seconds()
    )
}

/// The `Set-Cookie` value that removes the refresh cookie.
pub fn clear_refresh_cookie() -> String {
    format!("{REFRESH_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/graphql; Max-Age=0")
}
