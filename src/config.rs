//! The command line and configuration: the only reader of the environment.
//!
//! Every setting is a flag with an environment twin (clap's `env`), so `--help`
//! documents all of them. The README has the same table.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// tenantgate: the control plane of a multi-tenant SaaS, as one GraphQL API.
#[derive(Debug, Parser)]
#[command(name = "tenantgate", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Whether `--listen` was given on the command line (not from the
    /// environment or the default); `stripe-sim` has a default of its own.
    #[arg(skip)]
    pub listen_on_command_line: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default when no subcommand is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) that schema.graphql holds.
    Schema,
    /// Platform administration from the command line.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Stripe billing from the command line (needs STRIPE_SECRET_KEY).
    Billing {
        #[command(subcommand)]
        action: BillingAction,
    },
    /// Run the Stripe simulator (development only; refused with --env production):
    /// a test double of Stripe's API to point STRIPE_API_BASE at. Listens on
    /// --listen (default 127.0.0.1:12111); its secret key is STRIPE_SECRET_KEY when
    /// set (a test key), else generated; it prints its base URL and keys.
    StripeSim(StripeSimArgs),
}

/// `tenantgate billing …`.
#[derive(Debug, Clone, Subcommand)]
pub enum BillingAction {
    /// Re-read every subscription and recent invoice from Stripe and converge
    /// our rows and the tenants' plans to them (repairs missed webhooks).
    Reconcile,
    /// Give every paid plan without Stripe price ids a Stripe price per
    /// interval (found by lookup key `tenantgate_<plan>_<interval>`, or made).
    SyncPrices,
}

/// `tenantgate stripe-sim …`.
#[derive(Debug, Clone, Args)]
pub struct StripeSimArgs {
    /// A webhook endpoint to deliver events to (e.g.
    /// `http://127.0.0.1:8080/webhooks/stripe`).
    #[arg(long)]
    pub webhook_url: Option<String>,

    /// The endpoint's signing secret (`whsec_…`). Default: the first of
    /// STRIPE_WEBHOOK_SECRET, else a generated one (printed).
    #[arg(long, requires = "webhook_url")]
    pub webhook_secret: Option<String>,

    /// Hold events until they are delivered through the control API
    /// (`POST /_sim/events/<id>/deliver`) instead of delivering them.
    #[arg(long)]
    pub hold_events: bool,
}

/// Where `tenantgate stripe-sim` listens unless `--listen` is given.
pub const STRIPE_SIM_LISTEN: &str = "127.0.0.1:12111";

/// `tenantgate admin …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminAction {
    /// Make the user with this email a platform admin.
    Promote { email: String },
    /// Take platform-admin rights from the user with this email.
    Demote { email: String },
}

