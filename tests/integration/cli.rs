//! The binary itself: `serve` on the embedded default (create, reuse, stop),
//! `migrate`, `schema`, `--help`, and production's refusal of generated secrets.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{PASSWORD, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_tenantgate");

fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "JWT_PREVIOUS_SECRET",
        "TENANTGATE_DEMO",
        "TENANTGATE_APP_DATABASE_URL",
        "DATABASE_URL",
        "JWT_SECRET",
        "JWT_SECRET_FILE",
        "TENANTGATE_ENV",
        "TENANTGATE_DATA_DIR",
        "TENANTGATE_LISTEN",
        "TENANTGATE_METRICS_TOKEN",
        "TENANTGATE_METRICS_LISTEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("TENANTGATE_LOG", "warn");
    cmd
}

struct Server {
    child: Child,
    url: String,
    ready_after: Duration,
}

fn start(data_dir: &std::path::Path) -> Server {
    let started = Instant::now();
    let mut child = command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("tenantgate listening on ") {
                let url = rest.split_whitespace().next().unwrap().to_owned();
                let _ = tx.send(url);
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(90))
        .expect("the server never said it was listening");
    Server {
        child,
        url,
        ready_after: started.elapsed(),
    }
}

fn wait_exit(mut server: Server) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(mut server: Server) -> std::process::ExitStatus {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn sign_up(url: &str, email: &str) -> serde_json::Value {
    let res = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .header("content-type", "application/json")
        .body(
            json!({
                "query": "mutation($i: SignUpInput!) { signUp(input: $i) { tenant { slug } } }",
                "variables": { "i": { "email": email, "password": PASSWORD, "tenantName": "Embedded" } }
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_the_embedded_default_creates_reuses_and_stops_postgres() {
    let dir = std::env::temp_dir().join(format!("tg-cli-{}", uuid::Uuid::new_v4().simple()));
    let first = start(&dir);
    eprintln!(
        "cold start, empty data dir: ready after {:?}",
        first.ready_after
    );
    let ready = reqwest::get(format!("{}/readyz", first.url)).await.unwrap();
    assert_eq!(ready.status(), 200);
    let made = sign_up(&first.url, "embedded@example.com").await;
    assert_eq!(
        made["data"]["signUp"]["tenant"]["slug"], "embedded",
        "{made}"
    );
    let pid_file = dir.join("postgres/data/postmaster.pid");
    assert!(pid_file.exists());
    let status = stop(first);
    assert!(status.success(), "{status:?}");
    assert!(!pid_file.exists(), "PostgreSQL was not stopped");

    // The second start reuses the data: the email is taken now.
    let second = start(&dir);
    // A third, on the same data dir at the same time, is refused at once.
    let started = Instant::now();
    let out = command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already using the data dir"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    eprintln!(
        "cold start, existing data dir: ready after {:?}",
        second.ready_after
    );
    let again = sign_up(&second.url, "embedded@example.com").await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "CONFLICT",
        "{again}"
    );
    assert!(stop(second).success());
    assert!(!pid_file.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_drains_in_flight_requests() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("tg-drain-{}", uuid::Uuid::new_v4().simple()));
    let server = start(&dir);
    let addr = server.url.trim_start_matches("http://").to_owned();
    // A request whose headers have arrived but whose body has not: in flight.
    let body = json!({
        "query": "mutation($i: SignUpInput!) { signUp(input: $i) { tenant { slug } } }",
        "variables": { "i": { "email": "drain@example.com", "password": PASSWORD, "tenantName": "Drain" } }
    })
    .to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = nix::unistd::Pid::from_raw(server.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Draining: no new connections are taken…
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "still accepting after SIGTERM"
    );
    // …but the request in flight completes.
    conn.write_all(tail.as_bytes()).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""slug":"drain""#), "{response}");
    // One signal was enough: the server drains and exits by itself.
    let status = wait_exit(server);
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn production_refuses_generated_secrets() {
    let out = command()
        .args([
            "serve",
            "--env",
            "production",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");

    let out = command()
        .args([
            "serve",
            "--env",
            "production",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .env("JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 bytes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_listener_from_the_command_line() {
    let short = command()
        .args(["serve", "--metrics-token", "short"])
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 16"));

    // Serving with DATABASE_URL also passes the start-up LISTEN/NOTIFY check.
    let db = TestDb::create().await;
    let mut child = command()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .env("DATABASE_URL", &db.url)
        .env("TENANTGATE_METRICS_TOKEN", "metrics-token-from-env-1234")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            for prefix in ["tenantgate metrics on ", "tenantgate listening on "] {
                if let Some(rest) = line.strip_prefix(prefix) {
                    let url = rest.split_whitespace().next().unwrap().to_owned();
                    let _ = tx.send(url);
                }
            }
        }
    });
    let metrics = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("metrics address");
    let main = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("main address");
    let client = reqwest::Client::new();
    let get = |url: String, token: Option<&'static str>| {
        let mut req = client.get(url);
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let token = Some("metrics-token-from-env-1234");
    assert_eq!(get(format!("{main}/metrics"), token).await, 404);
    assert_eq!(get(metrics.clone(), None).await, 401);
    assert_eq!(get(metrics, token).await, 200);
    let status = stop(Server {
        child,
        url: main,
        ready_after: Duration::ZERO,
    });
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_then_reports_up_to_date() {
    let db = TestDb::create_empty().await;
    let run = || {
        command()
            .arg("migrate")
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("applied migration"), "{stdout}");
    let out = run();
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    assert_eq!(db.count("SELECT count(*) AS n FROM plans").await, 4);
}

#[test]
fn schema_prints_the_checked_in_sdl() {
    let out = command().arg("schema").output().unwrap();
    assert!(out.status.success());
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), file);
}

#[test]
fn help_documents_every_setting() {
    let out = command().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for name in [
        "--listen",
        "TENANTGATE_LISTEN",
        "--database-url",
        "DATABASE_URL",
        "--data-dir",
        "TENANTGATE_DATA_DIR",
        "--env",
        "TENANTGATE_ENV",
        "--demo",
        "JWT_SECRET",
        "JWT_SECRET_FILE",
        "JWT_PREVIOUS_SECRET",
        "TENANTGATE_LOG",
        "TENANTGATE_LOG_FORMAT",
        "TENANTGATE_DEMO",
        "TENANTGATE_DB_POOL_SIZE",
        "TENANTGATE_SHUTDOWN_GRACE",
        "TENANTGATE_APP_DATABASE_URL",
        "TENANTGATE_PUBLIC_URL",
        "SMTP_URL",
        "TENANTGATE_TRUSTED_PROXIES",
        "--trusted-documents",
        "TENANTGATE_TRUSTED_DOCUMENTS",
        "TENANTGATE_MAIL_FROM",
        "TENANTGATE_METRICS_TOKEN",
        "TENANTGATE_METRICS_LISTEN",
        "migrate",
        "schema",
        "serve",
        "admin",
    ] {
        assert!(help.contains(name), "--help does not mention {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_promote_and_demote_from_the_command_line() {
    let db = TestDb::create().await;
    let mut owner = db.owner().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut owner,
        "INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'ops@example.com')",
    )
    .await
    .unwrap();
    let run = |args: &[&str]| {
        command()
            .args(args)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    let out = run(&["admin", "promote", "OPS@example.com"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM platform_admins").await,
        1
    );
    let out = run(&["admin", "promote", "nobody@example.com"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user has the email"));
    let out = run(&["admin", "demote", "ops@example.com"]);
    assert!(out.status.success());
    assert_eq!(
        db.count("SELECT count(*) AS n FROM platform_admins").await,
        0
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM audit_log WHERE action IN ('user.promote', 'user.demote')"
        )
        .await,
        2
    );
}
