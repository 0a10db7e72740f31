//! The audit trail: who did what, to what, when and from where.
//!
//! Every mutation writes its entry with [`record`] on the same connection, inside
//! the same transaction as the change, so an entry exists exactly when its change
//! does. The table is append-only for the runtime role. New entries are announced
//! with NOTIFY and fanned out to live subscribers by [`feed`].

pub mod feed;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::audit_log;

/// Where a request came from; put in the GraphQL context by the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
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

/// A stored entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct Stored {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub actor_label: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// Appends `entry` on `conn` (inside the caller's transaction).
pub async fn record(
    conn: &mut AsyncPgConnection,
    meta: &RequestMeta,
    entry: Entry,
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    let (actor_type, actor_id, actor_label) = entry.actor.parts();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(id),
            audit_log::tenant_id.eq(entry.tenant_id),
            audit_log::actor_type.eq(actor_type),
            audit_log::actor_id.eq(actor_id),
            audit_log::actor_label.eq(actor_label),
            audit_log::action.eq(entry.action),
            audit_log::target_type.eq(entry.target_type),
            audit_log::target_id.eq(entry.target_id),
            audit_log::ip.eq(meta.ip.as_deref()),
            audit_log::user_agent.eq(meta.user_agent.as_deref()),
            audit_log::request_id.eq(Some(meta.request_id.as_str())),
            audit_log::before.eq(entry.before),
            audit_log::after.eq(entry.after),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// Filters of an audit-log page.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub action: Option<String>,
    pub actor_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// A page of entries of the scope's tenant, newest first, after the cursor
/// `(created_at, id)`; `limit + 1` rows are read to know whether more exist.
pub async fn page(
    conn: &mut AsyncPgConnection,
    tenant_id: Option<Uuid>,
    filter: &Filter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Stored>> {
    let mut query = audit_log::table
        .select(Stored::as_select())
        .order((audit_log::created_at.desc(), audit_log::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some(tenant_id) = tenant_id {
        query = query.filter(audit_log::tenant_id.eq(tenant_id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(actor));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::created_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_log::created_at.lt(until));
    }
    if let Some((at, id)) = after {
        query = query.filter(crate::db::keyset(
            "audit_log.created_at, audit_log.id",
            crate::db::Keyset::Before,
            at,
            id,
        ));
    }
    query.load(conn).await
}

/// One entry by id, if the scope may see it.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Stored>> {
    audit_log::table
        .find(id)
        .select(Stored::as_select())
        .first(conn)
        .await
        .optional()
}
