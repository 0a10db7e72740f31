//! `requestDataExport` (a tenant's, owners) and `requestMyDataExport` (a
//! person's own): queue an archive; the worker writes it (see `exports`).

use async_graphql::{Context, Object, Result};

use crate::auth::Role;
use crate::db::data_exports::Owner;
use crate::graphql::context::{db, meta, services, session};
use crate::graphql::types::data_export::DataExport;

/// Data export mutations.
#[derive(Default)]
pub struct ExportsMutation;

#[Object]
impl ExportsMutation {
    /// Asks for an archive of the active tenant's data (owners): the tenant,
    /// members and their user records, invitations, API keys (metadata),
    /// plan, subscription and invoice references, quota alerts, usage (raw
    /// events and rollups) and the audit trail. It is written in the
    /// background (follow `status` and `progress`, or the
    /// `dataExportUpdated` subscription); the owners are emailed when it is
    /// ready, and it is kept 24 hours. Also while the tenant is pending
    /// deletion. One at a time (CONFLICT while one is
    /// queued or running) and 5 a day (RATE_LIMITED with `retryAfter`).
    async fn request_data_export(&self, ctx: &Context<'_>) -> Result<DataExport> {
        // Also while the tenant awaits deletion: taking one's data away is
        // what the grace period is for.
        let access = session(ctx).require_tenant_while_deleting(db(ctx)).await?;
        access.require(Role::Owner)?;
        let row = services(ctx)
            .exports
            .request(Owner::Tenant(access.tenant_id), access.user_id, meta(ctx))
            .await?;
        Ok(DataExport {
            row,
            reader: access.user_id,
        })
    }

    /// Asks for an archive of the caller's own data (any signed-in user):
    /// their user record, memberships, sessions, and the audit entries they
    /// are the actor of in every tenant. Written in the background and
    /// emailed about when ready, like `requestDataExport`, with the same
    /// budget (one at a time, 5 a day). FORBIDDEN for a session signed in on
    /// a tenant's custom domain.
    async fn request_my_data_export(&self, ctx: &Context<'_>) -> Result<DataExport> {
        let verified = session(ctx).require_user(db(ctx)).await?;
        // Covers every tenant of the person: not from a tenant's own domain.
        verified.require_unbound_or(None)?;
        let user = verified.user_id;
        let row = services(ctx)
            .exports
            .request(Owner::Person(user), user, meta(ctx))
            .await?;
        Ok(DataExport { row, reader: user })
    }
}
