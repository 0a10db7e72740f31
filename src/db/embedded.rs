//! The embedded default: a private PostgreSQL started from the machine's binaries.
//!
//! With no `DATABASE_URL`, `serve` and `migrate` run their own PostgreSQL with its
//! data under `<data dir>/postgres`. `initdb` and `postgres` refuse to run as root,
//! so when started as root the server runs them as the unprivileged `postgres`
//! user. The cluster listens on loopback only, on a free port chosen at each start,
//! behind a generated password kept beside the data (mode 0600). The postmaster is
//! a child of a dedicated thread that asks the kernel to stop it (fast shutdown)
//! should this process die without stopping it first.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User};
use rand::Rng;

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

/// Finds the folder holding `initdb` and `postgres`: `explicit`, else the
/// first of `search_path` that has both, else the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir(explicit: Option<&Path>, search_path: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = explicit {
        if has_both(dir) {
            return Ok(dir.to_owned());
        }
        bail!(missing_binaries_message(&dir.display().to_string()));
    }
    if let Some(dir) = search_path.iter().find(|dir| has_both(dir)) {
        return Ok(dir.clone());
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).ok_or_else(|| {
        anyhow!(missing_binaries_message(
            "PATH or /usr/lib/postgresql/*/bin"
        ))
    })
}

fn missing_binaries_message(where_: &str) -> String {
    format!(
        "PostgreSQL server binaries (initdb, postgres) were not found in {where_}. \
         Install them (Debian/Ubuntu: `apt-get install postgresql`), or set DATABASE_URL \
         to use an existing PostgreSQL server."
    )
}

/// The unprivileged account PostgreSQL runs under when we are root.
fn run_as() -> anyhow::Result<Option<User>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let user = User::from_name("postgres")
        .context("looking up the postgres user")?
        .ok_or_else(|| {
            anyhow!(
                "running as root, PostgreSQL must run as an unprivileged user, and there is \
                 no `postgres` user: install PostgreSQL (`apt-get install postgresql`) or run \
                 tenantgate as a normal user"
            )
        })?;
    Ok(Some(user))
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

/// Whether the postmaster has exited. (Fully qualified: diesel-async's
/// RunQueryDsl, imported here, shadows `load` on every type.)
fn has_exited(gone: &AtomicBool) -> bool {
    AtomicBool::load(gone, Ordering::SeqCst)
}

fn stop_pid(pid: Pid, exited: &mpsc::Receiver<()>, gone: &AtomicBool) {
    // Already gone (and reaped by its keeper thread): never signal a pid that
    // may since belong to another process.
    if has_exited(gone) {
        return;
    }
    // SIGINT is PostgreSQL's fast shutdown; SIGQUIT its immediate one.
    let _ = kill(pid, Signal::SIGINT);
    if exited.recv_timeout(Duration::from_secs(30)).is_err() {
        tracing::warn!(
            pid = pid.as_raw(),
            "PostgreSQL did not stop in 30 s; quitting it"
        );
        let _ = kill(pid, Signal::SIGQUIT);
        let _ = exited.recv_timeout(Duration::from_secs(5));
    }
}

/// Spawns `cmd` from a thread that lives as long as the child, so that the
/// child's parent-death signal fires only when this process ends.
fn spawn_kept(mut cmd: Command) -> anyhow::Result<(Pid, mpsc::Receiver<()>, Arc<AtomicBool>)> {
    let (pid_tx, pid_rx) = mpsc::channel();
    let (exit_tx, exit_rx) = mpsc::channel();
    let gone = Arc::new(AtomicBool::new(false));
    let gone_in_thread = gone.clone();
    std::thread::Builder::new()
        .name("embedded-postgres".into())
        .spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = pid_tx.send(Ok(child.id()));
                let _ = child.wait();
                gone_in_thread.store(true, Ordering::SeqCst);
                let _ = exit_tx.send(());
            }
            Err(err) => {
                let _ = pid_tx.send(Err(err));
            }
        })?;
    let pid = pid_rx
        .recv()
        .context("the PostgreSQL keeper thread ended")?
        .context("starting postgres")?;
    Ok((Pid::from_raw(pid as i32), exit_rx, gone))
}

fn init_cluster(
    bin: &Path,
    root: &Path,
    data: &Path,
    user: Option<&User>,
    password: &str,
    options: &EmbeddedOptions,
) -> anyhow::Result<()> {
    if data.exists() {
        // A half-made cluster from an interrupted first start: make it again.
        fs::remove_dir_all(data)?;
    }
    fs::create_dir_all(data)?;
    fs::set_permissions(data, fs::Permissions::from_mode(0o700))?;
    let pwfile = root.join("initdb-password");
    write_private(&pwfile, password)?;
    if let Some(user) = user {
        chown(data, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
        chown(&pwfile, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
    }
    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D")
        .arg(data)
        .args(["-U", SUPERUSER, "-A", "scram-sha-256", "-E", "UTF8"])
        .args(["--locale=C", "--no-instructions"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdin(Stdio::null());
    if options.ephemeral {
        cmd.arg("--no-sync");
    }
    if let Some(user) = user {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let out = cmd.output().context("running initdb")?;
    let _ = fs::remove_file(&pwfile);
    if !out.status.success() {
        let _ = fs::remove_dir_all(data);
        let hint = match user {
            Some(user) => format!(
                " (it ran as the `{}` user, which must be able to reach {}: every parent \
                 folder needs the execute permission)",
                user.name,
                data.display()
            ),
            None => String::new(),
        };
        bail!(
            "initdb failed{hint}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

fn random_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_name_what_to_install() {
        let empty = std::env::temp_dir().join(format!("tg-no-pg-{}", std::process::id()));
        fs::create_dir_all(&empty).unwrap();
        let err = find_bin_dir(Some(&empty), &[]).unwrap_err().to_string();
        assert!(err.contains("apt-get install postgresql"), "{err}");
        assert!(err.contains("DATABASE_URL"), "{err}");
    }
}
