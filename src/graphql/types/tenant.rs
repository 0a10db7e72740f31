//! The `Tenant` type and its enums.

use async_graphql::{Enum, ID, Object};
use chrono::{DateTime, Utc};

use crate::db::tenants;

/// The lifecycle state of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TenantStatus {
    /// In normal use.
    Active,
    /// Stopped by a platform admin: its users and keys are refused.
    Suspended,
    /// Scheduled for deletion.
    PendingDeletion,
}

impl TenantStatus {
    fn from_db(s: &str) -> Self {
        match s {
            "suspended" => Self::Suspended,
            "pending_deletion" => Self::PendingDeletion,
            _ => Self::Active,
        }
    }
}

/// The GraphQL view of a tenant row.
pub struct Tenant(pub tenants::Tenant);

/// An organisation: the owner of all tenant data.
#[Object]
impl Tenant {
    /// The tenant's id (use it in the X-Tenant-ID header).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The tenant's display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The tenant's unique URL slug.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// The tenant's lifecycle state.
    async fn status(&self) -> TenantStatus {
        TenantStatus::from_db(&self.0.status)
    }

    /// The key of the tenant's plan (`free`, `basic`, `pro`, `enterprise`, …).
    async fn plan_key(&self) -> &str {
        &self.0.plan_key
    }

    /// When the tenant was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
