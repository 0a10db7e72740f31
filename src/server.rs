//! Starting and stopping: the database (embedded or given), secrets, the HTTP
//! server with graceful shutdown. `main` only parses the command line.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::Rng;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{AppState, Settings};
use crate::audit::feed::Feed;
use crate::auth::jwt::JwtKeys;
use crate::auth::key_cache::KeyCache;
use crate::config::{CommonArgs, ConnectionLimits, Environment, Limits, MetricsAccess, ServeArgs};
use crate::db::embedded::{self, EmbeddedOptions, EmbeddedPostgres};
use crate::db::{self, Db, PoolOptions};
use crate::usage::Usage;
use crate::usage::limits::Limiter;

/// The database a command runs against.
pub struct Database {
    /// Owner URL: migrations and admin work. Request work uses the pool.
    pub url: String,
    /// The private cluster, when no DATABASE_URL was given.
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Uses DATABASE_URL, or starts the embedded cluster under the data dir.
    pub async fn open(common: &CommonArgs) -> anyhow::Result<Self> {
        if let Some(url) = &common.database_url {
            return Ok(Self {
                url: url.clone(),
                embedded: None,
            });
        }
        if common.environment == Environment::Production {
            tracing::warn!(
                "production on the embedded PostgreSQL: fine for one machine, but set \
                 DATABASE_URL to run several instances or to manage backups yourself"
            );
        }
        let pg = EmbeddedPostgres::start(EmbeddedOptions {
            root: common.data_dir.join("postgres"),
            bin_dir: None,
            search_path: crate::config::executable_search_path(),
            ephemeral: false,
        })
        .await?;
        Ok(Self {
            url: pg.url(embedded::DATABASE),
            embedded: Some(pg),
        })
    }

    /// Stops the embedded cluster, if any.
    pub async fn close(self) {
        if let Some(pg) = self.embedded {
            pg.stop().await;
            tracing::info!("embedded PostgreSQL stopped");
        }
    }
}

