//! Outgoing webhooks: the event outbox (`webhook_events`).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::webhook_events;

/// Inserts an event unless one with its id exists; whether it did.
pub async fn insert_event_once(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    tenant: Uuid,
    event_type: &str,
    payload: serde_json::Value,
) -> QueryResult<bool> {
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::id.eq(id),
            webhook_events::tenant_id.eq(tenant),
            webhook_events::event_type.eq(event_type),
            webhook_events::payload.eq(payload),
        ))
        .on_conflict(webhook_events::id)
        .do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Appends one event (inside the caller's transaction).
pub async fn insert_event(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    tenant: Uuid,
    event_type: &str,
    payload: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::id.eq(id),
            webhook_events::tenant_id.eq(tenant),
            webhook_events::event_type.eq(event_type),
            webhook_events::payload.eq(payload),
        ))
        .execute(conn)
        .await
        .map(drop)
}
