//! The tenant list of the admin dashboard (search, status and plan filters,
//! four orderings, keyset pages) and a tenant's API keys, each read audited
//! in the tenant's own trail.

use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::{actor, scope};
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::Verified;
use crate::db::api_keys::KeyState;
use crate::db::tenants::{Order, PageFilter, SortField, SortValue, Tenant};
use crate::db::{self, Db};
use crate::error::{AppError, AppResult};

/// Longest search text (a tenant's name is at most 100 characters).
const MAX_SEARCH: usize = 100;

/// Filters of the tenant list.
#[derive(Debug, Clone, Default)]
pub struct TenantFilter {
    /// Matches name or slug, case-insensitive (1-100 characters).
    pub search: Option<String>,
    pub status: Option<String>,
    /// A plan's key (the caller checks it is in the catalogue).
    pub plan: Option<String>,
}

fn field_name(field: SortField) -> &'static str {
    match field {
        SortField::Created => "createdAt",
        SortField::Name => "name",
        SortField::Members => "memberCount",
        SortField::Plan => "plan",
    }
}

/// A page of tenants in `order` after `after`, each with its sort key's value
/// and, when `with_counts`, its member count (read for the whole page in one
/// statement). Every listed tenant gets one `admin.tenants.list` entry, all
/// written in one statement.
#[expect(clippy::too_many_arguments)]
pub async fn tenants_page(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    filter: TenantFilter,
    order: Order,
    after: Option<(SortValue, Uuid)>,
    limit: i64,
    with_counts: bool,
) -> AppResult<Vec<(Tenant, SortValue, Option<i64>)>> {
    if let Some(search) = &filter.search
        && search.trim().chars().count() > MAX_SEARCH
    {
        return Err(AppError::bad_field(
            "search",
            format!("search for at most {MAX_SEARCH} characters"),
        ));
    }
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let rows = db::tenants::page(
                conn,
                PageFilter {
                    search: filter.search.as_deref(),
                    status: filter.status.as_deref(),
                    plan: filter.plan.as_deref(),
                },
                order,
                after,
                limit,
            )
            .await?;
            // The page holds `limit` rows; one more tells there is a next page and is
            // neither shown nor audited.
            let ids: Vec<Uuid> = rows
                .iter()
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .map(|(r, _)| r.id)
                .collect();
            let asked = json!({
                "search": filter.search,
                "status": filter.status,
                "plan": filter.plan,
                "orderBy": field_name(order.field),
                "descending": order.descending,
            });
            let entries = ids
                .iter()
                .map(|id| {
                    Entry::new(Some(*id), actor.clone(), "admin.tenants.list")
                        .target("tenant", *id)
                        .change(None, Some(asked.clone()))
                })
                .collect();
            audit::record_many(conn, &meta, entries).await?;
            let counts: std::collections::HashMap<Uuid, i64> = if with_counts {
                db::memberships::counts(conn, &ids)
                    .await?
                    .into_iter()
                    .collect()
            } else {
                Default::default()
            };
            Ok(rows
                .into_iter()
                .map(|(row, value)| {
                    let count = with_counts.then(|| counts.get(&row.id).copied().unwrap_or(0));
                    (row, value, count)
                })
                .collect())
        }
        .scope_boxed()
    })
    .await
}

/// A page of one tenant's API keys, oldest first (never their secrets),
/// recorded in that tenant's trail as `admin.tenant.api_keys.read`.
#[expect(clippy::too_many_arguments)]
pub async fn tenant_keys(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    tenant_id: Uuid,
    environment: Option<&'static str>,
    state: Option<KeyState>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> AppResult<Vec<db::api_keys::ApiKey>> {
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let rows =
                db::api_keys::page(conn, tenant_id, environment, state, after, limit).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(tenant_id), actor, "admin.tenant.api_keys.read")
                    .target("tenant", tenant_id),
            )
            .await?;
            Ok(rows)
        }
        .scope_boxed()
    })
    .await
}
