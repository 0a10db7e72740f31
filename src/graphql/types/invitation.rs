//! The `Invitation` type.

use async_graphql::{Enum, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::viewer::Role;
use crate::auth;
use crate::db::invitations::{self, InvitationStatus as Status};
use crate::error::AppError;

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum InvitationStatus {
    /// Can still be accepted.
    Pending,
    /// Accepted: the invitee is a member.
    Accepted,
    /// Revoked by an admin.
    Revoked,
    /// Not accepted in time.
    Expired,
}

/// An invitation to join a tenant.
pub struct Invitation(pub invitations::Invitation);

/// An invitation to join a tenant with a role; its token goes only to the
/// invited email address.
#[Object]
impl Invitation {
    /// The invitation's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Who is invited.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The role the invitee gets.
    async fn role(&self) -> Result<Role> {
        let role = auth::Role::parse(&self.0.role)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role stored")))?;
        Ok(role.into())
    }

    /// Where the invitation stands.
    async fn status(&self) -> InvitationStatus {
        match self.0.status() {
            Status::Pending => InvitationStatus::Pending,
            Status::Accepted => InvitationStatus::Accepted,
            Status::Revoked => InvitationStatus::Revoked,
            Status::Expired => InvitationStatus::Expired,
        }
    }

    /// The id of the member who sent it (absent when that user was deleted).
    async fn invited_by_id(&self) -> Option<ID> {
        self.0.invited_by.map(|id| ID(id.to_string()))
    }

    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it stops being valid.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
}
