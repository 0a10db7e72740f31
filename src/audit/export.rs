//! Audit log export: a tenant's trail as CSV or JSON Lines, with the filters
//! of `tenant { auditLog(filter) }`, streamed a page at a time.
//!
//! Each page of [`PAGE`] entries is its own short transaction in the caller's
//! scope (no connection is held between pages, and a slow reader holds one
//! page of memory), newest first by the `(created_at, id)` keyset that
//! `audit_log_tenant_idx` serves. The export ends at the moment it started
//! (`until` is capped then), so entries written meanwhile (its own audit
//! entry included) never appear and pages never shift: the trail is
//! append-only, and retention only removes from the old end.
//!
//! Each page first asks again whether the caller may still read the trail
//! (session, role, tenant status, key: [`Recheck`]), so a revoked session or
//! key, a demotion or a suspension ends the export at the next page.
//!
//! Budgets: [`ExportSlots`] lets at most [`PER_TENANT`] exports of a tenant
//! and [`PER_INSTANCE`] in all run at once on an instance. The pages are read
//! by a task of their own that hands the response one chunk at a time and
//! holds the slot: it stops when the export has run [`MAX_DURATION`], or when
//! the client has not taken a chunk for [`STALL`] (a reader that stops
//! reading cannot keep a slot), and the download is then cut, never ended
//! short as if complete.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::Stream;
use futures_util::future::BoxFuture;
use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Filter, Stored};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;

/// Entries a page (one transaction) reads.
pub const PAGE: i64 = 1_000;
/// Exports of one tenant running at once on an instance.
pub const PER_TENANT: usize = 2;
/// Exports running at once on an instance.
pub const PER_INSTANCE: usize = 8;
/// The longest an export may stream.
pub const MAX_DURATION: Duration = Duration::from_secs(15 * 60);
/// The longest the client may leave a chunk untaken.
pub const STALL: Duration = Duration::from_secs(60);

/// The columns, in order (CSV header; JSON Lines keys).
pub const COLUMNS: [&str; 13] = [
    "id",
    "createdAt",
    "action",
    "actorType",
    "actorId",
    "actorLabel",
    "targetType",
    "targetId",
    "ip",
    "userAgent",
    "requestId",
    "before",
    "after",
];

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180 CSV with a header row; `before` and `after` as JSON text;
    /// cells that a spreadsheet would run as a formula are neutralised.
    Csv,
    /// One JSON object per line (`before` and `after` as JSON values).
    JsonLines,
}

impl Format {
    /// Reads `csv` or `jsonl` (`ndjson` too).
    pub fn parse(text: &str) -> AppResult<Self> {
        match text {
            "csv" => Ok(Self::Csv),
            "jsonl" | "ndjson" => Ok(Self::JsonLines),
            _ => Err(AppError::bad_field("format", "use csv or jsonl")),
        }
    }

    /// The name in the audit entry and the file's extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
        }
    }

    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8; header=present",
            Self::JsonLines => "application/jsonl; charset=utf-8",
        }
    }
}

/// An export's slots on this instance (see the module's budgets).
#[derive(Debug, Clone, Default)]
pub struct ExportSlots(Arc<Mutex<HashMap<Uuid, usize>>>);

/// A taken slot; given back when the export's stream ends or is dropped.
#[derive(Debug)]
pub struct Slot {
    slots: ExportSlots,
    tenant_id: Uuid,
}

impl ExportSlots {
    /// A slot for an export of `tenant_id`, or RATE_LIMITED when the tenant
    /// or the instance has as many running as allowed.
    pub fn take(&self, tenant_id: Uuid) -> AppResult<Slot> {
        let mut running = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = running.values().sum();
        let mine = running.get(&tenant_id).copied().unwrap_or(0);
        if mine >= PER_TENANT || total >= PER_INSTANCE {
            return Err(AppError::rate_limited(
                if mine >= PER_TENANT {
                    "this tenant already has as many audit exports running as allowed; \
                     try again when one has finished"
                } else {
                    "the server is busy with other audit exports; try again shortly"
                },
                Duration::from_secs(10),
            ));
        }
        running.insert(tenant_id, mine + 1);
        Ok(Slot {
            slots: self.clone(),
            tenant_id,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.slots.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.tenant_id) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.tenant_id);
            }
        }
    }
}

/// Asks again, before each page, whether the caller may still read the
/// trail (an error ends the export).
pub type Recheck = Box<dyn Fn() -> BoxFuture<'static, AppResult<()>> + Send + Sync>;

