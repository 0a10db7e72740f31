//! Erasure: deleting a tenant (scheduled with a grace period, cancellable by
//! its owners, then purged by a background job on every instance) and a
//! person's own account.
//!
//! `tenant.rs` schedules and cancels a tenant's deletion (owners, with a
//! fresh sign-in and the slug typed to confirm; owners emailed, audited);
//! `purge.rs` the purge job and its steps (Stripe customer, export files,
//! members and the people who belong nowhere else, every tenant row table by
//! table in batches, then the tenant row replaced by its tombstone), each
//! step its own transaction so a purge cut off halfway is finished by the
//! next run; `account.rs` `deleteMyAccount`. The statements are
//! `db::erasure`, over the SECURITY DEFINER functions of the erasure
//! migration: the runtime role has no DELETE right on tenant data.

mod account;
mod purge;
mod tenant;

pub use account::delete_my_account;
pub use purge::{PurgeRun, Purger};
pub use tenant::{cancel_deletion, request_deletion};

use chrono::{TimeDelta, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// How recent a sign-in must be for deleting a tenant or an account.
pub const FRESH_SIGN_IN: TimeDelta = TimeDelta::minutes(5);

/// REAUTHENTICATION_REQUIRED unless session `session_id` (of the
/// transaction's user) was opened by a sign-in within [`FRESH_SIGN_IN`].
/// Every session row is opened by a proof of identity (password, email link,
/// invitation, password reset, sign-up); refreshes rotate tokens inside it
/// and tenant switches change its default tenant, so its `created_at` is
/// the moment of that proof.
async fn require_fresh_sign_in(conn: &mut AsyncPgConnection, session_id: Uuid) -> AppResult<()> {
    let at = crate::db::erasure::signed_in_at(conn, session_id).await?;
    match at {
        Some(at) if Utc::now() - at <= FRESH_SIGN_IN => Ok(()),
        _ => Err(AppError::reauthentication_required(
            "this needs a sign-in of the last 5 minutes: sign in again (password or email link), \
             then retry",
        )),
    }
}
