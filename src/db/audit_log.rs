//! The audit trail's table: appending entries, pages of them, one by id.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::schema::audit_log;

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

/// A new entry, as stored (`audit::record` builds it).
#[derive(Debug)]
pub struct NewEntry<'a> {
    pub tenant_id: Option<Uuid>,
    pub actor_type: &'a str,
    pub actor_id: Option<Uuid>,
    pub actor_label: Option<String>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<String>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Appends `entry` (inside the caller's transaction); its new id.
pub async fn insert(conn: &mut AsyncPgConnection, entry: NewEntry<'_>) -> QueryResult<Uuid> {
    let ids = insert_many(conn, vec![entry]).await?;
    Ok(ids[0])
}

/// Appends `entries` in one statement (inside the caller's transaction);
/// their new ids, in order. The ids are made here: the runtime role may not
/// read the trail back (`RETURNING` would need it to).
pub async fn insert_many(
    conn: &mut AsyncPgConnection,
    entries: Vec<NewEntry<'_>>,
) -> QueryResult<Vec<Uuid>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = entries.iter().map(|_| Uuid::now_v7()).collect();
    let rows: Vec<_> = entries
        .into_iter()
        .zip(&ids)
        .map(|(entry, id)| {
            (
                audit_log::id.eq(*id),
                audit_log::tenant_id.eq(entry.tenant_id),
                audit_log::actor_type.eq(entry.actor_type),
                audit_log::actor_id.eq(entry.actor_id),
                audit_log::actor_label.eq(entry.actor_label),
                audit_log::action.eq(entry.action),
                audit_log::target_type.eq(entry.target_type),
                audit_log::target_id.eq(entry.target_id),
                audit_log::ip.eq(entry.ip),
                audit_log::user_agent.eq(entry.user_agent),
                audit_log::request_id.eq(entry.request_id),
                audit_log::before.eq(entry.before),
                audit_log::after.eq(entry.after),
            )
        })
        .collect();
    diesel::insert_into(audit_log::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(ids)
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
        query = query.filter(super::keyset(
            "audit_log.created_at, audit_log.id",
            super::Keyset::Before,
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

/// Deletes at most `batch` entries past their retention (the tenant's plan's
/// `audit_retention_days`; the platform trail's `audit_settings`) through
/// `tg_audit_retention`; how many, or -1 when another instance runs the job
/// or a lock did not come in time.
pub async fn expire(conn: &mut AsyncPgConnection, batch: i32) -> QueryResult<i64> {
    use diesel::sql_types::{BigInt, Integer};
    #[derive(QueryableByName)]
    struct Expired {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let expired: Expired = diesel::sql_query("SELECT tg_audit_retention($1) AS n")
        .bind::<Integer, _>(batch)
        .get_result(conn)
        .await?;
    Ok(expired.n)
}

/// Sets how many days the platform's own trail is kept (run as the owner:
/// the runtime roles have no access to `audit_settings`).
pub async fn set_platform_retention(conn: &mut AsyncPgConnection, days: i32) -> QueryResult<()> {
    diesel::sql_query("UPDATE audit_settings SET platform_days = $1")
        .bind::<diesel::sql_types::Integer, _>(days)
        .execute(conn)
        .await?;
    Ok(())
}

/// The database's clock now (`clock_timestamp()`: the clock entries are
/// stamped with).
pub async fn clock(conn: &mut AsyncPgConnection) -> QueryResult<DateTime<Utc>> {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        at: DateTime<Utc>,
    }
    let now: Now = diesel::sql_query("SELECT clock_timestamp() AS at")
        .get_result(conn)
        .await?;
    Ok(now.at)
}
