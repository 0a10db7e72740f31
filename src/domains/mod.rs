//! Tenants found by the request's host (issue 14).
//!
//! - `<slug>.<base domain>` (`--base-domain`) names the tenant with that slug;
//!   an unknown one is NOT_FOUND. The base domain itself, IP addresses, names
//!   without a dot and the portal's own public host name no tenant.
//! - Any other host names the tenant whose *verified* custom domain it is, or
//!   none (then the request behaves as if no host named a tenant).
//! - What routes is held in memory ([`index`]): a host costs no SQL, a made-up
//!   one included. Changes reach every instance by one NOTIFY (and a whole
//!   read every 30 s heals a lost one). A stale entry can only keep routing a
//!   host to a tenant for that long: the host picks the active tenant, it
//!   never grants anything (the membership check still decides).
//! - The name and public branding a routed host's sign-in page wears are read
//!   when first asked for (one query for any number of concurrent requests),
//!   kept at most [`FACE_CACHE_SIZE`] tenants for [`FACE_TTL`], and dropped for
//!   the tenant an announcement names.
//! - A session signed in on a tenant's custom domain is bound to that tenant
//!   (`RequestMeta::bound_tenant`, see [`crate::auth::sessions`]).
//!
//! `custom.rs` claims, verifies and removes custom domains; `dns.rs` looks up
//! the TXT record; `recheck.rs` re-checks verified domains daily; `names.rs`
//! validates domains and classifies hosts; `index.rs` holds what routes.

pub mod custom;
pub mod dns;
pub mod index;
pub mod names;
pub mod recheck;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use uuid::Uuid;

use crate::db::{Db, domains as db_domains};
use crate::error::{AppError, AppResult};
use crate::tenancy::Scope;
pub use dns::{Dns, Found};
pub use names::HostName;

/// How long this instance keeps a tenant's face at most (a safety net:
/// changes are announced).
pub const FACE_TTL: Duration = Duration::from_secs(300);
/// How many tenants' faces this instance keeps (each a name and four short
/// branding strings, under 3 KB).
pub const FACE_CACHE_SIZE: u64 = 10_000;

/// The settings of host routing and domain verification.
#[derive(Debug, Clone)]
pub struct DomainSettings {
    /// `<slug>.<base>` names a tenant (`--base-domain`), lower-case.
    pub base_domain: Option<String>,
    /// The name servers that verify TXT records (`--dns-server`; empty: the
    /// system's).
    pub dns_servers: Vec<SocketAddr>,
    /// How long one TXT lookup may take.
    pub dns_timeout: Duration,
    /// A verified domain is looked at again when its last look is this old.
    pub recheck_every: Duration,
    /// A verified domain whose record has been missing this long is
    /// un-verified (its owners emailed, an audit entry written).
    pub unverify_after: Duration,
}

impl Default for DomainSettings {
    fn default() -> Self {
        Self {
            base_domain: None,
            dns_servers: Vec::new(),
            dns_timeout: Duration::from_secs(5),
            recheck_every: Duration::from_secs(24 * 3600),
            unverify_after: Duration::from_secs(72 * 3600),
        }
    }
}

/// A tenant's public look: what the sign-in page of its host wears.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicBranding {
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub accent_color: Option<String>,
}

/// The tenant a request's host names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTenant {
    pub id: Uuid,
    /// The custom domain the request came on (`None`: its subdomain of the
    /// base domain, which is ours). Sessions signed in there are bound.
    pub custom_domain: Option<String>,
}

impl HostTenant {
    /// The tenant sessions signed in on this host are bound to: the host's
    /// when it is a custom domain.
    pub fn binds(&self) -> Option<Uuid> {
        self.custom_domain.as_ref().map(|_| self.id)
    }
}

/// What a routed host's sign-in page wears: the tenant's name and public
/// branding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFace {
    pub id: Uuid,
    pub name: String,
    pub branding: PublicBranding,
}

/// The host of one request and the tenant it names (put into the GraphQL
/// request's data).
#[derive(Debug, Clone, Default)]
pub struct RequestHost(pub Option<Arc<HostTenant>>);

