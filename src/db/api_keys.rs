//! API keys: rows and queries (no secrets: hashes only).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Bytea, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::api_keys;
use super::{Keyset, keyset};

/// An API key row (what the tenant's members may see of it).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub created_by: Option<Uuid>,
    pub name: String,
    pub environment: String,
    pub display_prefix: String,
    pub previous_valid_until: Option<DateTime<Utc>>,
    pub scopes: Vec<Option<String>>,
    pub rate_limit: Option<i32>,
    pub rate_limit_period: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A key's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    /// A new secret was issued; the previous one works until its deadline.
    Rotating,
    Revoked,
    Expired,
}

impl ApiKey {
    pub fn state(&self, now: DateTime<Utc>) -> KeyState {
        if self.revoked_at.is_some() {
            KeyState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyState::Expired
        } else if self.previous_valid_until.is_some_and(|at| at > now) {
            KeyState::Rotating
        } else {
            KeyState::Active
        }
    }

    pub fn scope_names(&self) -> Vec<String> {
        self.scopes.iter().flatten().cloned().collect()
    }
}

/// What a new key is made of.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub created_by: Option<Uuid>,
    pub name: &'a str,
    pub environment: &'a str,
    pub display_prefix: &'a str,
    pub secret_hash: &'a [u8],
    pub scopes: Vec<String>,
    pub rate_limit: Option<i32>,
    pub rate_limit_period: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewApiKey<'_>) -> QueryResult<ApiKey> {
    diesel::insert_into(api_keys::table)
        .values(new)
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
}

/// The key `id` of `tenant_id`, if the scope may see it.
pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::tenant_id.eq(tenant_id))
        .filter(api_keys::id.eq(id))
        .select(ApiKey::as_select())
        .get_result(conn)
        .await
        .optional()
}

/// The key `id` of `tenant_id`, locked for a change (`FOR UPDATE`).
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::tenant_id.eq(tenant_id))
        .filter(api_keys::id.eq(id))
        .select(ApiKey::as_select())
        .for_update()
        .get_result(conn)
        .await
        .optional()
}

/// The keys `ids` of `tenant_id`, locked for a change in id order (so two
/// transactions locking overlapping keys never wait on each other in a cycle).
pub async fn lock(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .filter(api_keys::tenant_id.eq(tenant_id))
        .filter(api_keys::id.eq_any(ids))
        .order(api_keys::id)
        .select(ApiKey::as_select())
        .for_update()
        .load(conn)
        .await
}

/// The keys `user_id` made in `tenant_id` (themselves or through a key they
/// made) that still work or could, locked in id order.
pub async fn lock_made_by(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .filter(api_keys::tenant_id.eq(tenant_id))
        .filter(api_keys::created_by.eq(user_id))
        .filter(api_keys::revoked_at.is_null())
        .filter(
            api_keys::expires_at
                .is_null()
                .or(api_keys::expires_at.gt(diesel::dsl::now)),
        )
        .order(api_keys::id)
        .select(ApiKey::as_select())
        .for_update()
        .load(conn)
        .await
}

/// Gives `id` a new secret. With `grace_until`, the current secret becomes
/// the previous one until then (an earlier previous secret ends now);
/// without, it ends at once. One statement: the right-hand sides read the row
/// as it was.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    hash: &[u8],
    display_prefix: &str,
    grace_until: Option<DateTime<Utc>>,
) -> QueryResult<ApiKey> {
    let keep_old = grace_until.is_some();
    diesel::update(api_keys::table.find(id))
        .set((
            api_keys::previous_hash.eq(diesel::dsl::case_when(
                keep_old.into_sql::<Bool>(),
                api_keys::secret_hash.nullable(),
            )),
            api_keys::previous_valid_until.eq(grace_until),
            api_keys::secret_hash.eq(hash),
            api_keys::display_prefix.eq(display_prefix),
        ))
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
}