/// Settings every subcommand that touches the database shares.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// PostgreSQL URL. Unset: a private PostgreSQL is started from the machine's
    /// PostgreSQL binaries, with its data under the data dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL URL the request path logs in with, as the `tenantgate_app`
    /// role (no ownership, no BYPASSRLS). Needed in production with DATABASE_URL;
    /// unset with the embedded default (it sets one up itself).
    #[arg(
        long,
        env = "TENANTGATE_APP_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub app_database_url: Option<String>,

    /// Where local state lives: the embedded PostgreSQL's data and, in
    /// development, the generated signing key.
    #[arg(
        long,
        env = "TENANTGATE_DATA_DIR",
        default_value = "./.tenantgate",
        global = true
    )]
    pub data_dir: PathBuf,

    /// `development` or `production`. Production refuses to start with generated
    /// secrets, and hides introspection and field suggestions from anonymous callers.
    #[arg(long = "env", env = "TENANTGATE_ENV", value_enum, default_value_t = Environment::Development, global = true)]
    pub environment: Environment,

    /// Log filter (tracing's EnvFilter syntax, e.g. `info,tenantgate=debug`).
    #[arg(
        long,
        env = "TENANTGATE_LOG",
        default_value = "info,tower_http=info",
        global = true
    )]
    pub log: String,

    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(long, env = "TENANTGATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(
        long,
        env = "TENANTGATE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// The public base URL of this server, used in links sent by email
    /// (default: http:// and the listen address).
    #[arg(long, env = "TENANTGATE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Serve the web app from this folder (a `vite build` output, e.g.
    /// `web/dist`) instead of the copy built into the binary: for working on
    /// the app without rebuilding the server. Unset: the embedded copy.
    #[arg(long, env = "TENANTGATE_WEB_DIR", global = true)]
    pub web_dir: Option<std::path::PathBuf>,

    /// Where data export archives are kept (a folder; created when missing).
    /// Unset: `exports` under the data dir. Every instance must see the same
    /// folder (a shared volume) when there are several.
    #[arg(long, env = "TENANTGATE_EXPORT_DIR", global = true)]
    pub export_dir: Option<std::path::PathBuf>,

    /// `on`: signed-in users (access tokens) and anonymous callers may run
    /// only the web app's own operations (trusted documents, sent by id);
    /// API keys and platform admins still send any text. `off`: ids and text
    /// from anyone.
    #[arg(
        long,
        env = "TENANTGATE_TRUSTED_DOCUMENTS",
        value_enum,
        default_value_t = TrustedMode::Off,
        global = true
    )]
    pub trusted_documents: TrustedMode,

    /// Days the platform's own audit trail (entries of no tenant: platform
    /// admins' platform-wide reads and changes) is kept, 30 to 3,650.
    /// Tenants' entries are kept as long as their plan says
    /// (`audit_retention_days`).
    #[arg(
        long,
        env = "TENANTGATE_PLATFORM_AUDIT_RETENTION_DAYS",
        default_value_t = 365,
        value_parser = clap::value_parser!(u32).range(30..=3650),
        global = true
    )]
    pub platform_audit_retention_days: u32,

    /// SMTP server for outgoing email (lettre's URL form, e.g.
    /// `smtp://user:pass@mail.example.com:587?tls=required`). Unset: emails stay in
    /// the outbox table and the log.
    #[arg(long, env = "SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Redis for rate-limit counters and idempotency keys shared by every
    /// instance (e.g. `redis://127.0.0.1:6379`). Unset: counters live in each
    /// process (right for a single instance).
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Stripe's secret key (`sk_live_…`/`sk_test_…`). Unset: billing is off,
    /// everything else works and platform admins assign plans (`setTenantPlan`).
    #[arg(long, env = "STRIPE_SECRET_KEY", global = true, hide_env_values = true)]
    pub stripe_secret_key: Option<String>,

    /// The signing secret(s) of the `/webhooks/stripe` endpoint (`whsec_…`);
    /// during a rotation give both, comma-separated.
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub stripe_webhook_secret: Option<String>,

    /// Another base URL for Stripe's API (e.g. the simulator of
    /// `tenantgate stripe-sim`); default `https://api.stripe.com`.
    #[arg(long, env = "STRIPE_API_BASE", global = true)]
    pub stripe_api_base: Option<String>,

    /// The From of outgoing email.
    #[arg(
        long,
        env = "TENANTGATE_MAIL_FROM",
        default_value = "tenantgate <no-reply@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// How many reverse proxies (load balancers) stand in front of this server:
    /// the client address is then read from X-Forwarded-For, that many hops from
    /// the right. 0 trusts no header and uses the TCP peer.
    #[arg(
        long,
        env = "TENANTGATE_TRUSTED_PROXIES",
        default_value_t = 0,
        global = true
    )]
    pub trusted_proxies: usize,

    /// Calls a minute one publishable key may serve (`/v1/public/{key}/…`,
    /// every client address together; each address has its own budget too).
    #[arg(
        long,
        env = "TENANTGATE_PUBLISHABLE_KEY_RATE",
        default_value_t = crate::http::public::DEFAULT_KEY_RATE,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        global = true
    )]
    pub publishable_key_rate: u32,

    /// Seed demo tenants, users and a platform admin, and print their credentials;
    /// give the default plans monthly api_calls quotas where they have none.
    #[arg(long, env = "TENANTGATE_DEMO", global = true)]
    pub demo: bool,

    /// Secret for signing access tokens (HS256, at least 32 bytes); the key that
    /// seals stored email bodies is derived from it. Unset in development: one
    /// is generated and kept in the data dir.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// A file holding the signing secret (an alternative to JWT_SECRET).
    #[arg(
        long,
        env = "JWT_SECRET_FILE",
        conflicts_with = "jwt_secret",
        global = true
    )]
    pub jwt_secret_file: Option<PathBuf>,

    /// The previous signing secret: tokens it signed still verify (and email
    /// queued under it still opens), so the key can rotate without logging
    /// everybody out.
    #[arg(
        long,
        env = "JWT_PREVIOUS_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_previous_secret: Option<String>,

    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "TENANTGATE_DB_POOL_SIZE",
        default_value_t = 16,
        global = true,
        value_parser = clap::value_parser!(u16).range(1..=1000).map(usize::from)
    )]
    pub db_pool_size: usize,

    /// Bearer token that `/metrics` requires (`Authorization: Bearer <token>`, at
    /// least 16 characters). Without it and without --metrics-listen, `/metrics`
    /// is not served.
    #[arg(
        long,
        env = "TENANTGATE_METRICS_TOKEN",
        hide_env_values = true,
        global = true,
        value_parser = parse_metrics_token
    )]
    pub metrics_token: Option<String>,

    /// Serve `/metrics` on this address of its own (e.g. an internal interface)
    /// instead of the main listener. Port 0 picks a free port (printed).
    #[arg(long, env = "TENANTGATE_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// Days between a tenant's deletion request and its purge (0 to 365):
    /// its owners can cancel the deletion meanwhile.
    #[arg(
        long,
        env = "TENANTGATE_TENANT_DELETION_GRACE_DAYS",
        default_value_t = 14,
        value_parser = clap::value_parser!(u32).range(0..=365),
        global = true
    )]
    pub tenant_deletion_grace_days: u32,

    /// Outgoing webhooks may go to loopback addresses, and endpoint URLs may
    /// be `http://` to a loopback host: for trying webhooks locally.
    /// Refused with `--env production`.
    #[arg(
        long,
        env = "TENANTGATE_WEBHOOKS_ALLOW_LOOPBACK",
        default_value_t = false,
        global = true
    )]
    pub webhooks_allow_loopback: bool,

    /// Webhook attempts in flight per instance (1 to 1,000).
    #[arg(
        long,
        env = "TENANTGATE_WEBHOOKS_CONCURRENCY",
        default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..=1000),
        global = true
    )]
    pub webhooks_concurrency: u32,

    /// Webhook attempts in flight per instance to any one endpoint (1 to
    /// 1,000), so a slow receiver holds only so many of the slots.
    #[arg(
        long,
        env = "TENANTGATE_WEBHOOKS_PER_ENDPOINT",
        default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(1..=1000),
        global = true
    )]
    pub webhooks_per_endpoint: u32,
    /// The domain whose subdomains name tenants: `acme.<base>` serves the
    /// tenant with slug `acme` (e.g. app.example.com, with a wildcard DNS
    /// record and certificate). Unset: only verified custom domains do.
    #[arg(long, env = "TENANTGATE_BASE_DOMAIN", global = true, value_parser = parse_base_domain)]
    pub base_domain: Option<String>,

    /// Name servers that verify custom domains' TXT records (address:port,
    /// repeat or comma-separate). Unset: the system's (/etc/resolv.conf).
    #[arg(
        long = "dns-server",
        env = "TENANTGATE_DNS_SERVERS",
        value_delimiter = ',',
        global = true
    )]
    pub dns_servers: Vec<SocketAddr>,

    /// Seconds to wait for in-flight requests on shutdown before closing anyway.
    #[arg(
        long,
        env = "TENANTGATE_SHUTDOWN_GRACE",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// Whether callers other than API keys and platform admins may send query
