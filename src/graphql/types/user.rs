//! The `User` type.

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};

use crate::db::users;

/// The GraphQL view of a user row.
pub struct User(pub users::User);

/// A person who can sign in. One user may belong to several tenants.
#[Object]
impl User {
    /// The user's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The user's email address (unique, case-insensitive, stored lower-case).
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Whether the user has verified their email address.
    async fn email_verified(&self) -> bool {
        self.0.email_verified_at.is_some()
    }

    /// When the user signed up.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