/// Revokes `id` now; a secret being rotated out ends with it.
pub async fn revoke(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<ApiKey> {
    diesel::update(api_keys::table.find(id))
        .set((
            api_keys::revoked_at.eq(diesel::dsl::now),
            api_keys::previous_hash.eq(None::<Vec<u8>>),
            api_keys::previous_valid_until.eq(None::<DateTime<Utc>>),
        ))
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
}

/// Sets a key's name, scopes and own rate limit `(limit, period seconds)`.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    scopes: Vec<String>,
    rate: Option<(i32, i32)>,
) -> QueryResult<ApiKey> {
    diesel::update(api_keys::table.find(id))
        .set((
            api_keys::name.eq(name),
            api_keys::scopes.eq(scopes),
            api_keys::rate_limit.eq(rate.map(|r| r.0)),
            api_keys::rate_limit_period.eq(rate.map(|r| r.1)),
        ))
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
}

/// A page of the tenant's keys, oldest first, after `(created_at, id)`.
pub async fn page(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    environment: Option<&str>,
    state: Option<KeyState>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<ApiKey>> {
    let mut query = api_keys::table
        .filter(api_keys::tenant_id.eq(tenant_id))
        .order((api_keys::created_at, api_keys::id))
        .limit(limit + 1)
        .select(ApiKey::as_select())
        .into_boxed();
    if let Some(env) = environment {
        query = query.filter(api_keys::environment.eq(env.to_owned()));
    }
    let now = diesel::dsl::now;
    query = match state {
        None => query,
        Some(KeyState::Revoked) => query.filter(api_keys::revoked_at.is_not_null()),
        Some(KeyState::Expired) => query
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::expires_at.le(now)),
        Some(KeyState::Rotating) => query
            .filter(api_keys::revoked_at.is_null())
            .filter(
                api_keys::expires_at
                    .is_null()
                    .or(api_keys::expires_at.gt(now)),
            )
            .filter(api_keys::previous_valid_until.gt(now)),
        Some(KeyState::Active) => query
            .filter(api_keys::revoked_at.is_null())
            .filter(
                api_keys::expires_at
                    .is_null()
                    .or(api_keys::expires_at.gt(now)),
            )
            .filter(
                api_keys::previous_valid_until
                    .is_null()
                    .or(api_keys::previous_valid_until.le(now)),
            ),
    };
    if let Some((at, id)) = after {
        query = query.filter(keyset(
            "api_keys.created_at, api_keys.id",
            Keyset::After,
            at,
            id,
        ));
    }
    query.load(conn).await
}

/// A row of `tg_api_key_lookup`: the key with a hash, and its tenant and plan.
#[derive(Debug, Clone, QueryableByName)]
pub struct KeyLookup {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub created_by: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub environment: String,
    #[diesel(sql_type = Text)]
    pub display_prefix: String,
    #[diesel(sql_type = Bool)]
    pub is_previous: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub valid_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    pub scopes: Vec<Option<String>>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub rate_limit: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub rate_limit_period: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    pub tenant_slug: String,
    #[diesel(sql_type = Text)]
    pub tenant_status: String,
    #[diesel(sql_type = Text)]
    pub plan_key: String,
    #[diesel(sql_type = Int4)]
    pub api_calls_per_hour: i32,
}

/// The key whose current or previous secret hashes to `hash`, if any.
pub async fn lookup(conn: &mut AsyncPgConnection, hash: &[u8]) -> QueryResult<Option<KeyLookup>> {
    diesel::sql_query("SELECT * FROM tg_api_key_lookup($1)")
        .bind::<Bytea, _>(hash)
        .get_result(conn)
        .await
        .optional()
}

/// Records when keys of the transaction's tenant were last used (only ever
/// moving forward).
pub async fn touch(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    at: &[DateTime<Utc>],
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE api_keys SET last_used_at = v.at
         FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
         WHERE api_keys.id = v.id AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < v.at)",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Timestamptz>, _>(at)
    .execute(conn)
    .await
}
