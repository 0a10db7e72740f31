//! The subscription root: live feeds over WebSocket (graphql-transport-ws).

use async_graphql::{Context, Result, Subscription};
use futures_util::Stream;
use scoped_futures::ScopedFutureExt;
use tokio::sync::broadcast::error::RecvError;

use super::context::{db, services, session};
use super::types::audit::AuditEntry;
use crate::audit;
use crate::auth::Role;

/// Live feeds.
#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// New audit entries of the active tenant, as they are committed on any
    /// instance (owners and admins). Each entry is read under the subscriber's
    /// own tenant scope, and the subscriber's role is checked again for every
    /// entry: a demoted or removed admin stops receiving at once.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = AuditEntry> + use<>> {
        let db = db(ctx).clone();
        let access = session(ctx).require_role(&db, Role::Admin).await?;
        let receiver = services(ctx).feed.subscribe();
        let stream = futures_util::stream::unfold(
            (receiver, db, access),
            |(mut receiver, db, access)| async move {
                loop {
                    let notice = match receiver.recv().await {
                        Ok(notice) => notice,
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "audit subscriber lagged");
                            continue;
                        }
                        Err(RecvError::Closed) => return None,
                    };
                    if notice.tenant_id != Some(access.tenant_id) {
                        continue;
                    }
                    let (tenant_id, user_id) = (access.tenant_id, access.user_id);
                    let loaded = db
                        .scoped(access.scope(), |conn| {
                            async move {
                                let still_admin = crate::members::role_in(conn, tenant_id, user_id)
                                    .await?
                                    .is_some_and(|r| r.at_least(Role::Admin));
                                if !still_admin {
                                    return Ok(None);
                                }
                                Ok(audit::find(conn, notice.id).await?.map(Some))
                            }
                            .scope_boxed()
                        })
                        .await;
                    match loaded {
                        Ok(Some(Some(entry))) => {
                            return Some((AuditEntry(entry), (receiver, db, access)));
                        }
                        // No longer an admin here: the feed ends.
                        Ok(None) => return None,
                        Ok(Some(None)) => continue,
                        Err(err) => {
                            tracing::warn!(error = %err, "audit feed read failed");
                            continue;
                        }
                    }
                }
            },
        );
        Ok(stream)
    }
}
