//! Test support: a private PostgreSQL (or TEST_DATABASE_URL), one database per
//! test cloned from a migrated template, and the real router served on a
//! loopback port.

pub mod cluster;
pub mod dns;
pub mod hosts;
pub mod widget;

use std::sync::Arc;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tenantgate::app::{AppState, Settings};
use tenantgate::audit::feed::Feed;
use tenantgate::auth::jwt::JwtKeys;
use tenantgate::auth::key_cache::KeyCache;
use tenantgate::config::{ConnectionLimits, Environment, Limits, MetricsAccess, TrustedMode};
use tenantgate::db::{Db, PoolOptions};
use tenantgate::graphql::trusted::TrustedDocuments;
use tenantgate::plans::PlanCatalogue;
use tenantgate::usage::Usage;
use tenantgate::usage::limits::Limiter;
use tokio::task::JoinHandle;

pub use cluster::TestDb;

/// The signing secret of test servers.
pub const SECRET: &[u8] = b"integration-test-secret-0123456789abcdef";
/// A password the strength check accepts.
pub const PASSWORD: &str = "correct-horse-battery-9";

/// A running server over its own database.
pub struct TestApp {
    pub url: String,
    pub state: AppState,
    pub client: reqwest::Client,
    pub db: TestDb,
    /// Reverse proxies the server trusts (`gql` then sends an X-Forwarded-For).
    pub trusted_proxies: usize,
    server: JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        self.state.feed.stop();
        self.state.db.close();
    }
}

