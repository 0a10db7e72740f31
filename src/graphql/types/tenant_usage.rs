//! `Tenant.usage`: who may read which environment and split, the range
//! checked, and one statement in the tenant's scope (audited on the admin
//! path).

use async_graphql::{Context, Result};
use chrono::{DateTime, Utc};
use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::api_key::KeyEnvironment;
use super::tenant::{Reader, Tenant, audit_admin_read};
use super::usage_series::{UsageGranularity, UsageGroupBy, UsageSeries};
use crate::auth::Role;
use crate::auth::api_keys::KeyScope;
use crate::db::usage_reads;
use crate::error::AppError;
use crate::graphql::context::{db, meta};

/// The arguments of `Tenant.usage`.
pub struct Asked {
    pub metric: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub granularity: UsageGranularity,
    pub group_by: UsageGroupBy,
    pub environment: Option<KeyEnvironment>,
    pub first: i32,
}

/// What a usage read got back.
enum Rows {
    Series(Vec<usage_reads::SeriesRow>),
    Grouped(Vec<usage_reads::GroupedRow>),
}

/// Reads `tenant`'s usage as `asked`.
pub async fn read(tenant: &Tenant, ctx: &Context<'_>, asked: Asked) -> Result<UsageSeries> {
    let Asked {
        metric,
        from,
        to,
        granularity,
        group_by,
        environment,
        first,
    } = asked;
    let scope = tenant.scope_for(None, KeyScope::UsageRead)?;
    if group_by == UsageGroupBy::Key {
        match &tenant.reader {
            Reader::Key(grant) => grant.require(KeyScope::KeysRead)?,
            Reader::Member(access) if access.role == Role::Billing => {
                return Err(AppError::forbidden("the billing role cannot list keys").into());
            }
            _ => {}
        }
    }
    let environment = match (&tenant.reader, environment) {
        (Reader::Key(grant), asked) => {
            let own = KeyEnvironment::from(grant.environment);
            if asked.is_some_and(|e| e != own) {
                return Err(AppError::forbidden(
                    "an API key reads the usage of its own environment only",
                )
                .into());
            }
            own
        }
        (_, asked) => asked.unwrap_or_default(),
    };
    if !(1..=100).contains(&first) {
        return Err(AppError::bad_field("first", "must be 1 to 100").into());
    }
    let now = Utc::now();
    let range = crate::usage::reads::range(
        db(ctx),
        crate::graphql::context::services(ctx).usage.metrics(),
        &metric,
        from,
        to,
        granularity.into(),
        now,
    )
    .await?;
    let (tenant_id, admin, meta) = (tenant.row.id, tenant.admin_reader(), meta(ctx).clone());
    let env = crate::auth::api_keys::Environment::from(environment).as_str();
    let read = range.clone();
    let rows = db(ctx)
        .scoped(scope, |conn| {
            async move {
                audit_admin_read(conn, &meta, admin, tenant_id, "admin.tenant.usage.read").await?;
                Ok(match group_by {
                    UsageGroupBy::None => Rows::Series(
                        usage_reads::series(conn, tenant_id, &[env], &[Uuid::nil()], &read).await?,
                    ),
                    UsageGroupBy::Key => Rows::Grouped(
                        usage_reads::grouped(conn, tenant_id, env, &read, i64::from(first)).await?,
                    ),
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(match rows {
        Rows::Series(rows) => super::usage_series::tenant_series(range, environment, rows, now),
        Rows::Grouped(rows) => super::usage_series::grouped_series(range, environment, rows, now),
    })
}
