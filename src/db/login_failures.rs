//! `login_failures`: the attempt counters behind `auth::throttle`'s budgets
//! (one row per key, a fixed window each).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Array, Double, Integer, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A key's attempts in its current window.
#[derive(Debug, diesel::QueryableByName)]
pub struct Counted {
    #[diesel(sql_type = Integer)]
    pub failures: i32,
    #[diesel(sql_type = Timestamptz)]
    pub window_start: DateTime<Utc>,
}

/// Counts one attempt of `key` atomically (a window older than `window`
/// starts again at one) and returns the count.
pub async fn count(
    conn: &mut AsyncPgConnection,
    key: &str,
    window: Duration,
) -> QueryResult<Counted> {
    diesel::sql_query(
        "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, now(), 1)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_failures.window_start
                                < now() - make_interval(secs => $2)
                           THEN 1 ELSE login_failures.failures + 1 END,
           window_start = CASE WHEN login_failures.window_start
                                    < now() - make_interval(secs => $2)
                               THEN now() ELSE login_failures.window_start END
         RETURNING failures, window_start",
    )
    .bind::<Text, _>(key)
    .bind::<Double, _>(window.as_secs_f64())
    .get_result(conn)
    .await
}

/// Gives back one attempt of each key.
pub async fn give_back(conn: &mut AsyncPgConnection, keys: Vec<String>) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = ANY($1)",
    )
    .bind::<Array<Text>, _>(keys)
    .execute(conn)
    .await
    .map(drop)
}

/// Forgets a key's attempts.
pub async fn forget(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM login_failures WHERE key = $1")
        .bind::<Text, _>(key)
        .execute(conn)
        .await
        .map(drop)
}

/// Notes that `key` was seen now (a network an account signed in from).
pub async fn remember(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, now(), 0)
         ON CONFLICT (key) DO UPDATE SET window_start = now(), failures = 0",
    )
    .bind::<Text, _>(key)
    .execute(conn)
    .await
    .map(drop)
}

/// Whether `key` was noted by [`remember`] within `within`.
pub async fn remembered(
    conn: &mut AsyncPgConnection,
    key: &str,
    within: Duration,
) -> QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let row: Found = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM login_failures WHERE key = $1
                        AND window_start > now() - make_interval(secs => $2)) AS found",
    )
    .bind::<Text, _>(key)
    .bind::<Double, _>(within.as_secs_f64())
    .get_result(conn)
    .await?;
    Ok(row.found)
}