/// Host routing and domain verification of one instance (cheap to clone).
#[derive(Clone)]
pub struct Domains {
    inner: Arc<Inner>,
}

struct Inner {
    settings: DomainSettings,
    /// The host of `--public-url`: the portal's own, never a tenant's.
    portal_host: Option<String>,
    /// Owners are emailed when their domain is un-verified.
    mailer: crate::mail::Mailer,
    dns: Dns,
    index: Arc<index::HostIndex>,
    faces: moka::future::Cache<Uuid, Arc<HostFace>>,
    /// Bumped whenever a face is dropped: a read that raced with it is not
    /// kept.
    face_epoch: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Domains {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domains")
            .field("settings", &self.inner.settings)
            .finish()
    }
}

impl Domains {
    /// Routing for `settings`; the mailer's public URL is the portal's own
    /// address.
    pub fn new(settings: DomainSettings, mailer: crate::mail::Mailer) -> Self {
        let portal_host = mailer
            .public_url
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .and_then(names::normalize_host);
        let dns = Dns::new(&settings.dns_servers, settings.dns_timeout);
        Self {
            inner: Arc::new(Inner {
                settings,
                portal_host,
                mailer,
                dns,
                index: Arc::default(),
                faces: moka::future::Cache::builder()
                    .max_capacity(FACE_CACHE_SIZE)
                    .time_to_live(FACE_TTL)
                    .build(),
                face_epoch: Default::default(),
            }),
        }
    }

    /// Starts keeping the routing index fresh from `notices` (see
    /// [`index`]); stops once every clone of this is dropped.
    pub fn start_index(
        &self,
        db: Db,
        notices: tokio::sync::broadcast::Receiver<index::HostNotice>,
    ) {
        let weak = Arc::downgrade(&self.inner);
        index::start(
            Arc::downgrade(&self.inner.index),
            db,
            notices,
            move |tenants| {
                let weak = weak.clone();
                Box::pin(async move {
                    if let Some(inner) = weak.upgrade() {
                        match tenants {
                            Some(tenants) => inner.forget_faces(&tenants).await,
                            None => inner.forget_all_faces(),
                        }
                    }
                })
            },
        );
    }

    /// The routing index of this instance.
    pub fn index(&self) -> &index::HostIndex {
        &self.inner.index
    }

    pub fn settings(&self) -> &DomainSettings {
        &self.inner.settings
    }

    pub fn mailer(&self) -> &crate::mail::Mailer {
        &self.inner.mailer
    }

    pub fn dns(&self) -> &Dns {
        &self.inner.dns
    }

    /// Reads `tenant`'s routing again at once (after a change of its slug or
    /// domain on this instance; the announcement tells the others, and this
    /// one again). A failure is logged: the announcement or the next whole
    /// read catches up.
    pub async fn changed(&self, db: &Db, tenant: Uuid) {
        if let Err(err) = self.inner.index.reload(db, Some(&[tenant])).await {
            tracing::warn!(error = %err, %tenant, "reading a tenant's routing failed");
        }
        self.inner.forget_faces(&[tenant]).await;
    }

    /// The name and public branding of `tenant` (a routed host's), read once
    /// for any number of concurrent requests and kept.
    pub async fn face(&self, db: &Db, tenant: Uuid) -> AppResult<Option<Arc<HostFace>>> {
        let inner = &self.inner;
        let epoch = inner.face_epoch.load(std::sync::atomic::Ordering::SeqCst);
        // Concurrent requests of one tenant share one read (moka runs one
        // loader, the others wait for its value).
        let loaded = inner
            .faces
            .try_get_with(tenant, load_face(db, tenant))
            .await;
        match loaded {
            Ok(face) => {
                if inner.face_epoch.load(std::sync::atomic::Ordering::SeqCst) != epoch {
                    // Dropped while being read: what was read may be older.
                    inner.faces.invalidate(&tenant).await;
                }
                Ok(Some(face))
            }
            Err(err) if err.code().as_str() == "NOT_FOUND" => Ok(None),
            Err(err) if err.code().as_str() == "UNAVAILABLE" => {
                Err(AppError::unavailable(err.public_message()))
            }
            Err(err) => Err(AppError::internal(anyhow::anyhow!(
                "reading a host's tenant: {err:?}"
            ))),
        }
    }

