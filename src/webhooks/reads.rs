//! Reading endpoints and their delivery log, in the reader's tenant scope:
//! the list (at most a tenant's bound), one endpoint, and a page of
//! deliveries with their attempts in two statements whatever the page size
//! (at most `first + 1` deliveries and 8 attempts each: 808 attempt rows for
//! the largest page, `first: 100`).

use std::collections::HashMap;

use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use super::service::Webhooks;
use crate::db::Db;
use crate::db::webhook_deliveries::{self as deliveries, Attempt, Delivery};
use crate::db::webhook_endpoints::{self as rows, Endpoint};
use crate::error::AppResult;
use crate::tenancy::Scope;

/// A delivery with its attempts, oldest first.
#[derive(Debug, Clone)]
pub struct LoggedDelivery {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

impl Webhooks {
    /// The tenant's endpoints, oldest first.
    pub async fn list(&self, db: &Db, scope: Scope, tenant: Uuid) -> AppResult<Vec<Endpoint>> {
        db.scoped(scope, |conn| {
            async move { Ok(rows::list(conn, tenant).await?) }.scope_boxed()
        })
        .await
    }

    /// One endpoint of the tenant (`None`: no such endpoint of it).
    pub async fn find(
        &self,
        db: &Db,
        scope: Scope,
        tenant: Uuid,
        id: Uuid,
    ) -> AppResult<Option<Endpoint>> {
        db.scoped(scope, |conn| {
            async move { Ok(rows::find(conn, tenant, id).await?) }.scope_boxed()
        })
        .await
    }

    /// A page of an endpoint's deliveries, newest first (`limit + 1` rows),
    /// each with its attempts: two statements.
    pub async fn deliveries(
        &self,
        db: &Db,
        scope: Scope,
        tenant: Uuid,
        endpoint: Uuid,
        after: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
        limit: i64,
    ) -> AppResult<Vec<LoggedDelivery>> {
        let (page, attempts) = db
            .scoped(scope, |conn| {
                async move {
                    let page = deliveries::page(conn, tenant, endpoint, after, limit).await?;
                    let ids: Vec<Uuid> = page.iter().map(|d| d.id).collect();
                    let attempts = if ids.is_empty() {
                        Vec::new()
                    } else {
                        deliveries::attempts_of(conn, &ids, super::deliver::MAX_ATTEMPTS as i64)
                            .await?
                    };
                    Ok::<_, crate::error::AppError>((page, attempts))
                }
                .scope_boxed()
            })
            .await?;
        let mut by_delivery: HashMap<Uuid, Vec<Attempt>> = HashMap::new();
        for a in attempts {
            by_delivery.entry(a.delivery_id).or_default().push(a);
        }
        Ok(page
            .into_iter()
            .map(|delivery| LoggedDelivery {
                attempts: by_delivery.remove(&delivery.id).unwrap_or_default(),
                delivery,
            })
            .collect())
    }
}