/// The signing keys: configured, or (development only) generated once and kept
/// in the data dir so sessions survive restarts.
pub fn jwt_keys(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<JwtKeys> {
    let configured = match (&serve.jwt_secret, &serve.jwt_secret_file) {
        (Some(secret), _) => Some(secret.trim().to_owned()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading JWT_SECRET_FILE {}", path.display()))?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    let secret = match configured {
        Some(secret) => secret,
        None if common.environment == Environment::Production => bail!(
            "production refuses to start with a generated signing secret: set JWT_SECRET \
             or JWT_SECRET_FILE (at least 32 bytes)"
        ),
        None => dev_secret(&common.data_dir)?,
    };
    let previous = serve.jwt_previous_secret.as_deref().map(str::trim);
    JwtKeys::new(secret.as_bytes(), previous.map(str::as_bytes))
}

fn dev_secret(data_dir: &Path) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("jwt-secret");
    let read = |path: &Path| -> anyhow::Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(secret) if secret.trim().len() >= 32 => Ok(Some(secret.trim().to_owned())),
            Ok(_) => bail!(
                "{} holds no usable secret: delete it to make a new one",
                path.display()
            ),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    };
    if let Some(secret) = read(&path)? {
        return Ok(secret);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let secret: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(64)
        .map(char::from)
        .collect();
    // Written whole under a temporary name, then linked into place: a crash
    // leaves no half file, and of two instances starting at once one wins and
    // the other reads the winner's secret.
    let tmp = data_dir.join(format!(".jwt-secret.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::warn!(path = %path.display(), "generated a development signing secret");
            Ok(secret)
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            read(&path)?.ok_or_else(|| anyhow::anyhow!("{} vanished", path.display()))
        }
        Err(err) => Err(err).with_context(|| format!("writing {}", path.display())),
    }
}

/// `tenantgate migrate`.
pub async fn migrate(common: &CommonArgs) -> anyhow::Result<()> {
    let database = Database::open(common).await?;
    let result = db::migrate(&database.url).await;
    database.close().await;
    let applied = result?;
    if applied.is_empty() {
        println!("the database is up to date");
    } else {
        for version in applied {
            println!("applied migration {version}");
        }
    }
    Ok(())
}

/// `tenantgate admin promote|demote EMAIL`.
pub async fn admin(common: &CommonArgs, action: &crate::config::AdminAction) -> anyhow::Result<()> {
    use crate::config::AdminAction;
    let (email, promote) = match action {
        AdminAction::Promote { email } => (email, true),
        AdminAction::Demote { email } => (email, false),
    };
    let database = Database::open(common).await?;
    let result = async {
        db::migrate(&database.url).await?;
        crate::admin::set_platform_admin(&database.url, email, promote).await
    }
    .await;
    database.close().await;
    let user_id = result?;
    if promote {
        println!("{email} ({user_id}) is a platform admin");
    } else {
        println!("{email} ({user_id}) is no longer a platform admin");
    }
    Ok(())
}

/// The request path's pool: it logs in as the runtime role, never as the owner.
async fn app_pool(
    common: &CommonArgs,
    args: &ServeArgs,
    database: &Database,
) -> anyhow::Result<Db> {
    let (pool_url, set_role) = match (&common.app_database_url, &database.embedded) {
        (Some(url), _) => (url.clone(), false),
        (None, Some(pg)) => {
            let password = pg.app_password()?;
            db::set_app_password(&database.url, &password).await?;
            (
                db::with_credentials(&database.url, db::APP_ROLE, &password)?,
                false,
            )
        }
        (None, None) if common.environment == Environment::Production => bail!(
            "production with DATABASE_URL also needs TENANTGATE_APP_DATABASE_URL: a URL that \
             logs in as the tenantgate_app role (give it LOGIN and a password once: \
             ALTER ROLE tenantgate_app WITH LOGIN PASSWORD '…')"
        ),
        (None, None) => {
            tracing::warn!(
                "no TENANTGATE_APP_DATABASE_URL: the pool logs in with DATABASE_URL and switches \
                 to tenantgate_app (SET ROLE); set an app URL to log in as that role"
            );
            (database.url.clone(), true)
        }
    };
    let pool = Db::connect(
        &pool_url,
        &PoolOptions {
            max_size: args.db_pool_size,
            set_role,
            ..PoolOptions::default()
        },
    )?;
    Ok(pool)
}

/// `tenantgate billing reconcile|sync-prices`.
pub async fn billing(
    common: &CommonArgs,
    args: &ServeArgs,
    action: &crate::config::BillingAction,
) -> anyhow::Result<()> {
    let Some(config) = crate::config::BillingConfig::from_args(args)? else {
        bail!(
            "billing is not configured: set STRIPE_SECRET_KEY (and STRIPE_API_BASE for the simulator)"
        );
    };
    let keys = jwt_keys(common, args)?;
    let database = Database::open(common).await?;
    let result = billing_on(common, args, action, &config, keys, &database).await;
    database.close().await;
    result
}

async fn billing_on(
    common: &CommonArgs,
    args: &ServeArgs,
    action: &crate::config::BillingAction,
    config: &crate::config::BillingConfig,
    keys: JwtKeys,
    database: &Database,
) -> anyhow::Result<()> {
    use crate::config::BillingAction;
    db::migrate(&database.url).await?;
    match action {
        BillingAction::SyncPrices => {
            let api = crate::billing::StripeApi::new(config)?;
            let mut conn = db::owner_connection(&database.url).await?;
            let report = crate::billing::sync_prices(&api, &mut conn)
                .await
                .map_err(anyhow::Error::new)?;
            for line in report {
                println!("{line}");
            }
        }
        BillingAction::Reconcile => {
            let pool = app_pool(common, args, database).await?;
            let mailer = crate::mail::Mailer {
                log_bodies: false,
                public_url: public_url(args, None),
                sealer: crate::mail::Sealer::new(&keys),
            };
            let billing = crate::billing::Billing::new(Some(config), pool.clone(), mailer)?;
            let report = billing.reconcile().await;
            pool.close();
            let report = report.map_err(anyhow::Error::new)?;
            println!("{report}");
        }
    }
    Ok(())
}

/// `tenantgate serve`: runs until SIGTERM or SIGINT, then drains and stops.
pub async fn serve(common: &CommonArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    if args.demo && common.environment == Environment::Production {
        bail!("--demo seeds accounts with a published password: it is refused in production");
    }
    if args.webhooks_allow_loopback && common.environment == Environment::Production {
        bail!(
            "--webhooks-allow-loopback lets webhooks reach this machine: it is refused in production"
        );
    }
    let keys = jwt_keys(common, args)?;
    let database = Database::open(common).await?;
    let result = serve_on(common, args, keys, &database, started).await;
    database.close().await;
    result
}

async fn serve_on(
    common: &CommonArgs,
    args: &ServeArgs,
    keys: JwtKeys,
    database: &Database,
    started: Instant,
) -> anyhow::Result<()> {
    let applied = db::migrate(&database.url).await?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
    }
    crate::audit::retention::set_platform_days(&database.url, args.platform_audit_retention_days)
        .await
        .context("setting the platform audit retention")?;
    let pool = app_pool(common, args, database).await?;
    let demo = if args.demo {
        Some(crate::demo::seed(&pool, &database.url).await?)
    } else {
        None
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let public_url = public_url(args, Some(addr));
    // LISTEN/NOTIFY must work on the owner URL (a transaction-mode pooler
    // breaks it, and with it revocations): refuse to start otherwise.
    crate::audit::feed::check_listen_notify(&database.url, Duration::from_secs(5)).await?;
    let metrics_listener = match args.metrics_listen {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .with_context(|| format!("listening for metrics on {at}"))?,
        ),
        None => None,
    };
    if metrics_listener.is_none() && args.metrics_token.is_none() {
        tracing::info!("/metrics is off: set --metrics-token or --metrics-listen to serve it");
    }
    let api_keys = KeyCache::new();
    let plans = crate::plans::PlanCatalogue::new();
    let limiter = match &args.redis_url {
        Some(url) => Limiter::redis(url).context("REDIS_URL")?,
        None => Limiter::local(),
    };
    let usage = Usage::new(limiter);
    let mut billing = crate::config::BillingConfig::from_args(args)?;
    // `--demo` without Stripe: the simulator, in process, behind the same
    // client code (only its base URL differs).
    let demo_sim = match (&billing, args.demo) {
        (None, true) => {
            let (sim, config) = demo_stripe(&public_url, &database.url).await?;
            billing = Some(config);
            Some(sim)
        }
        _ => None,
    };
    if billing.is_none() {
        tracing::info!("billing is off: set STRIPE_SECRET_KEY to sell plans through Stripe");
    }
    // Canonical once here: every file served from it is checked to lie inside it.
    let web_dir = args
        .web_dir
        .as_deref()
        .map(|dir| {
            std::fs::canonicalize(dir)
                .with_context(|| format!("--web-dir {}: not a readable folder", dir.display()))
        })
        .transpose()?;
    let documents = crate::http::web::load_documents(web_dir.as_deref())
        .await
        .context("loading the trusted documents")?;
    if args.trusted_documents == crate::config::TrustedMode::On && documents.is_empty() {
        tracing::warn!(
            "--trusted-documents on without a manifest: signed-in users and anonymous callers \
             can run nothing (build the web app, or point --web-dir at a build)"
        );
    }
    let state = AppState::new(
        pool.clone(),
        keys,
        Settings {
            environment: common.environment,
            limits: Limits::default(),
            public_url,
            trusted_proxies: args.trusted_proxies,
            publishable_key_rate: args.publishable_key_rate,
            connections: ConnectionLimits::default(),
            metrics: MetricsAccess {
                token: args.metrics_token.clone(),
                own_listener: metrics_listener.is_some(),
            },
            billing,
            web_dir,
            trusted_documents: args.trusted_documents,
            documents,
            exports: crate::exports::ExportSettings::in_folder(
                args.export_dir
                    .clone()
                    .unwrap_or_else(|| common.data_dir.join("exports")),
            ),
            deletion_grace: std::time::Duration::from_secs(
                u64::from(args.tenant_deletion_grace_days) * 86_400,
            ),
            webhooks: crate::webhooks::WebhookSettings {
                allow_loopback: args.webhooks_allow_loopback,
                concurrency: args.webhooks_concurrency as usize,
                per_endpoint: args.webhooks_per_endpoint as usize,
                ..Default::default()
            },
            domains: crate::domains::DomainSettings {
                base_domain: args.base_domain.clone(),
                dns_servers: args.dns_servers.clone(),
                ..Default::default()
            },
        },
        Feed::start(
            database.url.clone(),
            api_keys.clone(),
            plans.clone(),
            usage.metrics().clone(),
        ),
        api_keys,
        plans,
        usage,
    );
    let background = state.start_background();
    if let Some(accounts) = &demo {
        crate::demo::print(&state.db, accounts, &state.keys, addr).await;
    }
    let metrics_server = match metrics_listener {
        Some(listener) => {
            let at = listener.local_addr()?;
            println!("tenantgate metrics on http://{at}/metrics");
            let router = crate::http::metrics_router(state.clone());
            Some(tokio::spawn(async move {
                if let Err(err) = axum::serve(listener, router).await {
                    tracing::error!(error = %err, "the metrics listener failed");
                }
            }))
        }
        None => None,
    };
    tracing::info!(%addr, ready_ms = started.elapsed().as_millis() as u64, "ready");
    // A plain line on stdout that scripts and tests wait for.
    println!("tenantgate listening on http://{addr} (playground: http://{addr}/playground)");

    let (stop_tx, mut stop_rx) = watch::channel(false);
    let feed = state.feed.clone();
    let dispatcher = match &args.smtp_url {
        Some(url) => Some(crate::mail::Dispatcher::start(
            database.url.clone(),
            crate::mail::Sealer::new(&state.keys),
            crate::mail::SmtpSettings {
                url: url.clone(),
                from: args.mail_from.clone(),
                poll: Duration::from_secs(2),
            },
        )?),
        None => None,
    };
    let app = crate::http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: draining in-flight requests (signal again to quit at once)");
        let _ = stop_tx.send(true);
        tokio::spawn(async {
            shutdown_signal().await;
            tracing::warn!("second signal: quitting without draining");
            // The embedded PostgreSQL gets its parent-death signal and stops too.
            std::process::exit(130);
        });
    });
    let grace = Duration::from_secs(args.shutdown_grace_secs);
    tokio::select! {
        result = server => result.context("serving HTTP")?,
        _ = async {
            let _ = stop_rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!(?grace, "in-flight requests did not finish in time; closing"),
    }
    // Buffered usage and last-use times are written before the pool closes.
    background.stop().await;
    if let Some(sim) = demo_sim {
        sim.shutdown().await;
    }
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    feed.stop();
    if let Some(dispatcher) = dispatcher {
        dispatcher.stop();
    }
    pool.close();
    Ok(())
}

