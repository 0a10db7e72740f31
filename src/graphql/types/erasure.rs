//! Erasure's types: a tenant's scheduled deletion (`Tenant.deletion`) and
//! the tombstones of purged tenants (`admin { tenantTombstones }`).

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::db::erasure::Tombstone;
use crate::db::tenants::Tenant;

/// A tenant's scheduled deletion: its API keys are refused, its members
/// read and export, and an owner can cancel until `purgeAfter`.
#[derive(SimpleObject)]
pub struct TenantDeletion {
    /// When the deletion was asked for.
    pub scheduled_at: DateTime<Utc>,
    /// When the purge is due: everything of the tenant is erased then.
    pub purge_after: DateTime<Utc>,
    /// Who asked (a user id; the person may be gone since).
    pub requested_by: Option<ID>,
}

impl TenantDeletion {
    /// The deletion of `row`, when it is pending one.
    pub fn of(row: &Tenant) -> Option<Self> {
        Some(Self {
            scheduled_at: row.deletion_requested_at?,
            purge_after: row.purge_after?,
            requested_by: row.deletion_requested_by.map(|id| ID(id.to_string())),
        })
    }
}

/// Who asked for a purged tenant's deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PurgeReason {
    /// An owner of the tenant (after the grace period).
    Owner,
    /// A platform admin (at once).
    PlatformAdmin,
}

/// What remains of a purged tenant: proof of the deletion, without personal
/// data.
#[derive(SimpleObject)]
pub struct TenantTombstone {
    /// The tenant's id.
    pub id: ID,
    /// When its deletion was asked for.
    pub requested_at: DateTime<Utc>,
    /// Who asked (a user id).
    pub requested_by: Option<ID>,
    /// When it was purged.
    pub purged_at: DateTime<Utc>,
    /// Whether an owner or a platform admin asked.
    pub reason: PurgeReason,
}

impl From<Tombstone> for TenantTombstone {
    fn from(t: Tombstone) -> Self {
        Self {
            id: ID(t.id.to_string()),
            requested_at: t.requested_at,
            requested_by: t.requested_by.map(|id| ID(id.to_string())),
            purged_at: t.purged_at,
            reason: if t.reason == "platform_admin" {
                PurgeReason::PlatformAdmin
            } else {
                PurgeReason::Owner
            },
        }
    }
}

/// What a purge by a platform admin did.
#[derive(SimpleObject)]
pub struct PurgeResult {
    /// People erased because they belonged to no other tenant.
    pub people_erased: i64,
    /// Rows of the tenant deleted.
    pub rows_deleted: i64,
    /// The tenant's tombstone (absent only if the purge did not finish: the
    /// job finishes it).
    pub tombstone: Option<TenantTombstone>,
}