/// text (see `--trusted-documents`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TrustedMode {
    /// Ids and text from anyone.
    #[default]
    Off,
    /// Signed-in users and anonymous callers send trusted documents only.
    On,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The limits the GraphQL endpoint enforces. Defaults follow graphql-armor's.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body, in bytes (more gets 413).
    pub max_body_bytes: usize,
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// Most aliases in one document.
    pub max_aliases: usize,
    /// Highest cost: each field costs 1, a list field 1 plus its selection's
    /// cost times the rows it may return (`first`, else the default page).
    pub max_complexity: usize,
    /// Most selections once every fragment spread is replaced by its fragment
    /// (what every pass that follows spreads walks).
    pub max_selections: usize,
    /// Most directives in one document.
    pub max_directives: usize,
    /// Most lexical tokens in one document.
    pub max_tokens: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            max_depth: 10,
            max_aliases: 15,
            max_complexity: 5000,
            max_selections: 2000,
            max_directives: 50,
            max_tokens: 2000,
        }
    }
}

/// Who may read `/metrics`, and where (see `--metrics-token`, `--metrics-listen`).
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess {
    /// The bearer token every scrape must present, if any.
    pub token: Option<String>,
    /// Served on its own listener (and not on the main one).
    pub own_listener: bool,
}

impl MetricsAccess {
    /// Whether the main listener serves `/metrics` (only behind a token).
    pub fn on_main_listener(&self) -> bool {
        self.token.is_some() && !self.own_listener
    }
}

