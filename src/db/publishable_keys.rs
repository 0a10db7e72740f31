//! Publishable keys and allowed origins: rows and queries. A publishable key
//! is not a secret (it ships in web pages): it is stored as it is.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{allowed_origins, publishable_keys, tenants};

/// A publishable key row.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = publishable_keys)]
pub struct PublishableKey {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub created_by: Option<Uuid>,
    pub name: String,
    pub environment: String,
    pub key: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a new publishable key is made of.
#[derive(Debug, Insertable)]
#[diesel(table_name = publishable_keys)]
pub struct NewPublishableKey<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub created_by: Option<Uuid>,
    pub name: &'a str,
    pub environment: &'a str,
    pub key: &'a str,
}

/// An allowed origin row.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = allowed_origins)]
pub struct AllowedOrigin {
    pub tenant_id: Uuid,
    pub origin: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// How long a revoked key is still listed.
pub const REVOKED_SHOWN_DAYS: u32 = 30;

/// Locks the tenant's row, so that counting and adding (keys, origins) is
/// one decision per tenant at a time.
pub async fn lock_tenant(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<()> {
    tenants::table
        .find(tenant)
        .select(tenants::id)
        .for_no_key_update()
        .first::<Uuid>(conn)
        .await
        .map(drop)
}

/// The transaction's tenant's publishable keys, oldest first: the working
/// ones and those revoked in the last [`REVOKED_SHOWN_DAYS`] days (older
/// revoked keys are no longer listed, so the list stays bounded).
pub async fn list(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<Vec<PublishableKey>> {
    publishable_keys::table
        .filter(publishable_keys::tenant_id.eq(tenant))
        .filter(
            publishable_keys::revoked_at
                .is_null()
                .or(
                    publishable_keys::revoked_at.gt(diesel::dsl::sql::<Nullable<Timestamptz>>(
                        &format!("now() - interval '{REVOKED_SHOWN_DAYS} days'"),
                    )),
                ),
        )
        .order((publishable_keys::created_at, publishable_keys::id))
        .select(PublishableKey::as_select())
        .load(conn)
        .await
}

/// How many of the tenant's publishable keys are not revoked.
pub async fn count_active(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<i64> {
    publishable_keys::table
        .filter(publishable_keys::tenant_id.eq(tenant))
        .filter(publishable_keys::revoked_at.is_null())
        .count()
        .get_result(conn)
        .await
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewPublishableKey<'_>,
) -> QueryResult<PublishableKey> {
    diesel::insert_into(publishable_keys::table)
        .values(new)
        .returning(PublishableKey::as_returning())
        .get_result(conn)
        .await
}

/// Revokes a working key of the tenant; `None` when the tenant has no such
/// key or it was already revoked (by this call's rival too: the row lock
/// makes one of two concurrent revokes the one that changes it).
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> QueryResult<Option<PublishableKey>> {
    diesel::update(
        publishable_keys::table
            .filter(publishable_keys::tenant_id.eq(tenant))
            .filter(publishable_keys::id.eq(id))
            .filter(publishable_keys::revoked_at.is_null()),
    )
    .set(publishable_keys::revoked_at.eq(diesel::dsl::sql::<Nullable<Timestamptz>>("now()")))
    .returning(PublishableKey::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// The tenant's allowed origins, in order.
pub async fn origins(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> QueryResult<Vec<AllowedOrigin>> {
    allowed_origins::table
        .filter(allowed_origins::tenant_id.eq(tenant))
        .order(allowed_origins::origin)
        .select(AllowedOrigin::as_select())
        .load(conn)
        .await
}

/// How many origins the tenant allows.
pub async fn count_origins(conn: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<i64> {
    allowed_origins::table
        .filter(allowed_origins::tenant_id.eq(tenant))
        .count()
        .get_result(conn)
        .await
}

/// Adds an origin; `None` when the tenant already allows it.
pub async fn add_origin(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    origin: &str,
    by: Option<Uuid>,
) -> QueryResult<Option<AllowedOrigin>> {
    diesel::insert_into(allowed_origins::table)
        .values((
            allowed_origins::tenant_id.eq(tenant),
            allowed_origins::origin.eq(origin),
            allowed_origins::created_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .returning(AllowedOrigin::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Removes an origin; whether the tenant had it.
pub async fn remove_origin(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    origin: &str,
) -> QueryResult<bool> {
    diesel::delete(
        allowed_origins::table
            .filter(allowed_origins::tenant_id.eq(tenant))
            .filter(allowed_origins::origin.eq(origin)),
    )
    .execute(conn)
    .await
    .map(|n| n > 0)
}

/// A row of `tg_publishable_key_lookup`: the key, its tenant, branding and
/// allowed origins.
#[derive(Debug, Clone, QueryableByName)]
pub struct PublishableLookup {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    pub environment: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    pub tenant_slug: String,
    #[diesel(sql_type = Text)]
    pub tenant_name: String,
    #[diesel(sql_type = Text)]
    pub tenant_status: String,
    #[diesel(sql_type = Text)]
    pub plan_key: String,
    #[diesel(sql_type = Jsonb)]
    pub branding: serde_json::Value,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    pub origins: Vec<Option<String>>,
}

/// The publishable key `key`, if there is one (any tenant's).
pub async fn lookup(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> QueryResult<Option<PublishableLookup>> {
    diesel::sql_query("SELECT * FROM tg_publishable_key_lookup($1)")
        .bind::<Text, _>(key)
        .get_result(conn)
        .await
        .optional()
}