/// One export, ready to stream.
pub struct Export {
    pub db: Db,
    /// The scope every page is read in (the caller's).
    pub scope: Scope,
    pub tenant_id: Uuid,
    /// The query's filters; `until` is capped at `started`.
    pub filter: Filter,
    pub format: Format,
    /// When the export began, by the database's clock: nothing stamped at or
    /// after it is included.
    pub started: DateTime<Utc>,
    pub slot: Slot,
    pub recheck: Recheck,
}

/// What the reading task hands the response.
enum Msg {
    Chunk(Vec<u8>),
    Done,
    Failed(AppError),
}

impl Export {
    /// Starts reading the pages in a task of its own; the file, chunk by chunk
    /// (the header, then one chunk a page). An error, a stop for time or a
    /// stalled reader ends the stream with an error (the response is cut, so a
    /// client never takes a short file for a whole one).
    pub fn stream(self) -> impl Stream<Item = AppResult<Vec<u8>>> + Send + 'static {
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(self.produce(tx));
        futures_util::stream::unfold(Some(rx), |rx| async move {
            let mut rx = rx?;
            match rx.recv().await {
                Some(Msg::Chunk(bytes)) => Some((Ok(bytes), Some(rx))),
                Some(Msg::Done) => None,
                Some(Msg::Failed(err)) => Some((Err(err), None)),
                None => Some((
                    Err(AppError::unavailable(
                        "the audit export stopped before its end",
                    )),
                    None,
                )),
            }
        })
    }

    async fn produce(mut self, tx: mpsc::Sender<Msg>) {
        let deadline = Instant::now() + MAX_DURATION;
        let result = self.pages(&tx, deadline).await;
        let last = match result {
            Ok(()) => Msg::Done,
            Err(Stopped::Reader) => return,
            Err(Stopped::Failed(err)) => {
                tracing::warn!(error = %err, tenant = %self.tenant_id, "audit export stopped");
                Msg::Failed(err)
            }
        };
        let _ = tokio::time::timeout(STALL, tx.send(last)).await;
        // The slot goes back here, with `self`.
    }

    async fn pages(&mut self, tx: &mpsc::Sender<Msg>, deadline: Instant) -> Result<(), Stopped> {
        self.filter.until = Some(match self.filter.until {
            Some(until) if until < self.started => until,
            _ => self.started,
        });
        if self.format == Format::Csv {
            let mut out = Vec::with_capacity(128);
            write_csv(&mut out, COLUMNS.iter().map(|s| (*s).to_owned()))?;
            send(tx, out, deadline).await?;
        }
        let mut after = None;
        loop {
            if Instant::now() >= deadline {
                return Err(AppError::unavailable(
                    "the audit export took too long and was stopped; narrow the range",
                )
                .into());
            }
            (self.recheck)().await?;
            let (tenant_id, filter) = (self.tenant_id, self.filter.clone());
            let mut rows = self
                .db
                .scoped(self.scope.clone(), |conn| {
                    async move {
                        Ok(super::page(conn, Some(tenant_id), &filter, after, PAGE).await?)
                    }
                    .scope_boxed()
                })
                .await?;
            let more = rows.len() as i64 > PAGE;
            rows.truncate(PAGE as usize);
            after = rows.last().map(|r| (r.created_at, r.id));
            if !rows.is_empty() {
                send(tx, encode(self.format, &rows)?, deadline).await?;
            }
            if !more {
                return Ok(());
            }
        }
    }
}

/// Why the reading task stopped early.
enum Stopped {
    /// The response is gone (the client hung up) or did not take a chunk in
    /// time: nobody to tell.
    Reader,
    Failed(AppError),
}

impl From<AppError> for Stopped {
    fn from(err: AppError) -> Self {
        Self::Failed(err)
    }
}

/// Hands one chunk to the response: the reader must take it within
/// [`STALL`] (and before the export's deadline).
async fn send(tx: &mpsc::Sender<Msg>, bytes: Vec<u8>, deadline: Instant) -> Result<(), Stopped> {
    let by = deadline.min(Instant::now() + STALL);
    match tokio::time::timeout_at(by, tx.send(Msg::Chunk(bytes))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Stopped::Reader),
        Err(_) => {
            tracing::warn!("audit export stopped: the client did not read");
            Err(Stopped::Reader)
        }
    }
}

