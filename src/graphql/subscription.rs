//! The subscription root: live feeds over WebSocket (graphql-transport-ws).

use async_graphql::{Context, Result, Subscription};
use futures_util::Stream;
use scoped_futures::ScopedFutureExt;
use tokio::sync::broadcast::error::RecvError;

use super::context::{db, services, session};
use super::live_usage::Subscriber;
use super::types::audit::AuditEntry;
use super::types::data_export::DataExport;
use super::types::usage::Quota;
use crate::audit;
use crate::audit::feed::FeedEvent;
use crate::auth::{Role, Session};
use crate::db::data_exports::Owner;
use crate::error::AppError;
use crate::tenancy::Scope;

/// Live feeds.
#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// New audit entries of the active tenant, as they are committed on any
    /// instance (owners and admins). Before every entry the subscriber is
    /// verified again (token not expired, session live, still an admin of an
    /// active tenant); when that fails the feed ends. Each entry is read under
    /// the subscriber's own tenant scope. When this instance stops receiving
    /// announcements (its LISTEN connection misses a heartbeat), the feed ends
    /// with UNAVAILABLE: entries may have been missed, so read `auditLog` and
    /// subscribe again.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<AuditEntry>> + use<>> {
        let db = db(ctx).clone();
        let session: &Session = session(ctx);
        let access = session.require_role(&db, Role::Admin).await?;
        // What re-verification needs, owned by the stream.
        let principal = session.principal.clone();
        let (active_tenant, expires_at) = (session.active_tenant, session.expires_at);
        let receiver = services(ctx).feed.subscribe();
        let stream =
            futures_util::stream::unfold(Some((receiver, db, access.tenant_id)), move |state| {
                let principal = principal.clone();
                async move {
                    let (mut receiver, db, tenant_id) = state?;
                    loop {
                        let notice = match receiver.recv().await {
                            Ok(FeedEvent::Entry(notice)) => notice,
                            Ok(FeedEvent::Interrupted) => {
                                let err = AppError::unavailable(
                                    "the live feed was interrupted and may have missed entries: \
                                     read the audit log and subscribe again",
                                );
                                return Some((Err(err.to_graphql()), None));
                            }
                            Err(RecvError::Lagged(missed)) => {
                                tracing::warn!(missed, "audit subscriber lagged");
                                continue;
                            }
                            Err(RecvError::Closed) => return None,
                        };
                        if notice.tenant_id != Some(tenant_id) {
                            continue;
                        }
                        let mut check = Session::new(principal.clone(), active_tenant);
                        check.expires_at = expires_at;
                        let access = match check.reverify(&db).await {
                            Ok(verified) => match verified.access {
                                Some(a)
                                    if a.tenant_id == tenant_id && a.role.at_least(Role::Admin) =>
                                {
                                    a
                                }
                                _ => return None,
                            },
                            // Expired, signed out, removed, suspended: the feed ends.
                            Err(_) => return None,
                        };
                        let loaded = db
                            .scoped(access.scope(), |conn| {
                                async move { Ok(audit::find(conn, notice.id).await?) }.scope_boxed()
                            })
                            .await;
                        match loaded {
                            Ok(Some(entry)) => {
                                return Some((
                                    Ok(AuditEntry(entry)),
                                    Some((receiver, db, tenant_id)),
                                ));
                            }
                            Ok(None) => continue,
                            Err(err) => {
                                tracing::warn!(error = %err, "audit feed read failed");
                                continue;
                            }
                        }
                    }
                }
            });
        Ok(stream)
    }

    /// The active tenant's monthly quotas and how much of each is used
    /// (`tenant { quotas }`'s answer: one entry per metric the plan limits),
    /// live: pushed once at subscribe time, then whenever usage recorded on
    /// any instance changes them, at most 4 times a second (a burst of
    /// events gives a few pushes, the last with the final counts) and only
    /// when they changed. Members of the active tenant (any role); API keys
    /// cannot subscribe. Before every push the subscriber is verified again
    /// (token not expired, session live, still a member of an active
    /// tenant), also every 30 s without usage; when that fails the feed
    /// ends. While this instance receives no announcements (its LISTEN
    /// connection misses a heartbeat) the counters are read every 2 s
    /// instead.
    async fn usage_updated(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Vec<Quota>>> + use<>> {
        let session: &Session = session(ctx);
        let access = session.require_tenant(db(ctx)).await?;
        let subscriber = Subscriber::new(services(ctx), session, &access);
        Ok(futures_util::stream::unfold(
            subscriber,
            |mut subscriber| async move {
                let pushed = subscriber.next().await?;
                Some((Ok(pushed), subscriber))
            },
        ))
    }

    /// Changes of the data exports the caller may see, as they happen on any
    /// instance: the active tenant's (owners) and the caller's own personal
    /// ones (not for a session signed in on a tenant's custom domain). Each change (queued, progress at most once a second, ready,
    /// failed, expired) pushes the export as it now is. Before every push the
    /// subscriber is verified again (token not expired, session live, still
    /// an owner of an active tenant for its exports); when that fails the
    /// feed ends.
    async fn data_export_updated(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<DataExport>> + use<>> {
        let db = db(ctx).clone();
        let session: &Session = session(ctx);
        let verified = session.require_user(&db).await?;
        let user = verified.user_id;
        // A session bound to a tenant's custom domain never hears of the
        // personal, all-tenant exports.
        let personal = verified.require_unbound_or(None).is_ok();
        let owned = verified
            .access
            .filter(|a| a.role.at_least(Role::Owner))
            .map(|a| a.tenant_id);
        let principal = session.principal.clone();
        let (active_tenant, expires_at) = (session.active_tenant, session.expires_at);
        let receiver = services(ctx).feed.exports();
        let exports = services(ctx).exports.clone();
        let stream = futures_util::stream::unfold(Some((receiver, db)), move |state| {
            let principal = principal.clone();
            let exports = exports.clone();
            async move {
                let (mut receiver, db) = state?;
                loop {
                    let notice = match receiver.recv().await {
                        Ok(notice) => notice,
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "export subscriber lagged");
                            continue;
                        }
                        Err(RecvError::Closed) => return None,
                    };
                    let owner = match (notice.tenant_id, notice.user_id) {
                        (Some(t), _) if Some(t) == owned => Owner::Tenant(t),
                        (None, Some(u)) if u == user && personal => Owner::Person(u),
                        _ => continue,
                    };
                    let mut check = Session::new(principal.clone(), active_tenant);
                    check.expires_at = expires_at;
                    let scope = match check.reverify(&db).await {
                        Ok(v) => match owner {
                            Owner::Tenant(t) => match v.access {
                                Some(a) if a.tenant_id == t && a.role.at_least(Role::Owner) => {
                                    a.scope()
                                }
                                _ => return None,
                            },
                            Owner::Person(u) => Scope::user(u),
                        },
                        Err(_) => return None,
                    };
                    match exports.find(&db, scope, owner, notice.id).await {
                        Ok(Some(row)) => {
                            return Some((
                                Ok(DataExport { row, reader: user }),
                                Some((receiver, db)),
                            ));
                        }
                        Ok(None) => continue,
                        Err(err) => {
                            tracing::warn!(error = %err, "export feed read failed");
                            continue;
                        }
                    }
                }
            }
        });
        Ok(stream)
    }
}
