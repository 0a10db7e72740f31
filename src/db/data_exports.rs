//! Data exports (`data_exports`) and their download links
//! (`data_export_links`): requests, the worker's claims and leases, pages,
//! links minted and spent. Tenant exports are read in that tenant's scope, a
//! person's in that user's own scope (no tenant); the worker finds work
//! through `tg_data_export_claim` and `tg_data_exports_expiring`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Bool, Bytea, Int2, Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Columns of an export row, in [`Export`]'s order.
const COLUMNS: &str = "id, tenant_id, user_id, requested_by, status, progress, attempts, \
     created_at, started_at, finished_at, expires_at, size_bytes, sha256, error";

/// One export.
#[derive(Debug, Clone, QueryableByName)]
pub struct Export {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// The tenant of a tenant export; `None` for a person's.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub tenant_id: Option<Uuid>,
    /// The person of a personal export; `None` for a tenant's.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub requested_by: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Int2)]
    pub progress: i16,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub started_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Int8>)]
    pub size_bytes: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub sha256: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
}

/// Whose exports: a tenant's, or a person's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Tenant(Uuid),
    Person(Uuid),
}

impl Owner {
    fn column(self) -> (&'static str, Uuid) {
        match self {
            Self::Tenant(id) => ("tenant_id", id),
            Self::Person(id) => ("user_id", id),
        }
    }
}

impl Export {
    /// Whose export this is.
    pub fn owner(&self) -> Owner {
        match (self.tenant_id, self.user_id) {
            (Some(t), _) => Owner::Tenant(t),
            (None, Some(u)) => Owner::Person(u),
            (None, None) => unreachable!("a CHECK constraint gives every export an owner"),
        }
    }
}

/// Queues a new export for `owner`, asked for by `requested_by`. A unique
/// index allows one queued or running export per owner: a second is a unique
/// violation (the caller answers CONFLICT).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    owner: Owner,
    requested_by: Uuid,
) -> QueryResult<Export> {
    let (tenant, user) = match owner {
        Owner::Tenant(t) => (Some(t), None),
        Owner::Person(u) => (None, Some(u)),
    };
    diesel::sql_query(format!(
        "INSERT INTO data_exports (id, tenant_id, user_id, requested_by) VALUES ($1, $2, $3, $4)
         RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<SqlUuid>, _>(tenant)
    .bind::<Nullable<SqlUuid>, _>(user)
    .bind::<SqlUuid, _>(requested_by)
    .get_result(conn)
    .await
}

#[derive(QueryableByName)]
struct Recent {
    #[diesel(sql_type = Int8)]
    n: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest: Option<DateTime<Utc>>,
}

/// How many exports `owner` asked for since `since`, and the oldest of them.
pub async fn requested_since(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    since: DateTime<Utc>,
) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    let (column, id) = owner.column();
    let r: Recent = diesel::sql_query(format!(
        "SELECT count(*) AS n, min(created_at) AS oldest FROM data_exports
         WHERE {column} = $1 AND created_at >= $2"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Timestamptz, _>(since)
    .get_result(conn)
    .await?;
    Ok((r.n, r.oldest))
}

/// One export of `owner` (as the scope's policies allow).
pub async fn find(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    id: Uuid,
) -> QueryResult<Option<Export>> {
    let (column, owner_id) = owner.column();
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM data_exports WHERE id = $1 AND {column} = $2"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(owner_id)
    .get_result(conn)
    .await
    .optional()
}

/// A page of `owner`'s exports, newest first, after the cursor position.
pub async fn page(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Export>> {
    let (column, id) = owner.column();
    let (at, after_id) = after.unzip();
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM data_exports WHERE {column} = $1
           AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(after_id)
    .bind::<Int8, _>(limit + 1)
    .load(conn)
    .await
}

/// A claimed export (see `tg_data_export_claim`).
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub tenant_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub requested_by: Option<Uuid>,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
}

/// Claims the next queued export (or one whose lease ran out) for `worker`.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    worker: Uuid,
    lease_secs: i32,
) -> QueryResult<Option<Claimed>> {
    diesel::sql_query(
        "SELECT id, tenant_id, user_id, requested_by, attempts FROM tg_data_export_claim($1, $2)",
    )
    .bind::<SqlUuid, _>(worker)
    .bind::<Int4, _>(lease_secs)
    .get_result(conn)
    .await
    .optional()
}

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = Bool)]
    ok: bool,
}

