//! Tenants found by the request's host (issue 14).
//!
//! - `<slug>.<base domain>` (`--base-domain`) names the tenant with that slug;
//!   an unknown one is NOT_FOUND. The base domain itself, IP addresses, names
//!   without a dot and the portal's own public host name no tenant.
//! - Any other host names the tenant whose *verified* custom domain it is, or
//!   none (then the request behaves as if no host named a tenant).
//! - Lookups go through `tg_host_tenant` (SECURITY DEFINER: id, name, public
//!   branding) and are cached per instance for [`HOST_CACHE_TTL`], misses
//!   included; a change on this instance clears its cache at once, other
//!   instances follow within the TTL. A stale entry can only keep routing a
//!   host to a tenant for those seconds: the host picks the active tenant, it
//!   never grants anything (the membership check still decides).
//!
//! `custom.rs` claims, verifies and removes custom domains; `dns.rs` looks up
//! the TXT record; `recheck.rs` re-checks verified domains daily; `names.rs`
//! validates domains and classifies hosts.

pub mod custom;
pub mod dns;
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

/// How long this instance keeps what a host names (misses too).
pub const HOST_CACHE_TTL: Duration = Duration::from_secs(30);
/// How many hosts this instance keeps.
const HOST_CACHE_SIZE: u64 = 10_000;

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
    pub name: String,
    pub slug_host: bool,
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
    hosts: moka::sync::Cache<HostName, Option<Arc<HostTenant>>>,
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
                hosts: moka::sync::Cache::builder()
                    .max_capacity(HOST_CACHE_SIZE)
                    .time_to_live(HOST_CACHE_TTL)
                    .build(),
            }),
        }
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

    /// Forgets every cached host of this instance (after a change of a slug
    /// or a domain here).
    pub fn forget(&self) {
        self.inner.hosts.invalidate_all();
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

    /// The tenant `host` names: `None` for the portal's own hosts and for
    /// hosts no verified domain matches; NOT_FOUND for a subdomain of the base
    /// domain that names no tenant.
    pub async fn tenant_of_host(
        &self,
        db: &Db,
        host: Option<&str>,
    ) -> AppResult<Option<Arc<HostTenant>>> {
        let Some(host) = host else { return Ok(None) };
        let name = self.classify(host);
        let found = match &name {
            HostName::Portal => return Ok(None),
            HostName::Subdomain(slug) if crate::members::validate_slug(slug).is_err() => None,
            _ => match self.inner.hosts.get(&name) {
                Some(found) => found,
                None => {
                    let found = lookup(db, &name).await?.map(Arc::new);
                    self.inner.hosts.insert(name.clone(), found.clone());
                    found
                }
            },
        };
        match (name, found) {
            (HostName::Subdomain(slug), None) => Err(AppError::not_found(format!(
                "no tenant is served at {slug}.{}: check the address",
                self.inner.settings.base_domain.as_deref().unwrap_or("")
            ))),
            (_, found) => Ok(found),
        }
    }
}

async fn lookup(db: &Db, name: &HostName) -> AppResult<Option<HostTenant>> {
    let (slug, domain) = match name {
        HostName::Subdomain(slug) => (Some(slug.clone()), None),
        HostName::Custom(domain) => (None, Some(domain.clone())),
        HostName::Portal => return Ok(None),
    };
    let slug_host = slug.is_some();
    let row = db
        .scoped(Scope::anonymous(), |conn| {
            async move {
                Ok(db_domains::host_tenant(conn, slug.as_deref(), domain.as_deref()).await?)
            }
            .scope_boxed()
        })
        .await?;
    Ok(row.map(|r| HostTenant {
        id: r.id,
        name: r.name,
        slug_host,
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
