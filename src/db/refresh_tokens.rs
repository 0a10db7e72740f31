//! Refresh tokens: one row per token of a session's family, stored as a hash;
//! rotating marks the old one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::refresh_tokens;

/// Inserts a refresh token (its hash) of `session_id`.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
    session_id: Uuid,
    user_id: Uuid,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::user_id.eq(user_id),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The session of the token with this hash and when it was rotated, the row
/// locked until the transaction ends; `None` for an unknown token.
pub async fn lock(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<(Uuid, Option<DateTime<Utc>>)>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select((refresh_tokens::session_id, refresh_tokens::rotated_at))
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks the token with this hash rotated (now).
pub async fn mark_rotated(conn: &mut AsyncPgConnection, hash: &[u8]) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(hash))
        .set(refresh_tokens::rotated_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .map(drop)
}
