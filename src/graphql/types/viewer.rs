//! The `Viewer` type: who the caller is and where they act.

use async_graphql::{Enum, SimpleObject};

use super::tenant::Tenant;
use super::user::User;
use crate::auth;

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

/// The signed-in caller.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The signed-in user.
    pub user: User,
    /// The active tenant (X-Tenant-ID, else the session's default), when the user
    /// is a member of it.
    pub tenant: Option<Tenant>,
    /// The user's role in the active tenant.
    pub role: Option<Role>,
}
