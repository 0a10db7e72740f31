//! Looking up the verification record `_tenantgate.<domain>` (TXT) with
//! hickory-resolver: the system's name servers, or those of `--dns-server`
//! (tests start their own). No answer is cached (each check asks again, so a
//! record just published counts and a removed one is noticed), every lookup
//! has a deadline, and at most [`MAX_CONCURRENT`] run at once per instance.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::RData;
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// The name under a domain that holds its verification token.
pub const RECORD_LABEL: &str = "_tenantgate";
/// Lookups in flight at once on one instance.
pub const MAX_CONCURRENT: usize = 8;

/// What a look at the record found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A TXT string equal to the token.
    Match,
    /// TXT records, none equal to the token (their strings, truncated).
    Other(Vec<String>),
    /// No TXT record at that name (NXDOMAIN or no data).
    Missing,
}

impl Found {
    /// What the TXT strings `values` of the record say about `token`.
    pub fn of(values: Vec<String>, token: &str) -> Self {
        if values.iter().any(|v| v.trim() == token) {
            Self::Match
        } else if values.is_empty() {
            Self::Missing
        } else {
            Self::Other(values.into_iter().take(5).collect())
        }
    }

    /// A sentence for the owner (stored as the last result).
    pub fn describe(&self, name: &str) -> String {
        match self {
            Self::Match => format!("{name} holds the token"),
            Self::Missing => format!("no TXT record found at {name}"),
            Self::Other(values) => {
                let mut shown: String = values
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                if shown.len() > 300 {
                    shown = shown.chars().take(300).collect::<String>() + "…";
                }
                format!("{name} holds {shown}, not the token")
            }
        }
    }
}

/// The resolver (shared; cheap to clone).
#[derive(Clone)]
pub struct Dns {
    resolver: Option<Arc<TokioResolver>>,
    timeout: Duration,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Dns {
    /// A resolver asking `servers` (UDP, then TCP), or the system's name
    /// servers (`/etc/resolv.conf`) when none are given; each lookup gives up
    /// after `timeout`. Without a usable configuration, every check answers
    /// UNAVAILABLE (logged once here).
    pub fn new(servers: &[SocketAddr], timeout: Duration) -> Self {
        let built = if servers.is_empty() {
            TokioResolver::builder_tokio().map(|b| (b, "the system's name servers"))
        } else {
            let name_servers = servers
                .iter()
                .map(|addr| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = addr.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = addr.port();
                    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
                })
                .collect();
            Ok((
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(name_servers),
                    TokioRuntimeProvider::default(),
                ),
                "the given name servers",
            ))
        };
        let resolver = built.and_then(|(mut builder, _)| {
            let options = builder.options_mut();
            options.timeout = timeout;
            options.attempts = 1;
            options.cache_size = 0;
            options.positive_max_ttl = Some(Duration::ZERO);
            options.negative_max_ttl = Some(Duration::ZERO);
            options.ndots = 0;
            builder.build()
        });
        let resolver = match resolver {
            Ok(resolver) => Some(Arc::new(resolver)),
            Err(err) => {
                tracing::warn!(%err, "no DNS resolver: custom domains cannot be verified");
                None
            }
        };
        Self {
            resolver,
            timeout,
            slots: Arc::new(Semaphore::new(MAX_CONCURRENT)),
        }
    }

    /// The record's name for `domain`.
    pub fn record_name(domain: &str) -> String {
        format!("{RECORD_LABEL}.{domain}")
    }

    /// Looks up `_tenantgate.<domain>` and compares its TXT strings with
    /// `token` (see [`Dns::values`] for its failures).
    pub async fn check(&self, domain: &str, token: &str) -> AppResult<Found> {
        Ok(Found::of(self.values(domain).await?, token))
    }

    /// The TXT strings at `_tenantgate.<domain>` (empty when there is no such
    /// record). UNAVAILABLE when the name servers do not answer in time or
    /// fail (SERVFAIL, refused), or when this instance has
    /// [`MAX_CONCURRENT`] lookups running.
    pub async fn values(&self, domain: &str) -> AppResult<Vec<String>> {
        let Some(resolver) = &self.resolver else {
            return Err(AppError::unavailable(
                "DNS lookups are not available on this server; try again later",
            ));
        };
        let _slot = self.slots.clone().try_acquire_owned().map_err(|_| {
            AppError::unavailable("too many DNS lookups are running; try again in a moment")
        })?;
        let name = format!("{}.", Self::record_name(domain));
        // The resolver has its own timeout per attempt; this bounds the whole.
        let lookup = tokio::time::timeout(
            self.timeout + Duration::from_millis(500),
            resolver.txt_lookup(name.as_str()),
        )
        .await
        .map_err(|_| timed_out(domain))?;
        let lookup = match lookup {
            Ok(lookup) => lookup,
            Err(NetError::Dns(DnsError::NoRecordsFound(_))) => return Ok(Vec::new()),
            Err(NetError::Timeout) => return Err(timed_out(domain)),
            Err(err) => {
                // The resolver's own words stay in the log: they may describe
                // the server's network, which is not the tenant's to read.
                tracing::info!(%err, domain, "TXT lookup failed");
                return Err(AppError::unavailable(
                    "the DNS lookup of the verification record failed; try again later",
                ));
            }
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect())
    }
}

fn timed_out(domain: &str) -> AppError {
    AppError::unavailable(format!(
        "the name servers did not answer for {} in time; try again later",
        Dns::record_name(domain)
    ))
}
