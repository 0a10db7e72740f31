//! The platform admins' side of erasure: purging a tenant at once (audited
//! in the platform's trail) and reading the tombstones of purged tenants (a
//! platform-wide read, audited there too).

use scoped_futures::ScopedFutureExt;
use serde_json::json;
use uuid::Uuid;

use super::{actor, scope};
use crate::audit::{self, Entry, RequestMeta};
use crate::auth::Verified;
use crate::db::{self, Db, erasure::Tombstone};
use crate::erasure::{PurgeRun, Purger};
use crate::error::{AppError, AppResult};
use crate::tenancy::not_found;

/// Purges a tenant at once, whatever its status: it is made due now (the
/// database re-checks that the caller is a platform admin), audited, then
/// purged by this request. NOT_FOUND when there is no such tenant; a purge
/// that fails midway (Stripe unreachable…) is finished by the job.
pub async fn purge_tenant(
    db: &Db,
    purger: &Purger,
    meta: &RequestMeta,
    admin: &Verified,
    tenant: Uuid,
) -> AppResult<(PurgeRun, Option<Tombstone>)> {
    let (meta_tx, actor) = (meta.clone(), actor(admin));
    db.scoped(scope(admin), |conn| {
        async move {
            if !db::erasure::purge_now(conn, tenant).await? {
                return Err(not_found("tenant"));
            }
            audit::record(
                conn,
                &meta_tx,
                Entry::new(None, actor, "tenant.purge")
                    .target("tenant", tenant)
                    .change(
                        None,
                        Some(json!({ "status": "pending_deletion", "due": "now" })),
                    ),
            )
            .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    let run = purger.purge(tenant).await?.ok_or_else(|| {
        AppError::conflict("another run is purging this tenant now; it will finish the purge")
    })?;
    let stone = db
        .scoped(scope(admin), |conn| {
            async move { Ok(db::erasure::tombstone(conn, tenant).await?) }.scope_boxed()
        })
        .await?;
    Ok((run, stone))
}

/// The newest tombstones (at most `limit`, 1 to 100), after `before` when
/// given; the read is recorded in the platform's trail.
pub async fn tombstones(
    db: &Db,
    meta: &RequestMeta,
    admin: &Verified,
    before: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
    limit: i64,
) -> AppResult<Vec<Tombstone>> {
    let (meta, actor) = (meta.clone(), actor(admin));
    let limit = limit.clamp(1, 100);
    db.scoped(scope(admin), |conn| {
        async move {
            let rows = db::erasure::tombstones(conn, before, limit).await?;
            audit::record(
                conn,
                &meta,
                Entry::new(None, actor, "admin.tombstones.read"),
            )
            .await?;
            Ok(rows)
        }
        .scope_boxed()
    })
    .await
}
