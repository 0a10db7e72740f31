//! Sign-up, sign-in, sessions, links by email, switching tenant.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use crate::audit::{self, Actor, Entry};
use crate::auth::email_links::{self, Purpose};
use crate::auth::{password_reset, sessions, signup};
use crate::db::users;
use crate::error::AppError;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::guards::SignedIn;
use crate::graphql::types::session::{SessionPayload, clear_refresh_cookie};
use crate::graphql::types::tenant::{Reader, Tenant};
use crate::graphql::types::user::User;
use crate::tenancy::Scope;

/// What `signUp` needs.
/// The mailer of this request's links: on a tenant's custom domain they point
/// back at that domain (the one the routing index matched for the request's
/// tenant, so a request on one tenant's address never gets a link to
/// another's); anywhere else at the portal's own address.
fn link_mailer(ctx: &Context<'_>) -> crate::mail::Mailer {
    let mailer = &services(ctx).mailer;
    match ctx
        .data_opt::<crate::domains::RequestHost>()
        .and_then(|h| h.0.as_deref())
        .and_then(|h| h.custom_domain.as_deref())
    {
        Some(domain) => mailer.on_domain(domain),
        None => mailer.clone(),
    }
}

#[derive(InputObject)]
pub struct SignUpInput {
    /// The new user's email address.
    pub email: String,
    /// At least 10 characters and hard to guess (a passphrase works well).
    #[graphql(secret)]
    pub password: String,
    /// The name of the new tenant (organisation); its slug is made from it.
    pub tenant_name: String,
}

/// What `signUp` made.
#[derive(SimpleObject)]
pub struct SignUpPayload {
    /// A short-lived access token: send it as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// The refresh token, for API clients (browsers get an httpOnly cookie).
    pub refresh_token: Option<String>,
    /// The new user.
    pub user: User,
    /// The new tenant, owned by the new user.
    pub tenant: Tenant,
}

/// What `logIn` needs.
#[derive(InputObject)]
pub struct LogInInput {
    /// The account's email address.
    pub email: String,
    /// The account's password.
    #[graphql(secret)]
    pub password: String,
    /// The tenant to act in (default: the one the user joined first).
    pub tenant_id: Option<ID>,
}

/// A new access token for the same session.
#[derive(SimpleObject)]
pub struct AccessTokenPayload {
    /// The access token, acting in the new tenant.
    pub access_token: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

fn parse_id(id: &ID, field: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::bad_field(field, "not a valid id"))
}

