//! The platform admins' path across tenants: the only code that opens
//! [`Scope::platform_admin`] transactions. Every read through it, and every
//! change, is written to the audit trail in the same transaction: reads of a
//! tenant's data into that tenant's trail, platform-wide reads (users, stats,
//! outbox) into the platform's own (entries without a tenant, out of every
//! tenant's reach under row-level security).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, RequestMeta};
use crate::auth::Verified;
use crate::db::schema::{tenants, users};

use crate::db::{Db, tenants::Tenant, users::User};
use crate::error::{AppError, AppResult};
use crate::tenancy::{Scope, not_found};

fn actor(admin: &Verified) -> Actor {
    Actor::PlatformAdmin { id: admin.user_id }
}

fn scope(admin: &Verified) -> Scope {
    Scope::platform_admin(admin.user_id)
}

/// Filters of the tenant list.
#[derive(Debug, Clone, Default)]
pub struct TenantFilter {
    /// Matches name or slug, case-insensitive.
    pub search: Option<String>,
    pub status: Option<String>,
}

/// `%…%` for ILIKE, with the pattern characters of `text` escaped.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of tenants, newest first, after `(created_at, id)`, each with its
/// member count when `with_counts` (read for the whole page in one statement).
pub async fn tenants_page(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    filter: TenantFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
    with_counts: bool,
) -> AppResult<Vec<(Tenant, Option<i64>)>> {
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let mut query = tenants::table
                .select(Tenant::as_select())
                .order((tenants::created_at.desc(), tenants::id.desc()))
                .limit(limit + 1)
                .into_boxed();
            if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
                let pattern = like_pattern(search);
                query = query.filter(
                    tenants::name
                        .ilike(pattern.clone())
                        .or(tenants::slug.ilike(pattern)),
                );
            }
            if let Some(status) = &filter.status {
                query = query.filter(tenants::status.eq(status.clone()));
            }
            if let Some((at, id)) = after {
                query = query.filter(crate::db::keyset(
                    "tenants.created_at, tenants.id",
                    crate::db::Keyset::Before,
                    at,
                    id,
                ));
            }
            let rows: Vec<Tenant> = query.load(conn).await?;
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            // One entry in each listed tenant's own trail, in one statement.
            let entries = ids
                .iter()
                .map(|id| {
                    Entry::new(Some(*id), actor.clone(), "admin.tenants.list")
                        .target("tenant", *id)
                        .change(
                            None,
                            Some(json!({ "search": filter.search, "status": filter.status })),
                        )
                })
                .collect();
            audit::record_many(conn, &meta, entries).await?;
            let counts: std::collections::HashMap<Uuid, i64> = if with_counts {
                crate::db::memberships::counts(conn, &ids)
                    .await?
                    .into_iter()
                    .collect()
            } else {
                Default::default()
            };
            Ok(rows
                .into_iter()
                .map(|row| {
                    let count = with_counts.then(|| counts.get(&row.id).copied().unwrap_or(0));
                    (row, count)
                })
                .collect())
        }
        .scope_boxed()
    })
    .await
}

/// One tenant by id; the read is recorded in that tenant's audit trail.
pub async fn tenant(db: &Db, meta: &RequestMeta, admin: &Verified, id: Uuid) -> AppResult<Tenant> {
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let tenant = crate::db::tenants::find(conn, id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(id), actor, "admin.tenant.read").target("tenant", id),
            )
            .await?;
            Ok(tenant)
        }
        .scope_boxed()
    })
    .await
}

/// Users whose email contains `search`, first `limit` by email. Users belong
/// to no one tenant: the read is recorded in the platform's own trail (an
/// entry without a tenant, which no tenant's row-level security shows).
pub async fn users(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    search: Option<String>,
    limit: i64,
) -> AppResult<Vec<User>> {
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let mut query = users::table
                .select(User::as_select())
                .order(users::email)
                .limit(limit)
                .into_boxed();
            if let Some(search) = search.as_deref().filter(|s| !s.trim().is_empty()) {
                query = query.filter(users::email.ilike(like_pattern(search)));
            }
            let rows = query.load(conn).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, actor, "admin.users.list")
                    .change(None, Some(json!({ "search": search, "rows": rows.len() }))),
            )
            .await?;
            Ok(rows)
        }
        .scope_boxed()
    })
    .await
}

/// Platform-wide counts.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub tenants: i64,
    pub active_tenants: i64,
    pub suspended_tenants: i64,
    pub users: i64,
    pub tenants_by_plan: Vec<(String, i64)>,
}

