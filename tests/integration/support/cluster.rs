//! The test PostgreSQL: TEST_DATABASE_URL when set, else a private cluster this
//! process starts (through the server's own embedded-PostgreSQL code) and that
//! stops when the process ends. Each test gets a database cloned from a template
//! that holds every migration.

use std::sync::OnceLock;

use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use tenantgate::db::embedded::{EmbeddedOptions, EmbeddedPostgres};

struct Cluster {
    /// A superuser URL of the cluster (any database; see `with_db`).
    base: String,
    template: String,
    _embedded: Option<EmbeddedPostgres>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The password the runtime role logs in with on the test cluster.
const APP_PASSWORD: &str = "tenantgateTestApp";

/// CREATE and DROP DATABASE one at a time: two concurrent DROP DATABASEs can
/// wait for each other's ProcSignalBarrier forever (seen on PostgreSQL 15).
static DDL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The URL of database `db` of the cluster whose URL (of any database) is `base`.
fn with_db(base: &str, db: &str) -> String {
    tenantgate::db::with_database(base, db).expect("a database URL")
}

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        // Its own thread and multi-thread runtime: migrations use block_in_place,
        // and nothing of this runtime is needed once the template exists.
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(start_cluster())
        })
        .join()
        .expect("starting the test cluster")
    })
}

async fn start_cluster() -> Cluster {
    let (base, embedded) = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            clean_stale_dirs();
            let root =
                std::env::temp_dir().join(format!("tenantgate-tests-{}", std::process::id()));
            let pg = EmbeddedPostgres::start(EmbeddedOptions {
                root,
                bin_dir: None,
                search_path: tenantgate::config::executable_search_path(),
                ephemeral: true,
            })
            .await
            .expect("starting the private test PostgreSQL");
            (pg.url("postgres"), Some(pg))
        }
    };
    let template = format!("tg_tpl_{}", migrations_fingerprint());
    let admin_url = with_db(&base, "postgres");
    let mut admin = AsyncPgConnection::establish(&admin_url)
        .await
        .expect("admin connection");
    // Another test process may be making the same template.
    admin
        .batch_execute("SELECT pg_advisory_lock(727274)")
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let exists: Count = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_database WHERE datname = '{template}'"
    ))
    .get_result(&mut admin)
    .await
    .unwrap();
    if exists.n == 0 {
        let building = format!("{template}_building");
        for sql in [
            format!("DROP DATABASE IF EXISTS {building}"),
            format!("CREATE DATABASE {building}"),
        ] {
            admin.batch_execute(&sql).await.unwrap();
        }
        tenantgate::db::migrate(&with_db(&base, &building))
            .await
            .expect("migrating the template");
        // The tests' clock may run ahead of the database's (the webhook
        // claim bounds the skew it is given by this; zero in production).
        AsyncPgConnection::establish(&with_db(&base, &building))
            .await
            .expect("template connection")
            .batch_execute("UPDATE webhook_claim_cursor SET max_skew = interval '3650 days'")
            .await
            .unwrap();
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .await
            .unwrap();
    }
    // The request path logs in as the runtime role, as the server does.
    admin
        .batch_execute(&format!(
            "ALTER ROLE tenantgate_app WITH LOGIN PASSWORD '{APP_PASSWORD}'"
        ))
        .await
        .unwrap();
    admin
        .batch_execute("SELECT pg_advisory_unlock(727274)")
        .await
        .unwrap();
    Cluster {
        base,
        template,
        _embedded: embedded,
    }
}

/// A short hash of the migrations, so a changed migration makes a new template.
fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut entries: Vec<_> = walk(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations"
    )));
    entries.sort();
    for path in entries {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&path).unwrap());
    }
    hex::encode(&hasher.finalize()[..6])
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Removes the cluster folders of test processes that are gone.
fn clean_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("tenantgate-tests-")
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A database of its own for one test, dropped when the test ends.
pub struct TestDb {
    /// Owner (superuser) URL of this database.
    pub url: String,
    /// The runtime role's URL of this database (what the server's pool uses).
    pub app_url: String,
    pub name: String,
}

impl TestDb {
    /// A database cloned from the migrated template.
    pub async fn create() -> Self {
        Self::create_from(true).await
    }

    /// A database with nothing in it (not even migrations).
    pub async fn create_empty() -> Self {
        Self::create_from(false).await
    }

    async fn create_from(migrated: bool) -> Self {
        let cluster = tokio::task::spawn_blocking(cluster).await.unwrap();
        let name = format!(
            "tg_test_{}_{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let base = cluster.base.clone();
        let template = cluster.template.clone();
        let sql = if migrated {
            format!("CREATE DATABASE {name} TEMPLATE {template}")
        } else {
            format!("CREATE DATABASE {name}")
        };
        tokio::task::spawn_blocking(move || {
            let _guard = DDL.lock().unwrap_or_else(|e| e.into_inner());
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = AsyncPgConnection::establish(&with_db(&base, "postgres"))
                    .await
                    .expect("admin connection");
                admin
                    .batch_execute(&sql)
                    .await
                    .expect("creating the test database");
            });
        })
        .await
        .unwrap();
        let url = with_db(&cluster.base, &name);
        Self {
            app_url: tenantgate::db::with_credentials(&url, "tenantgate_app", APP_PASSWORD)
                .unwrap(),
            url,
            name,
        }
    }

    /// An owner connection (superuser: bypasses RLS; for checks from outside).
    pub async fn owner(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url).await.unwrap()
    }

    /// Runs a `SELECT count(*) AS n …` as the owner.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.owner().await;
        let c: Count = diesel::sql_query(sql).get_result(&mut conn).await.unwrap();
        c.n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // A peer's handle (no name) does not own the database.
        if !self.name.is_empty()
            && CLUSTER.get().is_some()
            && let Ok(tx) = reaper().lock()
        {
            let _ = tx.send(self.name.clone());
        }
    }
}

/// Drops finished tests' databases in the background, one at a time. A DROP
/// DATABASE waits for every backend of the cluster to acknowledge it, and the
/// connections of a test that just ended close only when its runtime shuts
/// down, so dropping inline would block the test (and, seen on PostgreSQL 15,
/// can wait on live LISTEN connections of other tests for a long time).
fn reaper() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<String>> {
    static REAPER: OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<String>>> = OnceLock::new();
    REAPER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            while let Ok(name) = rx.recv() {
                let Some(cluster) = CLUSTER.get() else {
                    continue;
                };
                let admin_url = with_db(&cluster.base, "postgres");
                std::thread::sleep(std::time::Duration::from_millis(200));
                let _guard = DDL.lock().unwrap_or_else(|e| e.into_inner());
                rt.block_on(async {
                    if let Ok(mut admin) = AsyncPgConnection::establish(&admin_url).await {
                        let _ = admin
                            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                    }
                });
            }
        });
        std::sync::Mutex::new(tx)
    })
}
