//! The mutation root.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::tenant::Tenant;
use super::types::user::User;
use crate::auth::jwt::JwtKeys;
use crate::auth::signup;
use crate::db::Db;

/// What `signUp` needs.
#[derive(InputObject)]
pub struct SignUpInput {
    /// The new user's email address.
    pub email: String,
    /// At least 10 characters and hard to guess (a passphrase works well).
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
    /// The new user.
    pub user: User,
    /// The new tenant, owned by the new user.
    pub tenant: Tenant,
}

/// Entry points for changing things.
#[derive(Default)]
pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates a user, a tenant owned by that user, and a session. Errors:
    /// BAD_USER_INPUT (invalid email, weak password, bad tenant name), CONFLICT
    /// (the email is taken). Nothing is written unless everything is.
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> Result<SignUpPayload> {
        let db = ctx.data::<Db>()?;
        let keys = ctx.data::<Arc<JwtKeys>>()?;
        let made = signup::sign_up(
            db,
            keys,
            signup::SignUp {
                email: input.email,
                password: input.password,
                tenant_name: input.tenant_name,
            },
        )
        .await?;
        Ok(SignUpPayload {
            access_token: made.access.token,
            expires_at: made.access.expires_at,
            user: User(made.user),
            tenant: Tenant(made.tenant),
        })
    }
}