/// The rows of one page in `format`.
pub fn encode(format: Format, rows: &[Stored]) -> AppResult<Vec<u8>> {
    let mut out = Vec::with_capacity(rows.len() * 256);
    for row in rows {
        match format {
            Format::Csv => write_csv(&mut out, csv_cells(row))?,
            Format::JsonLines => {
                serde_json::to_writer(&mut out, &json_line(row)).map_err(|e| {
                    AppError::internal(anyhow::anyhow!("encoding an audit entry: {e}"))
                })?;
                out.push(b'\n');
            }
        }
    }
    Ok(out)
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn json_line(row: &Stored) -> Value {
    json!({
        "id": row.id,
        "createdAt": time(row.created_at),
        "action": row.action,
        "actorType": row.actor_type,
        "actorId": row.actor_id,
        "actorLabel": row.actor_label,
        "targetType": row.target_type,
        "targetId": row.target_id,
        "ip": row.ip,
        "userAgent": row.user_agent,
        "requestId": row.request_id,
        "before": row.before,
        "after": row.after,
    })
}

fn csv_cells(row: &Stored) -> impl Iterator<Item = String> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let json = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    [
        row.id.to_string(),
        time(row.created_at),
        row.action.clone(),
        row.actor_type.clone(),
        row.actor_id.map(|id| id.to_string()).unwrap_or_default(),
        text(&row.actor_label),
        text(&row.target_type),
        text(&row.target_id),
        text(&row.ip),
        text(&row.user_agent),
        text(&row.request_id),
        json(&row.before),
        json(&row.after),
    ]
    .into_iter()
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return first) gets a leading `'` (OWASP's CSV injection
/// advice); the JSON Lines file keeps values as they are.
fn neutralise(cell: String) -> String {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}"),
        _ => cell,
    }
}

fn write_csv(out: &mut Vec<u8>, cells: impl Iterator<Item = String>) -> AppResult<()> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer
        .write_record(cells.map(neutralise))
        .and_then(|()| writer.flush().map_err(csv::Error::from))
        .map_err(|e| AppError::internal(anyhow::anyhow!("encoding an audit entry: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(label: &str, after: Option<Value>) -> Stored {
        Stored {
            id: Uuid::nil(),
            tenant_id: Some(Uuid::nil()),
            actor_type: "user".into(),
            actor_id: None,
            actor_label: Some(label.into()),
            action: "member.invite".into(),
            target_type: None,
            target_id: None,
            ip: None,
            user_agent: Some("agent, \"quoted\"\nnext line".into()),
            request_id: None,
            before: None,
            after,
            created_at: DateTime::from_timestamp(1_700_000_000, 123_000).unwrap(),
        }
    }

    #[test]
    fn csv_quotes_and_neutralises_formulas() {
        let out = encode(
            Format::Csv,
            &[entry("=HYPERLINK(\"x\")", Some(json!({"a": 1})))],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
        assert!(
            text.contains("\"agent, \"\"quoted\"\"\nnext line\""),
            "{text}"
        );
        assert!(text.contains("\"{\"\"a\"\":1}\""), "{text}");
        assert!(text.contains("2023-11-14T22:13:20.000123Z"), "{text}");
        assert!(text.ends_with("\r\n"));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(record.len(), COLUMNS.len());
        assert_eq!(&record[5], "'=HYPERLINK(\"x\")");
        assert_eq!(&record[12], "{\"a\":1}");
        for lead in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(lead.into()), format!("'{lead}"));
        }
        assert_eq!(neutralise("ada@example.com".into()), "ada@example.com");
    }

    #[test]
    fn json_lines_are_one_object_a_line() {
        let out = encode(
            Format::JsonLines,
            &[
                entry("=x", None),
                entry("b", Some(json!({"role": "admin"}))),
            ],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0]["actorLabel"], "=x",
            "JSON keeps values as they are"
        );
        assert_eq!(lines[1]["after"]["role"], "admin");
        assert_eq!(lines[0].as_object().unwrap().len(), COLUMNS.len());
        assert!(COLUMNS.iter().all(|c| lines[0].get(c).is_some()));
    }

    #[test]
    fn slots_bound_tenants_and_the_instance() {
        let slots = ExportSlots::default();
        let a = Uuid::now_v7();
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert!(slots.take(a).is_err(), "a third export of one tenant waits");
        drop(first);
        let _third = slots.take(a).unwrap();
        let others: Vec<_> = (0..PER_INSTANCE - PER_TENANT)
            .map(|_| slots.take(Uuid::now_v7()).unwrap())
            .collect();
        assert!(slots.take(Uuid::now_v7()).is_err(), "the instance is full");
        drop(others);
        assert!(slots.take(Uuid::now_v7()).is_ok());
    }
}
