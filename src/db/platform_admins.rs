//! Platform admins: the users who may act across tenants. Only the owner
//! connection (the `tenantgate admin` CLI) changes this table.

use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Makes the user a platform admin; returns 1, or 0 if they already were.
pub async fn add(conn: &mut AsyncPgConnection, user_id: Uuid) -> diesel::QueryResult<usize> {
    diesel::sql_query("INSERT INTO platform_admins (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(user_id)
        .execute(conn)
        .await
}

/// Makes the user no platform admin; returns 1, or 0 if they were none.
pub async fn remove(conn: &mut AsyncPgConnection, user_id: Uuid) -> diesel::QueryResult<usize> {
    diesel::sql_query("DELETE FROM platform_admins WHERE user_id = $1")
        .bind::<SqlUuid, _>(user_id)
        .execute(conn)
        .await
}