fn parse_metrics_token(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.len() < 16 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the metrics token must be at least 16 visible ASCII characters".into());
    }
    Ok(value.to_owned())
}

/// Limits of connections: the request timeout and the WebSocket caps. Counts
/// are per instance (each process counts its own sockets).
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Longest a request (reading its body included) may take; an accepted
    /// WebSocket upgrade is timed only until it is accepted.
    pub request_timeout: Duration,
    /// Largest WebSocket message (and frame), in bytes.
    pub ws_max_message_bytes: usize,
    /// Most open sockets per client address (IPv6: per /64).
    pub ws_per_address: usize,
    /// Most open sockets per session (or API key).
    pub ws_per_session: usize,
    /// Most running subscriptions per socket.
    pub ws_subscriptions_per_socket: usize,
    /// How long a new socket may take to send `connection_init`.
    pub ws_init_timeout: Duration,
    /// How often the server pings a socket (WebSocket ping frames).
    pub ws_ping_interval: Duration,
    /// A socket from which nothing (not even a pong) arrived for this long is closed.
    pub ws_idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            ws_max_message_bytes: 64 * 1024,
            ws_per_address: 20,
            ws_per_session: 5,
            ws_subscriptions_per_socket: 10,
            ws_init_timeout: Duration::from_secs(10),
            ws_ping_interval: Duration::from_secs(15),
            ws_idle_timeout: Duration::from_secs(45),
        }
    }
}

impl Cli {
    /// Reads the command line and the environment (exits with clap's message
    /// on a bad one).
    pub fn read() -> Self {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Self::command().get_matches();
        let mut cli = Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let given = |m: &clap::ArgMatches| {
            m.value_source("listen") == Some(clap::parser::ValueSource::CommandLine)
        };
        cli.listen_on_command_line =
            given(&matches) || matches.subcommand().is_some_and(|(_, sub)| given(sub));
        cli
    }

    /// The effective subcommand (`serve` when none was given).
    pub fn subcommand(&self) -> &Command {
        self.command.as_ref().unwrap_or(&Command::Serve)
    }
}

/// The folders of `PATH`, where the embedded PostgreSQL's `initdb` and
/// `postgres` are looked for first.
pub fn executable_search_path() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default()
}

/// `--base-domain`: a host name of two labels or more, stored lower-case.
fn parse_base_domain(value: &str) -> Result<String, String> {
    let host = value.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = host.contains('.')
        && host.len() <= 200
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(host)
    } else {
        Err("a host name such as app.example.com (no scheme, port or path)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        let cli = Cli::try_parse_from(["tenantgate"]).unwrap();
        assert!(matches!(cli.subcommand(), Command::Serve));
        assert_eq!(cli.serve.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.common.environment, Environment::Development);
    }

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "tenantgate",
            "serve",
            "--listen",
            "0.0.0.0:9000",
            "--env",
            "production",
            "--demo",
        ])
        .unwrap();
        assert_eq!(cli.serve.listen.port(), 9000);
        assert_eq!(cli.common.environment, Environment::Production);
        assert!(cli.serve.demo);
    }
}

/// Stripe settings of a server with billing on.
#[derive(Debug, Clone)]
pub struct BillingConfig {
    /// The secret API key.
    pub secret_key: String,
    /// Webhook signing secrets (any may match, for rotation).
    pub webhook_secrets: Vec<String>,
    /// Stripe's API base URL (`None`: Stripe's own).
    pub api_base: Option<String>,
    /// Per-attempt timeout of a call to Stripe.
    pub timeout: Duration,
    /// How often the reconcile pass runs.
    pub reconcile_every: Duration,
}

impl BillingConfig {
    /// Billing settings from the command line; `None` without a secret key.
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<Option<Self>> {
        let Some(secret_key) = args.stripe_secret_key.clone().filter(|k| !k.is_empty()) else {
            return Ok(None);
        };
        let webhook_secrets: Vec<String> = args
            .stripe_webhook_secret
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(bad) = webhook_secrets.iter().find(|s| !s.starts_with("whsec_")) {
            anyhow::bail!(
                "STRIPE_WEBHOOK_SECRET: every secret starts with whsec_ (got one of {} characters)",
                bad.len()
            );
        }
        Ok(Some(Self {
            secret_key,
            webhook_secrets,
            api_base: args.stripe_api_base.clone(),
            timeout: Duration::from_secs(10),
            reconcile_every: Duration::from_secs(3600),
        }))
    }
}
