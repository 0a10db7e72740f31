//! Writing one archive: a ZIP (the `zip` crate, deflate) of JSON Lines files
//! and `manifest.json`, written by a thread of its own that pages of lines
//! reach through a bounded channel, so at most a few pages are in memory
//! whatever the export's size. The ZIP is streamed (data descriptors, zip64
//! where needed) into a local file through a SHA-256 of the whole archive;
//! each file's own SHA-256 and row count go into the manifest.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The manifest's format version.
pub const FORMAT_VERSION: u32 = 1;

/// Pages waiting for the writer at most (each up to one page of rows).
const QUEUE: usize = 2;

/// What the archive's thread is told.
enum Cmd {
    File(&'static str),
    Lines(Vec<String>),
    Finish(Box<ManifestHead>),
}

/// The manifest, less its files (added by the writer).
#[derive(Debug, Clone, Serialize)]
pub struct ManifestHead {
    pub format: &'static str,
    pub format_version: u32,
    /// `tenant` or `person`.
    pub kind: &'static str,
    pub export_id: String,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    /// When the snapshot was taken (the read transaction's start), UTC.
    pub snapshot_at: String,
    /// When the archive was written, UTC.
    pub created_at: String,
}

/// One file of the archive, as the manifest lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub name: &'static str,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Serialize)]
struct Manifest<'a> {
    #[serde(flatten)]
    head: &'a ManifestHead,
    files: &'a [FileEntry],
}

/// The written archive.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub files: Vec<FileEntry>,
}

/// The sending end: files and lines go to the writer thread.
pub struct Archive {
    tx: mpsc::Sender<Cmd>,
    thread: tokio::task::JoinHandle<io::Result<Written>>,
}

impl Archive {
    /// Starts writing a new archive at `path` (replaced if present).
    pub fn create(path: PathBuf) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = tokio::task::spawn_blocking(move || write(path, rx));
        Self { tx, thread }
    }

    /// Starts the next file.
    pub async fn file(&self, name: &'static str) -> io::Result<()> {
        self.send(Cmd::File(name)).await
    }

    /// Appends lines (one JSON value each) to the current file.
    pub async fn lines(&self, lines: Vec<String>) -> io::Result<()> {
        self.send(Cmd::Lines(lines)).await
    }

    async fn send(&self, cmd: Cmd) -> io::Result<()> {
        self.tx
            .send(cmd)
            .await
            .map_err(|_| io::Error::other("the archive writer stopped"))
    }

    /// Writes the manifest and closes the archive.
    pub async fn finish(self, head: ManifestHead) -> io::Result<Written> {
        let sent = self.send(Cmd::Finish(Box::new(head))).await;
        drop(self.tx);
        let written = self
            .thread
            .await
            .map_err(|e| io::Error::other(format!("the archive writer panicked: {e}")))?;
        sent.and(written)
    }

    /// Gives up (the partial file is left to the caller to remove).
    pub async fn abandon(self) {
        drop(self.tx);
        let _ = self.thread.await;
    }
}

/// Counts and hashes what passes through.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The file being written and its running totals.
struct Current {
    name: &'static str,
    rows: u64,
    bytes: u64,
    sha: Sha256,
}

impl Current {
    fn close(self) -> FileEntry {
        FileEntry {
            name: self.name,
            rows: self.rows,
            bytes: self.bytes,
            sha256: hex::encode(self.sha.finalize()),
        }
    }
}

fn zip_err(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e)
}

/// The writer thread: until `Finish`, or until the sender goes away (an
/// abandoned export: an error, so nothing is kept).
fn write(path: PathBuf, mut rx: mpsc::Receiver<Cmd>) -> io::Result<Written> {
    let file = File::create(&path)?;
    let sink = Hashing {
        inner: BufWriter::with_capacity(256 * 1024, file),
        sha: Sha256::new(),
        bytes: 0,
    };
    let mut zip = ZipWriter::new_stream(sink);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .large_file(true);
    let mut files = Vec::new();
    let mut current: Option<Current> = None;
    loop {
        let Some(cmd) = rx.blocking_recv() else {
            return Err(io::Error::other("the export was abandoned"));
        };
        match cmd {
            Cmd::File(name) => {
                if let Some(done) = current.take() {
                    files.push(done.close());
                }
                zip.start_file(name, options).map_err(zip_err)?;
                current = Some(Current {
                    name,
                    rows: 0,
                    bytes: 0,
                    sha: Sha256::new(),
                });
            }
            Cmd::Lines(lines) => {
                let cur = current
                    .as_mut()
                    .ok_or_else(|| io::Error::other("lines before any file"))?;
                for line in lines {
                    cur.sha.update(line.as_bytes());
                    cur.sha.update(b"\n");
                    cur.bytes += line.len() as u64 + 1;
                    cur.rows += 1;
                    zip.write_all(line.as_bytes())?;
                    zip.write_all(b"\n")?;
                }
            }
            Cmd::Finish(head) => {
                if let Some(done) = current.take() {
                    files.push(done.close());
                }
                let manifest = serde_json::to_vec_pretty(&Manifest {
                    head: &head,
                    files: &files,
                })
                .map_err(io::Error::other)?;
                zip.start_file("manifest.json", options).map_err(zip_err)?;
                zip.write_all(&manifest)?;
                let stream = zip.finish().map_err(zip_err)?;
                let mut sink = stream.into_inner();
                sink.flush()?;
                let Hashing { inner, sha, bytes } = sink;
                inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                return Ok(Written {
                    path,
                    size: bytes,
                    sha256: hex::encode(sha.finalize()),
                    files,
                });
            }
        }
    }
}