/// The Stripe simulator for `--demo`: started in process, our webhook
/// endpoint registered with a fresh secret, the plans given its prices.
async fn demo_stripe(
    public_url: &str,
    owner_url: &str,
) -> anyhow::Result<(crate::stripe_sim::SimHandle, crate::config::BillingConfig)> {
    use crate::stripe_sim::{SimConfig, StripeSim};
    let sim = StripeSim::start(SimConfig::default()).await?;
    let secret: String = rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let secret = format!("whsec_{secret}");
    sim.add_endpoint(format!("{public_url}/webhooks/stripe"), secret.clone());
    let config = crate::config::BillingConfig {
        secret_key: sim.secret_key().to_owned(),
        webhook_secrets: vec![secret],
        api_base: Some(sim.base_url().to_owned()),
        timeout: Duration::from_secs(10),
        reconcile_every: Duration::from_secs(3600),
    };
    // The demo's plans point at the simulator's prices (a restart makes a new
    // simulator, so the ids are set again).
    let api = crate::billing::StripeApi::new(&config)?;
    let mut conn = db::owner_connection(owner_url).await?;
    db::billing::clear_plan_prices(&mut conn).await?;
    crate::billing::sync_prices(&api, &mut conn)
        .await
        .map_err(anyhow::Error::new)?;
    println!(
        "Stripe simulator (demo billing) on {}: checkout and the billing portal work offline",
        sim.base_url()
    );
    Ok((sim, config))
}