/// Sessions and identity.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Creates a user, a tenant owned by that user, and a session. Errors:
    /// BAD_USER_INPUT (invalid email, weak password, bad tenant name), CONFLICT
    /// (the email is taken). Nothing is written unless everything is.
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> Result<SignUpPayload> {
        let made = signup::sign_up(
            db(ctx),
            &services(ctx).keys,
            meta(ctx),
            signup::SignUp {
                email: input.email,
                password: input.password,
                tenant_name: input.tenant_name,
            },
        )
        .await?;
        let access = crate::auth::TenantAccess {
            tenant_id: made.tenant.id,
            user_id: made.user.id,
            role: crate::auth::Role::Owner,
        };
        let session = SessionPayload::deliver(ctx, made.grant);
        Ok(SignUpPayload {
            access_token: session.access_token,
            expires_at: session.expires_at,
            refresh_token: session.refresh_token,
            user: session.user,
            tenant: Tenant {
                row: made.tenant,
                reader: Reader::Member(access),
                member_count: None,
            },
        })
    }

    /// Signs in with email and password. Wrong credentials and unknown emails
    /// get the same UNAUTHENTICATED answer in the same time; repeated failures
    /// get RATE_LIMITED (per account and per client address).
    async fn log_in(&self, ctx: &Context<'_>, input: LogInInput) -> Result<SessionPayload> {
        let tenant = input
            .tenant_id
            .as_ref()
            .map(|id| parse_id(id, "tenantId"))
            .transpose()?;
        let grant = sessions::log_in(
            db(ctx),
            &services(ctx).keys,
            meta(ctx),
            &input.email,
            input.password,
            tenant,
        )
        .await?;
        Ok(SessionPayload::deliver(ctx, grant))
    }

    /// Trades a refresh token (the argument, or the browser's cookie) for a new
    /// access token and a new refresh token. A refresh token works once: using
    /// it again revokes the whole session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] refresh_token: Option<String>,
    ) -> Result<SessionPayload> {
        let token = refresh_token
            .or_else(|| session(ctx).refresh_cookie.clone())
            .ok_or_else(|| AppError::unauthenticated("no refresh token was given"))?;
        let grant = sessions::refresh(db(ctx), &services(ctx).keys, meta(ctx), &token).await?;
        Ok(SessionPayload::deliver(ctx, grant))
    }

    /// Ends this session: its access and refresh tokens stop working at once.
    #[graphql(guard = "SignedIn")]
    async fn log_out(&self, ctx: &Context<'_>) -> Result<bool> {
        let me = session(ctx).require_user(db(ctx)).await?;
        sessions::log_out(db(ctx), meta(ctx), me.user_id, me.session_id).await?;
        ctx.append_http_header("set-cookie", clear_refresh_cookie());
        Ok(true)
    }

    /// Ends every session of the signed-in user; returns how many were live.
    /// A session signed in on a tenant's custom domain may do it too: ending
    /// sessions only takes access away, and a user who fears for their
    /// account must be able to, wherever they signed in.
    #[graphql(guard = "SignedIn")]
    async fn log_out_everywhere(&self, ctx: &Context<'_>) -> Result<i32> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let ended = sessions::log_out_everywhere(db(ctx), meta(ctx), me.user_id).await?;
        ctx.append_http_header("set-cookie", clear_refresh_cookie());
        Ok(ended)
    }

    /// Emails a single-use sign-in link (valid 15 minutes). Answers true whether
    /// or not the email has an account.
    async fn request_magic_link(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        let mailer = link_mailer(ctx);
        email_links::request(db(ctx), &mailer, meta(ctx), &email, Purpose::MagicLink).await?;
        Ok(true)
    }

    /// Signs in with the token of a sign-in link.
    async fn verify_magic_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] token: String,
    ) -> Result<SessionPayload> {
        let user_id = email_links::token_user(&token, Purpose::MagicLink)?;
        let grant = sessions::start_after(
            db(ctx),
            &services(ctx).keys,
            meta(ctx),
            user_id,
            None,
            "session.magic_link",
            |conn| {
                async move {
                    email_links::consume(conn, &token, Purpose::MagicLink).await?;
                    let user = users::find(conn, user_id).await?.ok_or_else(|| {
                        AppError::unauthenticated("this account no longer exists")
                    })?;
                    if user.email_verified_at.is_none() {
                        // First proof that the address is this person's: whoever
                        // registered it before (password, sessions) loses it.
                        users::clear_password(conn, user_id).await?;
                        sessions::revoke_all(conn, user_id, "email verified by link").await?;
                        users::mark_verified(conn, user_id).await?;
                    }
                    Ok(())
                }
                .scope_boxed()
            },
        )
        .await?;
        Ok(SessionPayload::deliver(ctx, grant))
    }

    /// Emails a single-use password-reset link (valid 15 minutes). Answers true
    /// whether or not the email has an account.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        email_links::request(
            db(ctx),
            &link_mailer(ctx),
            meta(ctx),
            &email,
            Purpose::PasswordReset,
        )
        .await?;
        Ok(true)
    }

    /// Sets a new password with the token of a reset link; every other session
    /// of the user ends, and a new one starts. The link is checked before the
    /// password: UNAUTHENTICATED for an invalid, used or expired link,
    /// RATE_LIMITED past the budgets of the client address and of the link.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] token: String,
        #[graphql(secret)] new_password: String,
    ) -> Result<SessionPayload> {
        let grant = password_reset::reset_password(
            db(ctx),
            &services(ctx).keys,
            meta(ctx),
            token,
            new_password,
        )
        .await?;
        Ok(SessionPayload::deliver(ctx, grant))
    }

    /// Emails the signed-in user a link that confirms their address.
    #[graphql(guard = "SignedIn")]
    async fn request_email_verification(&self, ctx: &Context<'_>) -> Result<bool> {
        let me = session(ctx).require_user(db(ctx)).await?;
        email_links::request(
            db(ctx),
            &link_mailer(ctx),
            meta(ctx),
            &me.email,
            Purpose::VerifyEmail,
        )
        .await?;
        Ok(true)
    }

    /// Confirms an email address with the token of a verification link.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] token: String,
    ) -> Result<User> {
        let user_id = email_links::token_user(&token, Purpose::VerifyEmail)?;
        let meta_tx = meta(ctx).clone();
        let user = db(ctx)
            .scoped(Scope::user(user_id), |conn| {
                async move {
                    email_links::consume(conn, &token, Purpose::VerifyEmail).await?;
                    users::mark_verified(conn, user_id).await?;
                    audit::record(
                        conn,
                        &meta_tx,
                        Entry::new(None, Actor::user(user_id), "user.email_verified")
                            .target("user", user_id),
                    )
                    .await?;
                    Ok(users::find(conn, user_id).await?)
                }
                .scope_boxed()
            })
            .await?
            .ok_or_else(|| AppError::not_found("user not found"))?;
        Ok(User(user))
    }

    /// Makes another of the user's tenants the session's default and returns an
    /// access token acting in it. FORBIDDEN for another tenant than the one
    /// of the custom domain the session was signed in on.
    #[graphql(guard = "SignedIn")]
    async fn switch_tenant(&self, ctx: &Context<'_>, tenant_id: ID) -> Result<AccessTokenPayload> {
        let me = session(ctx).require_user(db(ctx)).await?;
        let tenant_id = parse_id(&tenant_id, "tenantId")?;
        me.require_unbound_or(Some(tenant_id))?;
        let issued = sessions::switch_tenant(
            db(ctx),
            &services(ctx).keys,
            meta(ctx),
            me.user_id,
            me.session_id,
            tenant_id,
        )
        .await?;
        Ok(AccessTokenPayload {
            access_token: issued.token,
            expires_at: issued.expires_at,
        })
    }
}