/// A decoded HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `extensions.code` of the first error.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("<none>")
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Environment::Development, PoolOptions::default()).await
    }

    pub async fn spawn_with(environment: Environment, pool: PoolOptions) -> Self {
        let db = TestDb::create().await;
        let pool = Db::connect(&db.app_url, &pool).expect("pool");
        Self::serve(db, pool, environment).await
    }

    /// Serves the router over `pool` (which may point anywhere, e.g. nowhere).
    pub async fn serve(db: TestDb, pool: Db, environment: Environment) -> Self {
        Self::serve_limited(db, pool, environment, Limiter::local()).await
    }

    /// A second instance over the same database (its own pool, key cache,
    /// limits and LISTEN connection), as behind a load balancer. It does not
    /// own the database: drop it before the first.
    pub async fn peer(&self, limiter: Limiter) -> Self {
        let db = TestDb {
            url: self.db.url.clone(),
            app_url: self.db.app_url.clone(),
            name: String::new(),
        };
        let pool = Db::connect(&db.app_url, &PoolOptions::default()).expect("pool");
        Self::serve_limited(db, pool, Environment::Development, limiter).await
    }

    /// Serves the router with rate-limit counters in `limiter`.
    pub async fn serve_limited(
        db: TestDb,
        pool: Db,
        environment: Environment,
        limiter: Limiter,
    ) -> Self {
        Self::serve_tuned(db, pool, environment, limiter, |_| {}).await
    }

    /// A server behind `trusted_proxies` reverse proxies: the client address
    /// is read from `X-Forwarded-For`, which tests then set themselves.
    pub async fn spawn_behind_proxies(trusted_proxies: usize) -> Self {
        Self::spawn_tuned(|s| s.trusted_proxies = trusted_proxies).await
    }

    /// A development server whose settings `tune` changes (limits, metrics).
    pub async fn spawn_tuned(tune: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::create().await;
        let pool = Db::connect(&db.app_url, &PoolOptions::default()).expect("pool");
        Self::serve_tuned(db, pool, Environment::Development, Limiter::local(), tune).await
    }

    /// A development server that knows `documents` (a test's own manifest),
    /// with `--trusted-documents` at `mode`.
    pub async fn spawn_trusted(documents: TrustedDocuments, mode: TrustedMode) -> Self {
        Self::spawn_tuned(|s| {
            s.trusted_documents = mode;
            s.documents = documents;
        })
        .await
    }

    async fn serve_tuned(
        db: TestDb,
        pool: Db,
        environment: Environment,
        limiter: Limiter,
        tune: impl FnOnce(&mut Settings),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let api_keys = KeyCache::new();
        let plans = PlanCatalogue::new();
        let mut settings = Settings {
            environment,
            limits: Limits::default(),
            public_url: url.clone(),
            trusted_proxies: 0,
            publishable_key_rate: tenantgate::http::public::DEFAULT_KEY_RATE,
            connections: ConnectionLimits::default(),
            metrics: MetricsAccess::default(),
            billing: None,
            web_dir: None,
            trusted_documents: TrustedMode::Off,
            documents: TrustedDocuments::default(),
            exports: tenantgate::exports::ExportSettings::in_folder(
                std::env::temp_dir().join(format!("tenantgate-exports-{}", uuid::Uuid::new_v4())),
            ),
            deletion_grace: std::time::Duration::from_secs(14 * 86_400),
            webhooks: Default::default(),
            domains: tenantgate::domains::DomainSettings::default(),
        };
        tune(&mut settings);
        let trusted_proxies = settings.trusted_proxies;
        let usage = Usage::new(limiter);
        let state = AppState::new(
            pool,
            JwtKeys::new(SECRET, None).unwrap(),
            settings,
            Feed::start(
                db.url.clone(),
                api_keys.clone(),
                plans.clone(),
                usage.metrics().clone(),
            ),
            api_keys,
            plans,
            usage,
        );
        let router = tenantgate::http::router(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        Self {
            url,
            state,
            client: reqwest::Client::new(),
            db,
            trusted_proxies,
            server,
        }
    }

    pub fn keys(&self) -> Arc<JwtKeys> {
        self.state.keys.clone()
    }

    /// The bodies of the mail queued for `to`, newest first, opened with this
    /// server's keys (the outbox holds them sealed; delivered mail has none).
    pub async fn mail_bodies(&self, to: &str) -> Vec<String> {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
            #[diesel(sql_type = diesel::sql_types::Bytea)]
            sealed_body: Vec<u8>,
        }
        let sealer = tenantgate::mail::Sealer::new(&self.state.keys);
        let mut owner = self.db.owner().await;
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT id, sealed_body FROM email_outbox
             WHERE recipient = $1 AND sealed_body IS NOT NULL
             ORDER BY created_at DESC, id DESC",
        )
        .bind::<diesel::sql_types::Text, _>(to)
        .load(&mut owner)
        .await
        .unwrap();
        rows.into_iter()
            .map(|r| {
                sealer
                    .open(r.id, &r.sealed_body)
                    .expect("a sealed body opens")
            })
            .collect()
    }

    /// Sends a raw request to `/graphql`.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// POSTs an operation as `application/json`, accepting graphql-response+json.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Answer {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.url))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(json!({ "query": query, "variables": variables }).to_string());
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        for _ in 0..self.trusted_proxies {
            req = req.header("x-forwarded-for", "192.0.2.1");
        }
        self.send(req).await
    }

    /// POSTs an operation with variables as `token` (accepting
    /// graphql-response+json), with extra headers.
    pub async fn gql_headers(
        &self,
        query: &str,
        variables: Value,
        token: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.url))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .header("authorization", format!("Bearer {token}"))
            .body(json!({ "query": query, "variables": variables }).to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// Signs up, confirms the email address (as following the verification
    /// link would; inviting needs it) and returns (token, user id, tenant id).
    pub async fn sign_up(&self, email: &str, tenant: &str) -> (String, String, String) {
        let made = self.sign_up_unverified(email, tenant).await;
        self.db
            .count(&format!(
                "WITH v AS (UPDATE users SET email_verified_at = now() WHERE id = '{}' RETURNING 1) \
                 SELECT count(*) AS n FROM v",
                made.1
            ))
            .await;
        made
    }

    /// Puts `tenant` on the plan `plan` as the database owner (no audit entry,
    /// no platform admin needed): for tests whose teams outgrow the free
    /// plan's members.
    pub async fn set_plan(&self, tenant: &str, plan: &str) {
        let changed = self
            .db
            .count(&format!(
                "WITH v AS (UPDATE tenants SET plan_key = '{plan}' WHERE id = '{tenant}' RETURNING 1) \
                 SELECT count(*) AS n FROM v"
            ))
            .await;
        assert_eq!(changed, 1, "no tenant {tenant}");
    }

    /// Signs up (the email stays unconfirmed) and returns (token, user id, tenant id).
    pub async fn sign_up_unverified(&self, email: &str, tenant: &str) -> (String, String, String) {
        let a = self
            .gql(
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } tenant { id } } }",
                json!({ "i": { "email": email, "password": PASSWORD, "tenantName": tenant } }),
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        let p = &a.body["data"]["signUp"];
        (
            p["accessToken"].as_str().unwrap().to_owned(),
            p["user"]["id"].as_str().unwrap().to_owned(),
            p["tenant"]["id"].as_str().unwrap().to_owned(),
        )
    }
}
