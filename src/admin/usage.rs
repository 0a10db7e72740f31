//! Platform admins' usage reads across tenants: the platform-wide series
//! (recorded in the platform's own trail: no tenant's rows leave the
//! database, only sums) and the top consumers (each listed tenant gets an
//! entry in its own trail, as `admin { tenants }` does).

use scoped_futures::ScopedFutureExt;
use serde_json::json;

use super::{actor, scope};
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::Verified;
use crate::db::Db;
use crate::db::usage_reads::{self as reads, Consumer, PlatformRow, Range};
use crate::error::AppResult;

/// Live usage of every tenant over `range`, per bucket.
pub async fn platform_usage(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    range: &Range,
) -> AppResult<Vec<PlatformRow>> {
    let (meta, actor, range) = (meta.clone(), actor(admin), range.clone());
    db.scoped(scope(admin), |conn| {
        async move {
            let rows = reads::platform_series(conn, &range).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, actor, "admin.usage.read")
                    .change(None, Some(json!({ "metric": range.metric }))),
            )
            .await?;
            Ok(rows)
        }
        .scope_boxed()
    })
    .await
}

/// The `limit` tenants with the most live usage over `range`.
pub async fn top_consumers(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    range: &Range,
    limit: i64,
) -> AppResult<Vec<Consumer>> {
    let (meta, actor, range) = (meta.clone(), actor(admin), range.clone());
    db.scoped(scope(admin), |conn| {
        async move {
            let rows = reads::top_consumers(conn, &range, limit).await?;
            let entries = rows
                .iter()
                .map(|c| {
                    Entry::new(Some(c.id), actor.clone(), "admin.usage.top_consumers")
                        .target("tenant", c.id)
                        .change(
                            None,
                            Some(json!({ "metric": range.metric, "total": c.total })),
                        )
                })
                .collect();
            audit::record_many(conn, &meta, entries).await?;
            Ok(rows)
        }
        .scope_boxed()
    })
    .await
}
