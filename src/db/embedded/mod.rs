//! The embedded default: a private PostgreSQL started from the machine's binaries.
//!
//! With no `DATABASE_URL`, `serve` and `migrate` run their own PostgreSQL with its
//! data under `<data dir>/postgres`. `initdb` and `postgres` refuse to run as root,
//! so when started as root the server runs them as the unprivileged `postgres`
//! user. The cluster listens on loopback only, on a free port chosen at each start,
//! behind a generated password kept beside the data (mode 0600). The postmaster is
//! a child of a dedicated thread that asks the kernel to stop it (fast shutdown)
//! should this process die without stopping it first.
//!
//! `cluster.rs` makes the cluster (binaries, `initdb`, passwords); `process.rs`
//! keeps and stops the postmaster; this file starts it and hands out URLs.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

mod cluster;
mod process;

pub use cluster::find_bin_dir;
use cluster::{init_cluster, random_password, run_as, write_private};
use process::{has_exited, spawn_kept, stop_pid};

/// The superuser the embedded cluster is created with (it owns the schema).
pub const SUPERUSER: &str = "tenantgate";
/// The database the server uses inside the embedded cluster.
pub const DATABASE: &str = "tenantgate";

/// How to start an embedded cluster.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Folder holding the cluster (`data/`), its password and its log.
    pub root: PathBuf,
    /// Where to find `initdb` and `postgres`; `None` searches `search_path`
    /// and then `/usr/lib/postgresql/*/bin`.
    pub bin_dir: Option<PathBuf>,
    /// The folders to search for the binaries (the `PATH` that
    /// [`crate::config::executable_search_path`] reads).
    pub search_path: Vec<PathBuf>,
    /// Trade durability for speed (no fsync): for test clusters only.
    pub ephemeral: bool,
}

/// A running private PostgreSQL. Stop it with [`EmbeddedPostgres::stop`]; dropping
/// it stops it too (blocking).
pub struct EmbeddedPostgres {
    root: PathBuf,
    /// The folder of the Unix socket, when the cluster listens on one.
    socket_dir: Option<PathBuf>,
    port: u16,
    password: String,
    pid: Pid,
    exited: Mutex<mpsc::Receiver<()>>,
    /// Set by the keeper thread once the postmaster has exited and been reaped.
    gone: Arc<AtomicBool>,
    /// The data dir's lock, held while this value lives.
    _lock: nix::fcntl::Flock<fs::File>,
    stopped: bool,
}

