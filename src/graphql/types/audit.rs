//! The `AuditEntry` type.

use async_graphql::{ID, Json, Object};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::audit::Stored;

/// One entry of the audit trail.
pub struct AuditEntry(pub Stored);

/// Who did what, to what, when and from where. Append-only.
#[Object]
impl AuditEntry {
    /// The entry's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What happened, e.g. `member.role_change`, `session.login`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// The kind of actor: `user`, `api_key`, `platform_admin`, `stripe`, `system`, `anonymous`.
    async fn actor_type(&self) -> &str {
        &self.0.actor_type
    }

    /// The actor's id (a user or key id), when there is one.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| ID(id.to_string()))
    }

    /// A readable name of the actor (e.g. an email), when known.
    async fn actor_label(&self) -> Option<&str> {
        self.0.actor_label.as_deref()
    }

    /// The kind of thing acted on (`user`, `invitation`, `tenant`, `session`, …).
    async fn target_type(&self) -> Option<&str> {
        self.0.target_type.as_deref()
    }

    /// The id of the thing acted on.
    async fn target_id(&self) -> Option<&str> {
        self.0.target_id.as_deref()
    }

    /// The client address of the request.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }

    /// The client's user agent.
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }

    /// The request id (the `x-request-id` of the request that did it).
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The state before the change, when it matters.
    async fn before(&self) -> Option<Json<Value>> {
        self.0.before.clone().map(Json)
    }

    /// The state after the change, when it matters.
    async fn after(&self) -> Option<Json<Value>> {
        self.0.after.clone().map(Json)
    }

    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
