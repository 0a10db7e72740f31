//! The email outbox: messages recorded in the transaction that sends them
//! (bodies sealed), the newest for the admins, and the dispatcher's queue
//! (the due message locked, sent or failed).

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

/// A message due for delivery, locked for the dispatcher's transaction.
#[derive(diesel::QueryableByName)]
pub struct Due {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub recipient: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub subject: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bytea>)]
    pub sealed_body: Option<Vec<u8>>,
}

/// The next due message, locked until the transaction ends; messages other
/// dispatchers hold are skipped (`FOR UPDATE SKIP LOCKED`).
pub async fn lock_next_due(conn: &mut AsyncPgConnection) -> QueryResult<Option<Due>> {
    diesel::sql_query(
        "SELECT id, recipient, subject, sealed_body FROM email_outbox
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .get_result::<Due>(conn)
    .await
    .optional()
}

/// Marks a message delivered and removes its body (and its links).
pub async fn mark_sent(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(email_outbox::table.find(id))
        .set((
            email_outbox::sent_at.eq(diesel::dsl::now),
            email_outbox::attempts.eq(email_outbox::attempts + 1),
            email_outbox::last_error.eq(None::<String>),
            email_outbox::sealed_body.eq(None::<Vec<u8>>),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Records a failed send: retried after attempts² seconds (1 s, 4 s, 9 s …),
/// given up (`failed_at`) once `max_attempts` is reached.
pub async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    error: &str,
    max_attempts: i32,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE email_outbox SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = now() + make_interval(secs => (attempts + 1) * (attempts + 1)),
                failed_at = CASE WHEN attempts + 1 >= $3 THEN now() END
         WHERE id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Text, _>(error)
    .bind::<diesel::sql_types::Integer, _>(max_attempts)
    .execute(conn)
    .await
    .map(drop)
}