impl std::fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedPostgres")
            .field("root", &self.root)
            .field("port", &self.port)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl EmbeddedPostgres {
    /// Starts the cluster under `options.root`, creating it on first use, and makes
    /// sure the server's database exists.
    pub async fn start(options: EmbeddedOptions) -> anyhow::Result<Self> {
        let started = Instant::now();
        let bin = find_bin_dir(options.bin_dir.as_deref(), &options.search_path)?;
        let user = run_as()?;
        let root = absolute(&options.root)?;
        let data = root.join("data");
        let password_file = root.join("password");

        fs::create_dir_all(&root)
            .with_context(|| format!("creating the data folder {}", root.display()))?;
        // The PostgreSQL user must be able to pass through root to reach data/.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o711))
            .with_context(|| format!("setting the permissions of {}", root.display()))?;
        // One process per data dir, for as long as it runs.
        let lock_file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join("lock"))
            .with_context(|| format!("opening {}", root.join("lock").display()))?;
        let lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusiveNonblock)
            .map_err(|_| {
                anyhow!(
                    "another tenantgate is already using the data dir {}: stop it, or pick \
                     another --data-dir",
                    root.display()
                )
            })?;
        // Written last by a successful initdb: without it, a cluster is half-made.
        let marker = root.join("initialized");

        let password = if marker.is_file() {
            fs::read_to_string(&password_file)
                .with_context(|| {
                    format!(
                        "the embedded cluster at {} has no password file {}",
                        data.display(),
                        password_file.display()
                    )
                })?
                .trim()
                .to_owned()
        } else {
            let password = random_password();
            write_private(&password_file, &password)?;
            init_cluster(&bin, &root, &data, user.as_ref(), &password, &options)?;
            fs::write(&marker, b"").with_context(|| format!("writing {}", marker.display()))?;
            tracing::info!(data = %data.display(), "created the embedded PostgreSQL cluster");
            password
        };

        // A Unix socket in a folder only the PostgreSQL user can enter: nothing
        // else on the machine can stand in for the server (a TCP port could be
        // taken between choosing it and binding it). Paths too long for a
        // socket fall back to a free loopback port.
        let socket_dir = root.join("run");
        let via_socket = socket_dir.as_os_str().len() + "/.s.PGSQL.5432".len() < 100;
        let port = if via_socket {
            fs::create_dir_all(&socket_dir)
                .with_context(|| format!("creating {}", socket_dir.display()))?;
            fs::set_permissions(&socket_dir, fs::Permissions::from_mode(0o700))?;
            if let Some(user) = &user {
                chown(
                    &socket_dir,
                    Some(user.uid.as_raw()),
                    Some(user.gid.as_raw()),
                )?;
            }
            5432
        } else {
            free_port()?
        };
        let log_path = root.join("postgres.log");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let log_start = log.metadata()?.len();
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .args(if via_socket {
                ["-c", "listen_addresses="]
            } else {
                ["-c", "listen_addresses=127.0.0.1"]
            })
            .arg("-c")
            .arg(if via_socket {
                format!("unix_socket_directories={}", socket_dir.display())
            } else {
                "unix_socket_directories=".to_owned()
            })
            .args(["-c", "max_connections=200"])
            .args(["-c", "shared_buffers=32MB"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a terminal's Ctrl-C reaches the server, which
            // drains requests and then stops PostgreSQL itself.
            .process_group(0);
        if options.ephemeral {
            cmd.args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                .args(["-c", "full_page_writes=off"]);
        }
        if let Some(user) = &user {
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        }
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from)
            });
        }
        let (pid, exited, gone) = spawn_kept(cmd)?;
        let mut pg = Self {
            socket_dir: via_socket.then_some(socket_dir),
            root,
            port,
            password,
            pid,
            exited: Mutex::new(exited),
            gone,
            _lock: lock,
            stopped: false,
        };

        if let Err(err) = pg.wait_ready(Duration::from_secs(60)).await {
            let tail = read_from(&log_path, log_start);
            pg.stop_blocking();
            if tail.contains("lock file \"postmaster.pid\" already exists") {
                bail!(
                    "another tenantgate (or PostgreSQL) is already using the data dir {}: \
                     stop it, or pick another --data-dir",
                    pg.root.display()
                );
            }
            return Err(err.context(format!(
                "the embedded PostgreSQL did not start; its log says:\n{tail}"
            )));
        }
        pg.ensure_database(DATABASE).await?;
        tracing::info!(
            port,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "embedded PostgreSQL is ready"
        );
        Ok(pg)
    }

    /// The URL of a database of this cluster, as its superuser.
    pub fn url(&self, database: &str) -> String {
        match &self.socket_dir {
            Some(dir) => format!(
                "postgres://{SUPERUSER}:{}@localhost:{}/{database}?host={}",
                self.password,
                self.port,
                percent_encode(&dir.to_string_lossy())
            ),
            None => format!(
                "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
                self.password, self.port
            ),
        }
    }

    /// The password the runtime role logs in with, generated once and kept
    /// beside the data (mode 0600).
    pub fn app_password(&self) -> anyhow::Result<String> {
        let path = self.root.join("app-password");
        if let Ok(existing) = fs::read_to_string(&path)
            && !existing.trim().is_empty()
        {
            return Ok(existing.trim().to_owned());
        }
        let password = random_password();
        write_private(&path, &password)?;
        Ok(password)
    }

    async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if has_exited(&self.gone) {
                bail!("PostgreSQL exited during start-up");
            }
            match AsyncPgConnection::establish(&self.url("postgres")).await {
                Ok(_) => return Ok(()),
                Err(err) if Instant::now() > deadline => {
                    bail!("PostgreSQL was not ready after {timeout:?}: {err}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Creates `database` if it does not exist yet.
    pub async fn ensure_database(&self, database: &str) -> anyhow::Result<()> {
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }
        let mut conn = AsyncPgConnection::establish(&self.url("postgres")).await?;
        let found: Exists = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
        )
        .bind::<Text, _>(database)
        .get_result(&mut conn)
        .await?;
        if !found.exists {
            conn.batch_execute(&format!("CREATE DATABASE \"{database}\""))
                .await?;
        }
        Ok(())
    }

    /// Stops the cluster (fast shutdown: open sessions are ended, data is flushed).
    pub async fn stop(mut self) {
        let pid = self.pid;
        let exited = std::mem::replace(&mut self.exited, Mutex::new(mpsc::channel().1));
        let gone = self.gone.clone();
        self.stopped = true;
        let _ = tokio::task::spawn_blocking(move || {
            if let Ok(rx) = exited.lock() {
                stop_pid(pid, &rx, &gone);
            }
        })
        .await;
    }

    fn stop_blocking(&mut self) {
        if !self.stopped {
            self.stopped = true;
            if let Ok(rx) = self.exited.lock() {
                stop_pid(self.pid, &rx, &self.gone);
            }
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop_blocking();
    }
}

/// Percent-encodes everything but unreserved characters (for a URL query).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(std::path::absolute(path)?)
}

fn read_from(path: &Path, offset: u64) -> String {
    let mut out = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.seek(SeekFrom::Start(offset));
        let _ = file.read_to_string(&mut out);
    }
    let lines: Vec<&str> = out.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