#[derive(diesel::QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Counts across the platform (no tenant's rows leave the database); the
/// read is recorded in the platform's own trail (no tenant).
pub async fn stats(db: &Db, meta: &RequestMeta, admin: &Verified) -> AppResult<Stats> {
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let rows: Vec<Counted> = diesel::sql_query(
                "SELECT 'status:' || status AS key, count(*) AS n FROM tenants GROUP BY status
                 UNION ALL SELECT 'plan:' || plan_key, count(*) FROM tenants GROUP BY plan_key
                 UNION ALL SELECT 'users', count(*) FROM users",
            )
            .load(conn)
            .await?;
            let mut stats = Stats::default();
            for row in rows {
                match row.key.split_once(':') {
                    Some(("status", status)) => {
                        stats.tenants += row.n;
                        match status {
                            "active" => stats.active_tenants = row.n,
                            "suspended" => stats.suspended_tenants = row.n,
                            _ => {}
                        }
                    }
                    Some(("plan", plan)) => stats.tenants_by_plan.push((plan.to_owned(), row.n)),
                    _ => stats.users = row.n,
                }
            }
            stats.tenants_by_plan.sort();
            audit::record(conn, &meta, Entry::new(None, actor, "admin.stats.read")).await?;
            Ok(stats)
        }
        .scope_boxed()
    })
    .await
}

/// Suspends (`Some(reason)`) or reactivates (`None`) a tenant.
pub async fn set_suspended(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    id: Uuid,
    reason: Option<String>,
) -> AppResult<Tenant> {
    if let Some(r) = &reason
        && (r.trim().is_empty() || r.chars().count() > 500)
    {
        return Err(AppError::bad_field(
            "reason",
            "give a reason of 1 to 500 characters",
        ));
    }
    let (meta, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            let before = crate::db::tenants::find(conn, id)
                .await?
                .ok_or_else(|| not_found("tenant"))?;
            let (status, action) = match reason {
                Some(_) => ("suspended", "tenant.suspend"),
                None => ("active", "tenant.reactivate"),
            };
            if before.status == status {
                return Err(AppError::conflict(format!(
                    "the tenant is already {status}"
                )));
            }
            let updated = diesel::update(tenants::table.find(id))
                .set((
                    tenants::status.eq(status),
                    tenants::status_reason.eq(reason.as_deref().map(str::trim)),
                ))
                .returning(Tenant::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                &meta,
                Entry::new(Some(id), actor, action)
                    .target("tenant", id)
                    .change(
                        Some(json!({ "status": before.status, "reason": before.status_reason })),
                        Some(json!({ "status": updated.status, "reason": updated.status_reason })),
                    ),
            )
            .await?;
            Ok(updated)
        }
        .scope_boxed()
    })
    .await
}

/// `tenantgate admin promote|demote EMAIL`: adds or removes the user in
/// `platform_admins` over the owner connection (the runtime roles cannot), with
/// an audit entry.
pub async fn set_platform_admin(owner_url: &str, email: &str, admin: bool) -> anyhow::Result<Uuid> {
    let email = crate::auth::signup::normalize_email(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = crate::db::owner_connection(owner_url).await?;
    conn.transaction::<_, anyhow::Error, _>(async |conn: &mut AsyncPgConnection| {
        diesel::sql_query("SELECT set_config('app.lookup_email', $1, true)")
            .bind::<Text, _>(&email)
            .execute(conn)
            .await?;
        let user = crate::db::users::find_by_email(conn, &email)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no user has the email {email}"))?;
        let changed = if admin {
            diesel::sql_query(
                "INSERT INTO platform_admins (user_id) VALUES ($1) ON CONFLICT DO NOTHING",
            )
            .bind::<diesel::sql_types::Uuid, _>(user.id)
            .execute(conn)
            .await?
        } else {
            diesel::sql_query("DELETE FROM platform_admins WHERE user_id = $1")
                .bind::<diesel::sql_types::Uuid, _>(user.id)
                .execute(conn)
                .await?
        };
        if changed > 0 {
            audit::record(
                conn,
                &RequestMeta {
                    request_id: format!("cli-{}", Uuid::now_v7()),
                    ip: None,
                    user_agent: Some("tenantgate admin".into()),
                },
                Entry::new(
                    None,
                    Actor::System,
                    if admin { "user.promote" } else { "user.demote" },
                )
                .target("user", user.id)
                .change(None, Some(json!({ "platformAdmin": admin }))),
            )
            .await?;
        }
        Ok(user.id)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(" ac%me_ "), "%ac\\%me\\_%");
    }
}