/// Records progress and extends `worker`'s lease; `false` when the lease is
/// no longer this worker's (it ran out and another instance took over).
pub async fn heartbeat(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    worker: Uuid,
    progress: i16,
    lease_secs: i32,
) -> QueryResult<bool> {
    let rows = diesel::sql_query(
        "UPDATE data_exports SET progress = $3, leased_until = now() + make_interval(secs => $4)
         WHERE id = $1 AND leased_by = $2 AND status = 'running'",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(worker)
    .bind::<Int2, _>(progress)
    .bind::<Int4, _>(lease_secs)
    .execute(conn)
    .await?;
    Ok(rows == 1)
}

/// Marks `worker`'s export ready; `false` when the lease was lost.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    worker: Uuid,
    size: i64,
    sha256: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<Option<Export>> {
    diesel::sql_query(format!(
        "UPDATE data_exports SET status = 'ready', progress = 100, finished_at = now(),
                expires_at = $5, size_bytes = $3, sha256 = $4, leased_until = NULL, error = NULL
         WHERE id = $1 AND leased_by = $2 AND status = 'running'
         RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(worker)
    .bind::<Int8, _>(size)
    .bind::<Text, _>(sha256)
    .bind::<Timestamptz, _>(expires_at)
    .get_result(conn)
    .await
    .optional()
}

/// Gives up `worker`'s export: `failed` with `error` (shown to the owner),
/// or back to `queued` for another try; `false` when the lease was lost.
pub async fn give_up(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    worker: Uuid,
    error: &str,
    retry: bool,
) -> QueryResult<bool> {
    let rows = diesel::sql_query(
        "UPDATE data_exports SET status = CASE WHEN $4 THEN 'queued' ELSE 'failed' END,
                finished_at = CASE WHEN $4 THEN NULL ELSE now() END,
                leased_until = NULL, error = $3
         WHERE id = $1 AND leased_by = $2 AND status = 'running'",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(worker)
    .bind::<Text, _>(error)
    .bind::<Bool, _>(retry)
    .execute(conn)
    .await?;
    Ok(rows == 1)
}

/// An export past its expiry, whose file is to be deleted.
#[derive(Debug, Clone, QueryableByName)]
pub struct Expiring {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub tenant_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<Uuid>,
}

/// Up to `n` ready exports past their expiry, of every tenant and person.
pub async fn expiring(conn: &mut AsyncPgConnection, n: i32) -> QueryResult<Vec<Expiring>> {
    diesel::sql_query("SELECT id, tenant_id, user_id FROM tg_data_exports_expiring($1)")
        .bind::<Int4, _>(n)
        .load(conn)
        .await
}

/// Marks an export whose file was deleted as expired (its links spent).
pub async fn mark_expired(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    let r: Changed = diesel::sql_query("SELECT tg_data_export_expired($1) AS ok")
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await?;
    Ok(r.ok)
}

/// Links one user may mint for one export (a bound on the rows a caller can
/// add by reading `downloadUrl` again and again).
pub const LINKS_PER_EXPORT_AND_USER: i64 = 50;

/// Stores a download link (hashes only), in the user's scope; `false` when
/// the user already has [`LINKS_PER_EXPORT_AND_USER`] links to the export.
pub async fn insert_link(
    conn: &mut AsyncPgConnection,
    nonce_hash: &[u8],
    export: &Export,
    user_id: Uuid,
    binding_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    let rows = diesel::sql_query(
        "INSERT INTO data_export_links (nonce_hash, export_id, tenant_id, user_id, binding_hash,
                                        expires_at)
         SELECT $1, $2, $6, $3, $4, $5
         WHERE (SELECT count(*) FROM data_export_links l
                WHERE l.export_id = $2 AND l.user_id = $3) < $7",
    )
    .bind::<Bytea, _>(nonce_hash)
    .bind::<SqlUuid, _>(export.id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Bytea, _>(binding_hash)
    .bind::<Timestamptz, _>(expires_at)
    .bind::<Nullable<SqlUuid>, _>(export.tenant_id)
    .bind::<diesel::sql_types::BigInt, _>(LINKS_PER_EXPORT_AND_USER)
    .execute(conn)
    .await?;
    Ok(rows == 1)
}

/// A download link, as stored.
#[derive(Debug, Clone, QueryableByName)]
pub struct Link {
    #[diesel(sql_type = SqlUuid)]
    pub export_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Bytea)]
    pub binding_hash: Vec<u8>,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub used_at: Option<DateTime<Utc>>,
    /// The export's tenant (`None`: a personal export).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub tenant_id: Option<Uuid>,
}

/// The link with this nonce hash, locked, in the user's scope.
pub async fn lock_link(
    conn: &mut AsyncPgConnection,
    nonce_hash: &[u8],
) -> QueryResult<Option<Link>> {
    diesel::sql_query(
        "SELECT export_id, user_id, binding_hash, expires_at, used_at, tenant_id
         FROM data_export_links WHERE nonce_hash = $1 FOR UPDATE",
    )
    .bind::<Bytea, _>(nonce_hash)
    .get_result(conn)
    .await
    .optional()
}

/// Spends a link (in the user's scope).
pub async fn spend_link(conn: &mut AsyncPgConnection, nonce_hash: &[u8]) -> QueryResult<bool> {
    let rows = diesel::sql_query(
        "UPDATE data_export_links SET used_at = now() WHERE nonce_hash = $1 AND used_at IS NULL",
    )
    .bind::<Bytea, _>(nonce_hash)
    .execute(conn)
    .await?;
    Ok(rows == 1)
}

#[derive(QueryableByName)]
struct RoleRow {
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Text)]
    status: String,
}

