//! Outgoing webhooks: the events a tenant's endpoints may subscribe to, and
//! `emit`, which writes one into the outbox (`webhook_events`) inside the
//! transaction that makes the change, next to its audit entry.

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::webhooks;

/// An event type, as endpoints subscribe to it and receive it (`type` in the
/// body). The fixed, documented set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Someone joined the tenant (an invitation accepted, or added).
    MemberJoined,
    /// A member's role changed.
    MemberRoleChanged,
    /// A member was removed or left.
    MemberRemoved,
    /// An invitation was sent.
    InvitationCreated,
    /// An invitation was accepted.
    InvitationAccepted,
    /// An invitation was revoked.
    InvitationRevoked,
    /// An API key was created.
    ApiKeyCreated,
    /// An API key was rotated.
    ApiKeyRotated,
    /// An API key was revoked.
    ApiKeyRevoked,
    /// A subscription was created.
    SubscriptionCreated,
    /// A subscription changed (plan, status, period, cancel at period end).
    SubscriptionUpdated,
    /// A subscription ended.
    SubscriptionCanceled,
    /// A payment failed.
    SubscriptionPaymentFailed,
    /// A quota threshold (80, 90 or 100 %) was reached.
    UsageThresholdReached,
    /// The tenant's name, slug, branding or settings changed.
    TenantUpdated,
    /// A platform admin suspended the tenant.
    TenantSuspended,
    /// A platform admin reactivated the tenant.
    TenantReactivated,
    /// An owner scheduled the tenant's deletion.
    TenantDeletionScheduled,
    /// An owner cancelled the tenant's deletion.
    TenantDeletionCanceled,
}

impl EventType {
    pub const ALL: [EventType; 19] = [
        Self::MemberJoined,
        Self::MemberRoleChanged,
        Self::MemberRemoved,
        Self::InvitationCreated,
        Self::InvitationAccepted,
        Self::InvitationRevoked,
        Self::ApiKeyCreated,
        Self::ApiKeyRotated,
        Self::ApiKeyRevoked,
        Self::SubscriptionCreated,
        Self::SubscriptionUpdated,
        Self::SubscriptionCanceled,
        Self::SubscriptionPaymentFailed,
        Self::UsageThresholdReached,
        Self::TenantUpdated,
        Self::TenantSuspended,
        Self::TenantReactivated,
        Self::TenantDeletionScheduled,
        Self::TenantDeletionCanceled,
    ];

    /// The type's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MemberJoined => "member.joined",
            Self::MemberRoleChanged => "member.role_changed",
            Self::MemberRemoved => "member.removed",
            Self::InvitationCreated => "invitation.created",
            Self::InvitationAccepted => "invitation.accepted",
            Self::InvitationRevoked => "invitation.revoked",
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyRotated => "api_key.rotated",
            Self::ApiKeyRevoked => "api_key.revoked",
            Self::SubscriptionCreated => "subscription.created",
            Self::SubscriptionUpdated => "subscription.updated",
            Self::SubscriptionCanceled => "subscription.canceled",
            Self::SubscriptionPaymentFailed => "subscription.payment_failed",
            Self::UsageThresholdReached => "usage.threshold_reached",
            Self::TenantUpdated => "tenant.updated",
            Self::TenantSuspended => "tenant.suspended",
            Self::TenantReactivated => "tenant.reactivated",
            Self::TenantDeletionScheduled => "tenant.deletion_scheduled",
            Self::TenantDeletionCanceled => "tenant.deletion_canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Writes `event` of `tenant` into the outbox, inside the caller's
/// transaction (which must be scoped to `tenant`, or be the platform admins'
/// path). `data` is the event's `data` object as endpoints receive it: ids,
/// names and the changed values, never a secret; its `tenantId` is set here
/// (every event carries it, and no call site can forget or misstate it).
pub async fn emit(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    event: EventType,
    data: serde_json::Value,
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    webhooks::insert_event(conn, id, tenant, event.as_str(), with_tenant(data, tenant)).await?;
    Ok(id)
}

/// Like [`emit`], with the event's id given: an event with that id already
/// written (the same cause worked twice) is not written again. Returns
/// whether it was written.
pub async fn emit_once(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    tenant: Uuid,
    event: EventType,
    data: serde_json::Value,
) -> QueryResult<bool> {
    webhooks::insert_event_once(conn, id, tenant, event.as_str(), with_tenant(data, tenant)).await
}

/// Writes a `webhook.test` event (not an [`EventType`]: it is delivered
/// to the one endpoint `sendTestWebhook` names), its `data` given
/// `tenantId` like every other event's; its id.
pub async fn emit_test(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    data: serde_json::Value,
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    webhooks::insert_event(
        conn,
        id,
        tenant,
        endpoints::TEST_EVENT,
        with_tenant(data, tenant),
    )
    .await?;
    Ok(id)
}

/// `data` with `tenantId` set to `tenant` (an object always; anything else
/// is wrapped as `{"tenantId", "value"}`, which no call site sends).
fn with_tenant(data: serde_json::Value, tenant: Uuid) -> serde_json::Value {
    let mut object = match data {
        serde_json::Value::Object(object) => object,
        other => {
            let mut object = serde_json::Map::new();
            object.insert("value".into(), other);
            object
        }
    };
    object.insert(
        "tenantId".into(),
        serde_json::Value::String(tenant.to_string()),
    );
    serde_json::Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_fit_the_table_check() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            let (group, name) = t.as_str().split_once('.').unwrap();
            assert!(!group.is_empty() && !name.is_empty() && !name.contains('.'));
            assert!(
                t.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
            );
        }
        assert_eq!(EventType::parse("member.nope"), None);
    }

    #[test]
    fn every_event_carries_its_tenant() {
        let tenant = Uuid::now_v7();
        let other = Uuid::now_v7();
        let data = with_tenant(serde_json::json!({ "a": 1, "tenantId": other }), tenant);
        assert_eq!(
            data["tenantId"],
            tenant.to_string(),
            "the emitter's tenant wins"
        );
        assert_eq!(data["a"], 1);
        assert_eq!(
            with_tenant(serde_json::json!(null), tenant)["tenantId"],
            tenant.to_string()
        );
    }
}

// Delivery: endpoints, signing, the SSRF guard, the worker.
pub mod access;
pub mod deliver;
pub mod endpoints;
pub mod reads;
pub mod secret;
pub mod sends;
pub mod service;
pub mod sign;
pub mod ssrf;
pub mod target;
pub mod tenant;
pub mod upkeep;
pub mod worker;

pub use service::{WebhookSettings, Webhooks};