/// The server's public base URL (`--public-url`, else the listening address).
fn public_url(args: &ServeArgs, addr: Option<SocketAddr>) -> String {
    args.public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", addr.unwrap_or(args.listen)))
        .trim_end_matches('/')
        .to_owned()
}

/// `tenantgate stripe-sim`: the Stripe simulator until SIGTERM or SIGINT.
/// A development tool: refused in production, and given live keys.
pub async fn stripe_sim(
    cli: &crate::config::Cli,
    args: &crate::config::StripeSimArgs,
) -> anyhow::Result<()> {
    use crate::stripe_sim::{SimConfig, StripeSim};
    if cli.common.environment == Environment::Production {
        bail!(
            "stripe-sim is a development tool (a fake Stripe that accepts any card): \
             it is refused with --env production"
        );
    }
    let listen: SocketAddr = if cli.listen_on_command_line {
        cli.serve.listen
    } else {
        crate::config::STRIPE_SIM_LISTEN.parse()?
    };
    let secret_key = cli
        .serve
        .stripe_secret_key
        .clone()
        .filter(|k| !k.is_empty());
    if secret_key
        .as_deref()
        .is_some_and(|k| !k.starts_with("sk_test_"))
    {
        bail!("stripe-sim takes a test key (sk_test_…) as STRIPE_SECRET_KEY, never a live one");
    }
    let webhook_secret = args
        .webhook_secret
        .clone()
        .or_else(|| {
            let first = cli
                .serve
                .stripe_webhook_secret
                .as_deref()?
                .split(',')
                .next()?;
            Some(first.trim().to_owned()).filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| {
            let tail: String = rand::rng()
                .sample_iter(&rand::distr::Alphanumeric)
                .take(32)
                .map(char::from)
                .collect();
            format!("whsec_{tail}")
        });
    if !webhook_secret.starts_with("whsec_") {
        bail!("--webhook-secret: a webhook signing secret starts with whsec_");
    }
    if let Some(url) = &args.webhook_url
        && !url.starts_with("http://")
    {
        bail!("--webhook-url: the simulator delivers to plain http:// URLs (got {url})");
    }
    let config = SimConfig {
        listen,
        secret_key,
        endpoints: args
            .webhook_url
            .iter()
            .map(|url| (url.clone(), webhook_secret.clone()))
            .collect(),
        hold_events: args.hold_events,
        ..SimConfig::default()
    };
    let sim = StripeSim::start(config).await?;
    println!("Stripe simulator listening on {}", sim.base_url());
    println!("  STRIPE_API_BASE={}", sim.base_url());
    println!("  STRIPE_SECRET_KEY={}", sim.secret_key());
    match &args.webhook_url {
        Some(url) => {
            println!("  STRIPE_WEBHOOK_SECRET={webhook_secret}");
            println!(
                "  webhooks go to {url}{}",
                if args.hold_events {
                    " (held until delivered through /_sim)"
                } else {
                    ""
                }
            );
        }
        None => {
            println!("  no webhook endpoint (add one with --webhook-url, or POST /_sim/endpoints)")
        }
    }
    shutdown_signal().await;
    sim.shutdown().await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