    /// What `host` (as the request gave it, port included) names.
    pub fn classify(&self, host: &str) -> HostName {
        match names::normalize_host(host) {
            None => HostName::Portal,
            Some(host) => names::classify(
                &host,
                self.inner.settings.base_domain.as_deref(),
                self.inner.portal_host.as_deref(),
            ),
        }
    }

    /// The tenant `host` names: `None` for the portal's own hosts
    /// (`--public-url`'s, the base domain, IP literals, names without a dot);
    /// NOT_FOUND for a subdomain of the base domain that names no tenant and
    /// for any other name no routing custom domain matches. From memory: no SQL, whatever the host
    /// (before the first whole read of the index, a tenant's host waits for
    /// it).
    pub async fn tenant_of_host(&self, host: Option<&str>) -> AppResult<Option<Arc<HostTenant>>> {
        let Some(host) = host else { return Ok(None) };
        let name = self.classify(host);
        let found = match &name {
            HostName::Portal => return Ok(None),
            HostName::Subdomain(slug) if crate::members::validate_slug(slug).is_err() => None,
            _ => {
                self.inner.index.wait_ready().await?;
                self.inner.index.tenant_of(&name)
            }
        };
        match (name, found) {
            (HostName::Subdomain(slug), None) => Err(AppError::not_found(format!(
                "no tenant is served at {slug}.{}: check the address",
                self.inner.settings.base_domain.as_deref().unwrap_or("")
            ))),
            (HostName::Subdomain(_), Some(id)) => Ok(Some(Arc::new(HostTenant {
                id,
                custom_domain: None,
            }))),
            (HostName::Custom(domain), Some(id)) => Ok(Some(Arc::new(HostTenant {
                id,
                custom_domain: Some(domain),
            }))),
            // A name outside the base domain that routes to no tenant
            // (never verified, removed, downgraded, suspended, or not yet
            // heard of here) is not the portal: a session started there
            // would be unbound on an address a tenant may control.
            (HostName::Custom(domain), None) => Err(unrouted(&domain)),
            (HostName::Portal, _) => Ok(None),
        }
    }
}

/// NOT_FOUND for a custom host that routes to no tenant.
fn unrouted(domain: &str) -> AppError {
    AppError::not_found(format!(
        "no tenant is served at {domain}: check the address, or use the portal's"
    ))
}

impl Inner {
    /// After a whole read of the index: any face may be stale.
    fn forget_all_faces(&self) {
        self.face_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.faces.invalidate_all();
    }

    async fn forget_faces(&self, tenants: &[Uuid]) {
        self.face_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        for tenant in tenants {
            self.faces.invalidate(tenant).await;
        }
    }
}

/// Reads a tenant's face; NOT_FOUND when the tenant is gone.
async fn load_face(db: &Db, tenant: Uuid) -> AppResult<Arc<HostFace>> {
    let row = db
        .scoped(Scope::anonymous(), |conn| {
            async move { Ok(db_domains::host_face(conn, tenant).await?) }.scope_boxed()
        })
        .await?;
    let r = row.ok_or_else(|| AppError::not_found("tenant not found"))?;
    Ok(Arc::new(HostFace {
        id: r.id,
        name: r.name,
        branding: PublicBranding {
            display_name: r.display_name,
            logo_url: r.logo_url,
            primary_color: r.primary_color,
            accent_color: r.accent_color,
        },
    }))
}

/// Checks a request's tenant against its host's: `requested` (X-Tenant-ID,
/// or an API key's own tenant) must be the host's tenant when the host names
/// one. FORBIDDEN otherwise, naming neither tenant.
pub fn check_requested(host: Option<&HostTenant>, requested: Option<Uuid>) -> AppResult<()> {
    match (host, requested) {
        (Some(host), Some(requested)) if host.id != requested => Err(AppError::forbidden(
            "this address belongs to another tenant than the one the request names \
             (X-Tenant-ID or the API key's tenant): use that tenant's own address",
        )),
        _ => Ok(()),
    }
}
