//! Reading what every resolver needs from the GraphQL context.

use async_graphql::{Context, Result};

use crate::app::Services;
use crate::audit::RequestMeta;
use crate::auth::Session;
use crate::auth::keys::Manager;
use crate::db::Db;

/// How many usage events one request may carry across all its
/// `recordUsage` fields (aliases included).
pub const MAX_EVENTS_PER_REQUEST: usize = 1000;

/// The usage events one HTTP request has sent so far (the only door for
/// mutations: WebSocket runs subscriptions only).
#[derive(Default)]
pub struct EventBudget(std::sync::atomic::AtomicUsize);

impl EventBudget {
    /// Takes `n` events from the request's budget; BAD_USER_INPUT (field
    /// `events`, nothing of this field recorded, nothing taken) past
    /// [`MAX_EVENTS_PER_REQUEST`]. Only a field that fits takes its events
    /// (compare-and-swap), so a refused field leaves the rest to the others.
    pub fn take(&self, n: usize) -> Result<(), crate::error::AppError> {
        use std::sync::atomic::Ordering;
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |before| {
                before
                    .checked_add(n)
                    .filter(|after| *after <= MAX_EVENTS_PER_REQUEST)
            })
            .map(|_| ())
            .map_err(|before| {
                crate::error::AppError::bad_field(
                    "events",
                    format!(
                        "at most {MAX_EVENTS_PER_REQUEST} usage events a request, across all \
                         recordUsage fields ({before} taken by earlier fields, {n} asked by this one): send the \
                         rest in another request"
                    ),
                )
            })
    }
}

/// The shared services (always present: the schema is built with them).
pub fn services<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

/// The database handle of one request, whose reads share one transaction
/// (query requests; the endpoint commits it when the response is ready).
pub struct RequestDb(pub Db);

/// The database handle: the request's own when it has one, else the shared.
pub fn db<'a>(ctx: &Context<'a>) -> &'a Db {
    match ctx.data_opt::<RequestDb>() {
        Some(RequestDb(db)) => db,
        None => &services(ctx).db,
    }
}

/// The request's authentication state (always present: the endpoint puts it in).
pub fn session<'a>(ctx: &Context<'a>) -> &'a Session {
    ctx.data_unchecked::<Session>()
}

/// Where the request came from.
pub fn meta<'a>(ctx: &Context<'a>) -> &'a RequestMeta {
    ctx.data_unchecked::<RequestMeta>()
}

/// The caller as a key manager: the API key of the call, or a member of the
/// active tenant.
pub async fn key_manager(ctx: &Context<'_>) -> Result<Manager> {
    let session = session(ctx);
    if let Some(call) = session.key() {
        return Ok(Manager::Key(call.grant.clone()));
    }
    let verified = session.require_user(db(ctx)).await?;
    let access = session.require_tenant(db(ctx)).await?;
    Ok(Manager::Member { verified, access })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_takes_nothing_from_the_event_budget() {
        let budget = EventBudget::default();
        assert!(budget.take(600).is_ok());
        assert!(budget.take(600).is_err());
        assert!(budget.take(300).is_ok());
        assert!(budget.take(101).is_err());
        assert!(budget.take(100).is_ok());
        assert!(budget.take(1).is_err());
        assert!(budget.take(usize::MAX).is_err());
    }
}
