//! The audit trail: who did what, to what, when and from where.
//!
//! Every mutation writes its entry with [`record`] on the same connection, inside
//! the same transaction as the change, so an entry exists exactly when its change
//! does. The table is append-only for the runtime role. New entries are announced
//! with NOTIFY and fanned out to live subscribers by [`feed`].

pub mod export;
pub mod feed;
pub mod retention;

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use uuid::Uuid;

use crate::db::audit_log;
pub use crate::db::audit_log::{Filter, Stored, find, page};

/// Where a request came from; put in the GraphQL context by the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The tenant whose custom domain the request came on: sessions it opens
    /// are bound to that tenant (never its subdomain of the base domain,
    /// which is ours). Set by the HTTP layer from the host, never by clients.
    pub bound_tenant: Option<Uuid>,
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User {
        id: Uuid,
        email: Option<String>,
    },
    PlatformAdmin {
        id: Uuid,
    },
    /// An API key, with its display prefix as the label.
    ApiKey {
        id: Uuid,
        label: String,
    },
    Anonymous,
    System,
    /// Stripe, through the event (its id as the label) or the read that
    /// changed something.
    Stripe {
        event: Option<String>,
    },
}

impl Actor {
    /// A user known by id only.
    pub fn user(id: Uuid) -> Self {
        Self::User { id, email: None }
    }

    fn parts(&self) -> (&'static str, Option<Uuid>, Option<String>) {
        match self {
            Self::User { id, email } => ("user", Some(*id), email.clone()),
            Self::PlatformAdmin { id } => ("platform_admin", Some(*id), None),
            Self::ApiKey { id, label } => ("api_key", Some(*id), Some(label.clone())),
            Self::Anonymous => ("anonymous", None, None),
            Self::System => ("system", None, None),
            Self::Stripe { event } => ("stripe", None, event.clone()),
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry {
    pub tenant_id: Option<Uuid>,
    pub actor: Actor,
    pub action: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Entry {
    /// An entry of `action` in `tenant_id` by `actor`.
    pub fn new(tenant_id: Option<Uuid>, actor: Actor, action: &'static str) -> Self {
        Self {
            tenant_id,
            actor,
            action,
            target_type: None,
            target_id: None,
            before: None,
            after: None,
        }
    }

    /// What the action was done to.
    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target_type = Some(kind);
        self.target_id = Some(id.to_string());
        self
    }

    /// The state before and after (either may be absent).
    pub fn change(mut self, before: Option<Value>, after: Option<Value>) -> Self {
        self.before = before;
        self.after = after;
        self
    }
}

/// Appends `entry` on `conn` (inside the caller's transaction).
pub async fn record(
    conn: &mut AsyncPgConnection,
    meta: &RequestMeta,
    entry: Entry,
) -> QueryResult<Uuid> {
    audit_log::insert(conn, stored(meta, entry)).await
}

/// Records several entries in one statement (e.g. one in each tenant of a
/// page an admin listed).
pub async fn record_many(
    conn: &mut AsyncPgConnection,
    meta: &RequestMeta,
    entries: Vec<Entry>,
) -> QueryResult<Vec<Uuid>> {
    let rows = entries.into_iter().map(|e| stored(meta, e)).collect();
    audit_log::insert_many(conn, rows).await
}

fn stored(meta: &RequestMeta, entry: Entry) -> audit_log::NewEntry<'_> {
    let (actor_type, actor_id, actor_label) = entry.actor.parts();
    audit_log::NewEntry {
        tenant_id: entry.tenant_id,
        actor_type,
        actor_id,
        actor_label,
        action: entry.action,
        target_type: entry.target_type,
        target_id: entry.target_id,
        ip: meta.ip.as_deref(),
        user_agent: meta.user_agent.as_deref(),
        request_id: Some(meta.request_id.as_str()),
        before: entry.before,
        after: entry.after,
    }
}
