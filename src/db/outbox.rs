//! The email outbox: messages recorded in the transaction that sends them
//! (bodies sealed), the newest for the admins, and the dispatcher's queue.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::email_outbox;

/// A message as stored (its body sealed).
#[derive(Queryable, Selectable)]
#[diesel(table_name = email_outbox)]
pub struct Stored {
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub sealed_body: Option<Vec<u8>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Records a message (inside the caller's transaction).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    recipient: &str,
    subject: &str,
    sealed_body: &[u8],
) -> QueryResult<()> {
    diesel::insert_into(email_outbox::table)
        .values((
            email_outbox::id.eq(id),
            email_outbox::recipient.eq(recipient),
            email_outbox::subject.eq(subject),
            email_outbox::sealed_body.eq(sealed_body),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The newest `limit` messages.
pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Stored>> {
    email_outbox::table
        .order((email_outbox::created_at.desc(), email_outbox::id.desc()))
        .limit(limit)
        .select(Stored::as_select())
        .load(conn)
        .await
}
