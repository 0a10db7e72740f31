//! LISTEN/NOTIFY connections of their own (outside the pool): the audit feed,
//! key-cache announcements, heartbeats and the start-up probe.

use diesel::QueryResult;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// A new connection to `url`, named `name` in `pg_stat_activity`. `name` is
/// one of our constants, never user input.
pub async fn connect(url: &str, name: &str) -> anyhow::Result<AsyncPgConnection> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel::sql_query(format!("SET application_name = '{name}'"))
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// Sends `payload` on `channel` (`pg_notify`).
pub async fn notify(conn: &mut AsyncPgConnection, channel: &str, payload: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(channel)
        .bind::<Text, _>(payload)
        .execute(conn)
        .await
        .map(drop)
}

/// Sends each of `payloads` on `channel`, in one statement
/// (`pg_notify` over `unnest`).
pub async fn notify_each(
    conn: &mut AsyncPgConnection,
    channel: &str,
    payloads: &[String],
) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, t) FROM unnest($2::text[]) t")
        .bind::<Text, _>(channel)
        .bind::<diesel::sql_types::Array<Text>, _>(payloads)
        .execute(conn)
        .await
        .map(drop)
}

/// Starts listening on `channel` (one of our own names: identifiers cannot
/// be bound as parameters).
pub async fn listen(conn: &mut AsyncPgConnection, channel: &str) -> QueryResult<()> {
    diesel::sql_query(format!("LISTEN {channel}"))
        .execute(conn)
        .await
        .map(drop)
}

/// The server process behind the connection (`pg_backend_pid()`).
pub async fn backend_pid(conn: &mut AsyncPgConnection) -> QueryResult<i32> {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)
        .await
        .map(|p| p.pid)
}
