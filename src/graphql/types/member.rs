//! The `Member` type: a user's membership in a tenant.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Object, Result};
use chrono::{DateTime, Utc};

use super::user::User;
use super::viewer::Role;
use crate::auth;
use crate::error::AppError;
use crate::graphql::loaders::UserLoader;

/// A member of a tenant.
pub struct Member {
    pub row: crate::db::memberships::Member,
    pub user: UserSource,
}

/// Where a member's user comes from: read with the page (when the query asks
/// for it, so a page costs one statement whatever its size), or a loader.
pub enum UserSource {
    Read(crate::db::users::User),
    Loader(Arc<DataLoader<UserLoader>>),
}

/// A user's membership in a tenant, with their role.
#[Object]
impl Member {
    /// The member (read with the page, in the same statement).
    async fn user(&self) -> Result<User> {
        let loader = match &self.user {
            UserSource::Read(user) => return Ok(User(user.clone())),
            UserSource::Loader(loader) => loader,
        };
        let user = loader
            .load_one(self.row.user_id)
            .await?
            // Removed between reading the page and loading the users.
            .ok_or_else(|| AppError::not_found("this member was just removed"))?;
        Ok(User(user))
    }

    /// The member's role in the tenant.
    async fn role(&self) -> Result<Role> {
        let role = auth::Role::parse(&self.row.role)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role stored")))?;
        Ok(role.into())
    }

    /// When the user joined the tenant.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}
