//! Tenants: the organisations that own all tenant data.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::tenants;

/// A tenant row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub plan_key: String,
    pub branding: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// When an owner (or a platform admin) asked for its deletion.
    pub deletion_requested_at: Option<DateTime<Utc>>,
    /// Who asked for its deletion (a user id).
    pub deletion_requested_by: Option<Uuid>,
    /// When its purge is due (set exactly while it is pending deletion).
    pub purge_after: Option<DateTime<Utc>>,
}

/// What a new tenant is made of.
#[derive(Debug, Insertable)]
#[diesel(table_name = tenants)]
pub struct NewTenant<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub slug: &'a str,
}

/// Inserts a tenant unless its slug is taken; `None` when it is. The unique
/// index decides, so no other tenant's row is ever read to find out.
pub async fn insert_if_slug_free(
    conn: &mut AsyncPgConnection,
    new: &NewTenant<'_>,
) -> QueryResult<Option<Tenant>> {
    diesel::insert_into(tenants::table)
        .values(new)
        .on_conflict(tenants::slug)
        .do_nothing()
        .returning(Tenant::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The tenant with this id, if the transaction's scope may see it.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Tenant>> {
    tenants::table
        .find(id)
        .select(Tenant::as_select())
        .first(conn)
        .await
        .optional()
}

/// What the platform admins' tenant list is sorted by (ties by id, the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// When the tenant was created (`tenants_created_idx`).
    Created,
    /// The name, in the database's collation (`tenants_name_idx`).
    Name,
    /// How many members it has (counted per tenant on the memberships'
    /// primary key).
    Members,
    /// Its plan's place in the catalogue (`plans.sort_order`).
    Plan,
}

impl SortField {
    /// The SQL of the sort key.
    fn expr(self) -> &'static str {
        match self {
            Self::Created => "tenants.created_at",
            Self::Name => "tenants.name",
            Self::Members => "(SELECT count(*) FROM memberships m WHERE m.tenant_id = tenants.id)",
            Self::Plan => {
                "(SELECT p.sort_order FROM plans p WHERE p.key = tenants.plan_key)::bigint"
            }
        }
    }
}

/// The sort key's value of one row: where a page starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    /// A time (`Created`).
    At(DateTime<Utc>),
    /// A text (`Name`).
    Text(String),
    /// A number (`Members`, `Plan`).
    Number(i64),
}

/// A sort: the field and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub field: SortField,
    pub descending: bool,
}

impl Default for Order {
    /// Newest first.
    fn default() -> Self {
        Self {
            field: SortField::Created,
            descending: true,
        }
    }
}

/// The filters of [`page`] (absent: no filter).
#[derive(Debug, Clone, Copy, Default)]
pub struct PageFilter<'a> {
    /// In name or slug, case-insensitive.
    pub search: Option<&'a str>,
    pub status: Option<&'a str>,
    pub plan: Option<&'a str>,
}

/// A page of tenants in `order`, after the position `after` (a sort key
/// value and an id, compared as a row so ties never skip or repeat): one row
/// more than `limit` (it tells whether a next page exists), each with its
/// sort key's value. The position is typed by the caller; a value of the
/// wrong kind for the field is a caller bug and sorts nowhere.
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: PageFilter<'_>,
    order: Order,
    after: Option<(SortValue, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(Tenant, SortValue)>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool, Text, Timestamptz};
    let expr = order.field.expr();
    let number = match order.field {
        SortField::Members | SortField::Plan => expr,
        SortField::Created | SortField::Name => "0::bigint",
    };
    let dir = if order.descending { "DESC" } else { "ASC" };
    let mut query = tenants::table
        .select((Tenant::as_select(), sql::<BigInt>(number)))
        .order(sql::<Bool>(&format!("{expr} {dir}, tenants.id {dir}")))
        .limit(limit + 1)
        .into_boxed();
    if let Some(search) = filter.search.filter(|s| !s.trim().is_empty()) {
        let pattern = super::like_pattern(search);
        query = query.filter(
            tenants::name
                .ilike(pattern.clone())
                .or(tenants::slug.ilike(pattern)),
        );
    }
    if let Some(status) = filter.status {
        query = query.filter(tenants::status.eq(status.to_owned()));
    }
    if let Some(plan) = filter.plan {
        query = query.filter(tenants::plan_key.eq(plan.to_owned()));
    }
    if let Some((value, id)) = after {
        let op = if order.descending { "<" } else { ">" };
        let head = format!("({expr}, tenants.id) {op} (");
        type Start = Box<dyn BoxableExpression<tenants::table, diesel::pg::Pg, SqlType = Bool>>;
        let start: Start = match value {
            SortValue::At(at) => Box::new(
                sql::<Bool>(&head)
                    .bind::<Timestamptz, _>(at)
                    .sql(", ")
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .sql(")"),
            ),
            SortValue::Text(text) => Box::new(
                sql::<Bool>(&head)
                    .bind::<Text, _>(text)
                    .sql(", ")
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .sql(")"),
            ),
            SortValue::Number(n) => Box::new(
                sql::<Bool>(&head)
                    .bind::<BigInt, _>(n)
                    .sql(", ")
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .sql(")"),
            ),
        };
        query = query.filter(start);
    }
    let rows: Vec<(Tenant, i64)> = query.load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(row, n)| {
            let value = match order.field {
                SortField::Created => SortValue::At(row.created_at),
                SortField::Name => SortValue::Text(row.name.clone()),
                SortField::Members | SortField::Plan => SortValue::Number(n),
            };
            (row, value)
        })
        .collect())
}

