//! `DataExport`: a tenant's archive (owners) or a person's own, its status
//! and progress, and `downloadUrl` (each read mints a single-use link bound
//! to the reader; see `exports::links`). The lists behind
//! `Tenant.dataExports` and `Viewer.dataExports` are here too.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::data_exports::{Export, Owner};
use crate::error::AppError;
use crate::graphql::context::{db, services};
use crate::graphql::cursor;
use crate::tenancy::Scope;

/// Where an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DataExportStatus {
    /// Waiting for a worker.
    Queued,
    /// Being written (see `progress`).
    Running,
    /// Ready to download until `expiresAt`.
    Ready,
    /// Given up (see `error`): ask for a new one.
    Failed,
    /// Its archive was deleted at `expiresAt`.
    Expired,
}

impl DataExportStatus {
    fn from_db(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            _ => Self::Queued,
        }
    }
}

/// Whose data an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DataExportKind {
    /// A tenant's: the tenant, members, invitations, API keys (metadata),
    /// plan and billing references, quota alerts, usage and the audit trail.
    Tenant,
    /// A person's own: their user record, memberships, sessions and the
    /// audit entries they are the actor of, in every tenant.
    Personal,
}

/// A data export: one ZIP archive of JSON Lines files (one per kind of
/// record) and `manifest.json` (row counts and a SHA-256 per file).
pub struct DataExport {
    pub row: Export,
    /// Who reads it (an owner of the tenant, or the person): download links
    /// are minted for this user.
    pub reader: Uuid,
}

#[Object]
impl DataExport {
    /// The export's id.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// A tenant's export or a person's own.
    async fn kind(&self) -> DataExportKind {
        match self.row.owner() {
            Owner::Tenant(_) => DataExportKind::Tenant,
            Owner::Person(_) => DataExportKind::Personal,
        }
    }

    /// Where it is.
    async fn status(&self) -> DataExportStatus {
        DataExportStatus::from_db(&self.row.status)
    }

    /// How far the archive is written, 0 to 100 (100 once ready).
    async fn progress(&self) -> i32 {
        i32::from(self.row.progress)
    }

    /// When it was asked for.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When a worker first started it.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.row.started_at
    }

    /// When it became ready (or failed).
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.row.finished_at
    }

    /// When its archive is deleted (24 hours after it is ready).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.row.expires_at
    }

    /// The archive's size in bytes, once ready.
    async fn size_bytes(&self) -> Option<f64> {
        self.row.size_bytes.map(|n| n as f64)
    }

    /// The SHA-256 of the whole archive (hex), once ready.
    async fn checksum(&self) -> Option<&str> {
        self.row.sha256.as_deref()
    }

    /// Why it failed (or is being retried).
    async fn error(&self) -> Option<&str> {
        self.row.error.as_deref()
    }

    /// A download link while it is ready: every read mints a new one, valid
    /// once and until `expiresAt` (24 hours at most), for the user who read
    /// it only. A browser gets an HttpOnly cookie scoped to this export's
    /// download path with it (the link works in that browser); other clients
    /// send that user's access token (`Authorization: Bearer`) to the URL.
    /// Null unless ready.
    async fn download_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(minted) = services(ctx).exports.mint(&self.row, self.reader).await? else {
            return Ok(None);
        };
        ctx.append_http_header("set-cookie", minted.cookie);
        Ok(Some(minted.url))
    }
}

/// Reads an export id argument.
pub fn parse_id(id: &ID) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::bad_field("id", "not a data export id"))
}

/// A page of `owner`'s exports, newest first, read in `scope` for `reader`.
pub async fn page(
    ctx: &Context<'_>,
    scope: Scope,
    owner: Owner,
    reader: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<String, DataExport, EmptyFields, EmptyFields>> {
    let limit = cursor::page_size(first)?;
    let after = cursor::decode_opt(after.as_deref())?;
    let rows = services(ctx)
        .exports
        .page(db(ctx), scope, owner, after, limit)
        .await?;
    Ok(cursor::connection(
        rows,
        limit,
        after.is_some(),
        |r| (r.created_at, r.id),
        |row| DataExport { row, reader },
    ))
}

/// One export of `owner`, read in `scope` for `reader` (null: no such export
/// of theirs).
pub async fn one(
    ctx: &Context<'_>,
    scope: Scope,
    owner: Owner,
    reader: Uuid,
    id: &ID,
) -> Result<Option<DataExport>> {
    let id = parse_id(id)?;
    let row = services(ctx)
        .exports
        .find(db(ctx), scope, owner, id)
        .await?;
    Ok(row.map(|row| DataExport { row, reader }))
}
