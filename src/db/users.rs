//! Users: global identities (one person, possibly many tenants).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::users;

/// A user row as the runtime role may read it (never the password hash).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The id and password hash of the account with `email`, through the one
/// database function that may read hashes.
pub async fn login_lookup(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<(Uuid, Option<String>)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        password_hash: Option<String>,
    }
    let row: Option<Row> = diesel::sql_query("SELECT id, password_hash FROM tg_login_lookup($1)")
        .bind::<diesel::sql_types::Text, _>(email)
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(|r| (r.id, r.password_hash)))
}

/// What a new user is made of.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
}

/// Inserts a user; a duplicate email is a unique violation of
/// `users_email_key`.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

/// The user with this id, if the transaction's scope may see it.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

/// The user with this email (case-insensitive), if the scope may see it (the
/// transaction needs the email-lookup capability for that exact email).
pub async fn find_by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        // Emails are stored lower-case; `=` lets the index serve under RLS.
        .filter(users::email.eq(email.to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

/// Gives the transaction the email-lookup capability for `email` (which
/// [`find_by_email`] needs under row-level security).
pub async fn allow_email_lookup(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT set_config('app.lookup_email', $1, true)")
        .bind::<diesel::sql_types::Text, _>(email)
        .execute(conn)
        .await
        .map(drop)
}

/// The first `limit` users by email whose email contains `search`
/// (case-insensitive), or all when it is empty.
pub async fn search_by_email(
    conn: &mut AsyncPgConnection,
    search: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .select(User::as_select())
        .order(users::email)
        .limit(limit)
        .into_boxed();
    if let Some(search) = search.filter(|s| !s.trim().is_empty()) {
        query = query.filter(users::email.ilike(super::like_pattern(search)));
    }
    query.load(conn).await
}

/// Marks the user's email verified (now, unless it already was).
pub async fn mark_verified(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(id)
            .filter(users::email_verified_at.is_null()),
    )
    .set(users::email_verified_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
    .map(drop)
}

/// Replaces the user's password hash.
pub async fn set_password(conn: &mut AsyncPgConnection, id: Uuid, hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(Some(hash)))
        .execute(conn)
        .await
        .map(drop)
}

/// Removes the password (the account signs in by link until a new one is set).
pub async fn clear_password(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(None::<String>))
        .execute(conn)
        .await
        .map(drop)
}

/// Inserts a user whose email is already confirmed, unless one with this id
/// or email exists (demo data).
pub async fn insert_verified_if_absent(
    conn: &mut AsyncPgConnection,
    new: &NewUser<'_>,
) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values((new, users::email_verified_at.eq(Some(chrono::Utc::now()))))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// The users with these ids, as the scope may see them (one statement).
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)
        .await
}

/// When the user confirmed their email address (`None`: not yet); NotFound
/// when the scope cannot see the user.
pub async fn email_verified_at(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<DateTime<Utc>>> {
    users::table
        .find(id)
        .select(users::email_verified_at)
        .first(conn)
        .await
}