/// Sets the tenant's status and its reason; returns the updated row.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: &str,
    reason: Option<&str>,
) -> QueryResult<Tenant> {
    diesel::update(tenants::table.find(id))
        .set((
            tenants::status.eq(status),
            tenants::status_reason.eq(reason),
        ))
        .returning(Tenant::as_returning())
        .get_result(conn)
        .await
}

/// Sets a tenant's status only if it is still `from` (what the caller read):
/// `None` when another change came first (a suspension racing a deletion or
/// another admin's suspension), so the caller refuses instead of overwriting.
pub async fn set_status_from(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    from: &str,
    status: &str,
    reason: Option<&str>,
) -> QueryResult<Option<Tenant>> {
    diesel::update(tenants::table.find(id).filter(tenants::status.eq(from)))
        .set((
            tenants::status.eq(status),
            tenants::status_reason.eq(reason),
        ))
        .returning(Tenant::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Inserts a tenant unless one with its id or slug exists (demo data).
pub async fn insert_if_absent(
    conn: &mut AsyncPgConnection,
    new: &NewTenant<'_>,
) -> QueryResult<()> {
    diesel::insert_into(tenants::table)
        .values(new)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// Sets the tenant's plan (the platform-admin path: the runtime role may not).
pub async fn set_plan(conn: &mut AsyncPgConnection, id: Uuid, plan_key: &str) -> QueryResult<()> {
    diesel::update(tenants::table.find(id))
        .set(tenants::plan_key.eq(plan_key))
        .execute(conn)
        .await
        .map(drop)
}

/// The tenant's name (NotFound when the scope cannot see it).
pub async fn name(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<String> {
    tenants::table
        .find(id)
        .select(tenants::name)
        .first(conn)
        .await
}

/// The tenant's settings as they stand, locked until the transaction ends:
/// `(name, slug, branding, plan)`.
pub async fn lock_settings(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<(String, String, serde_json::Value, String)> {
    tenants::table
        .find(id)
        .select((
            tenants::name,
            tenants::slug,
            tenants::branding,
            tenants::plan_key,
        ))
        .for_update()
        .first(conn)
        .await
}

/// Replaces the tenant's name, slug and branding; a taken slug is a unique
/// violation.
pub async fn update_settings(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    slug: &str,
    branding: &serde_json::Value,
) -> QueryResult<Tenant> {
    diesel::update(tenants::table.find(id))
        .set((
            tenants::name.eq(name),
            tenants::slug.eq(slug),
            tenants::branding.eq(branding),
        ))
        .returning(Tenant::as_returning())
        .get_result(conn)
        .await
}

/// Platform-wide counts in one statement, keyed `status:<status>` (tenants
/// per status), `plan:<plan key>` (tenants per plan), `users` and
/// `active_users` (people with a session used in the last 30 days).
pub async fn platform_counts(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Counted> = diesel::sql_query(
        "SELECT 'status:' || status AS key, count(*) AS n FROM tenants GROUP BY status
                 UNION ALL SELECT 'plan:' || plan_key, count(*) FROM tenants GROUP BY plan_key
                 UNION ALL SELECT 'users', count(*) FROM users
                 UNION ALL SELECT 'active_users', count(DISTINCT user_id) FROM sessions
                           WHERE last_used_at > now() - interval '30 days'",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
}
