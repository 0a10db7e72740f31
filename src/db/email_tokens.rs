//! `email_tokens`: the hashes of emailed links (sign-in, password reset,
//! email verification), each usable once before it expires.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{email_tokens, users};

/// Stores a link's hash for `user_id`.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    purpose: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(token_hash),
            email_tokens::user_id.eq(user_id),
            email_tokens::purpose.eq(purpose),
            email_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Marks the live link with this hash used; how many were (0 or 1).
pub async fn spend(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    purpose: &str,
) -> QueryResult<usize> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::token_hash.eq(token_hash))
            .filter(email_tokens::user_id.eq(user_id))
            .filter(email_tokens::purpose.eq(purpose))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(email_tokens::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// The email of the user of the live link with this hash, if there is one.
pub async fn live_email(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    purpose: &str,
) -> QueryResult<Option<String>> {
    email_tokens::table
        .inner_join(users::table)
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::user_id.eq(user_id))
        .filter(email_tokens::purpose.eq(purpose))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(diesel::dsl::now))
        .select(users::email)
        .first(conn)
        .await
        .optional()
}

/// Marks every unused link of the user used; how many were.
pub async fn spend_all(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user_id))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}