/// `user`'s role in `tenant` and the tenant's status (in the tenant's scope).
pub async fn member_role(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    user: Uuid,
) -> QueryResult<Option<(String, String)>> {
    let row: Option<RoleRow> = diesel::sql_query(
        "SELECT m.role, t.status FROM memberships m JOIN tenants t ON t.id = m.tenant_id
         WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(user)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|r| (r.role, r.status)))
}

/// The ids of `owner`'s exports (to delete their files).
pub async fn ids_of(conn: &mut AsyncPgConnection, owner: Owner) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let (column, id) = owner.column();
    let rows: Vec<Id> =
        diesel::sql_query(format!("SELECT id FROM data_exports WHERE {column} = $1"))
            .bind::<SqlUuid, _>(id)
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Deletes `owner`'s export rows (and their links) through
/// `tg_data_exports_delete`, which re-checks that the tenant is being
/// deleted, or that the person is the transaction's own user. Returns how
/// many went.
pub async fn delete_all(conn: &mut AsyncPgConnection, owner: Owner) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = Int8)]
        n: i64,
    }
    let (tenant, user) = match owner {
        Owner::Tenant(t) => (Some(t), None),
        Owner::Person(u) => (None, Some(u)),
    };
    let r: N = diesel::sql_query("SELECT tg_data_exports_delete($1, $2) AS n")
        .bind::<Nullable<SqlUuid>, _>(tenant)
        .bind::<Nullable<SqlUuid>, _>(user)
        .get_result(conn)
        .await?;
    Ok(r.n)
}

/// Announces a change of an export to every instance (`tenantgate_exports`,
/// on commit): only ids, each subscriber reads the row in its own scope.
pub async fn announce(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    tenant_id: Option<Uuid>,
    user_id: Option<Uuid>,
) -> QueryResult<()> {
    let payload = serde_json::json!({
        "id": id,
        "tenant_id": tenant_id,
        "user_id": user_id,
    })
    .to_string();
    diesel::sql_query("SELECT pg_notify('tenantgate_exports', $1)")
        .bind::<Text, _>(payload)
        .execute(conn)
        .await?;
    Ok(())
}
