//! Where deliveries may go: every address is judged after DNS, at delivery
//! time, and the connection goes to the address judged (the HTTP client
//! resolves through [`Guard`], so there is no second lookup). Refused:
//! loopback (unless a development setting allows it), private, link-local,
//! unique-local, CGNAT, multicast, unspecified, reserved, documentation and
//! benchmarking ranges and the cloud metadata addresses; IPv6 forms that
//! carry an IPv4 address (mapped, translated, compatible, NAT64's well-known
//! prefix, 6to4) are judged by it, local-use NAT64 is refused, and otherwise
//! only global unicast (2000::/3) minus its special ranges is public.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address is refused (`None`: a public address).
pub fn refusal(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4, allow_loopback),
        IpAddr::V6(v6) => refusal_v6(v6, allow_loopback),
    }
}

fn refusal_v4(ip: Ipv4Addr, allow_loopback: bool) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        return Some("a cloud metadata address");
    }
    if ip.is_loopback() {
        return (!allow_loopback).then_some("a loopback address");
    }
    let reason = match (a, b, c) {
        (0, _, _) => "an unspecified (this-network) address",
        (10, _, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (192, 168, _) => "a private address",
        (100, 64..=127, _) => "a shared (CGNAT) address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    };
    Some(reason)
}

fn refusal_v6(ip: Ipv6Addr, allow_loopback: bool) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_loopback() {
        return (!allow_loopback).then_some("a loopback address");
    }
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    // Forms that carry an IPv4 address: judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refusal_v4(v4, allow_loopback);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        // IPv4-compatible (deprecated): ::a.b.c.d
        return refusal_v4(embedded(s[6], s[7]), allow_loopback).or(Some("a reserved address"));
    }
    if s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        // IPv4-translated (SIIT): ::ffff:0:a.b.c.d
        return refusal_v4(embedded(s[6], s[7]), allow_loopback).or(Some("a reserved address"));
    }
    if s[0] == 0x64 && s[1] == 0xff9b {
        // The well-known NAT64 prefix (64:ff9b::/96) carries its IPv4 address
        // in the last 32 bits; the local-use one (64:ff9b:1::/48, RFC 8215)
        // elsewhere, and it translates into the operator's own network.
        if s[2..6] == [0, 0, 0, 0] {
            return refusal_v4(embedded(s[6], s[7]), allow_loopback);
        }
        return Some("a local-use NAT64 address");
    }
    if s[0] == 0x2002 {
        return refusal_v4(embedded(s[1], s[2]), allow_loopback);
    }
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        return Some("a cloud metadata address");
    }
    let reason = match s[0] {
        0xfc00..=0xfdff => "a unique-local address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        0x3fff if s[1] < 0x1000 => "a documentation address",
        0x2001 if s[1] == 0 => "a Teredo address",
        0x2001 if (0x0010..=0x002f).contains(&s[1]) => "an ORCHID address",
        // Only global unicast (2000::/3) is public; everything else is
        // reserved (discard-only 100::/64 included).
        first if first & 0xe000 != 0x2000 => "a reserved address",
        _ => return None,
    };
    Some(reason)
}

/// An address refused for delivery.
#[derive(Debug, thiserror::Error)]
#[error("refused: the host resolves to a non-public address")]
pub struct Refused {
    pub host: String,
    pub ip: IpAddr,
    pub reason: &'static str,
}

/// The HTTP client's resolver: the system's lookup (or the given name
/// servers'), then only addresses that [`refusal`] lets through (none left:
/// the refusal of the first).
#[derive(Clone)]
pub struct Guard {
    pub allow_loopback: bool,
    /// A resolver of given name servers (tests); `None`: the system's lookup.
    pub servers: Option<Arc<TokioResolver>>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("allow_loopback", &self.allow_loopback)
            .field("own_servers", &self.servers.is_some())
            .finish()
    }
}

/// A resolver asking `servers` (UDP, no cache, each lookup within
/// `timeout`); `None` when none are given or it cannot be built.
pub fn name_servers(servers: &[SocketAddr], timeout: Duration) -> Option<Arc<TokioResolver>> {
    if servers.is_empty() {
        return None;
    }
    let configs = servers
        .iter()
        .map(|addr| {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            NameServerConfig::new(addr.ip(), true, vec![udp])
        })
        .collect();
    let mut builder = TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(configs),
        TokioRuntimeProvider::default(),
    );
    let options = builder.options_mut();
    options.timeout = timeout;
    options.cache_size = 0;
    options.ndots = 0;
    builder.build().ok().map(Arc::new)
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_loopback;
        let servers = self.servers.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = match servers {
                Some(resolver) => resolver
                    .lookup_ip(host.as_str())
                    .await?
                    .iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match refusal(addr.ip(), allow) {
                    None => true,
                    Some(reason) => {
                        first_refusal.get_or_insert(Refused {
                            host: host.clone(),
                            ip: addr.ip(),
                            reason,
                        });
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                // The stored (and shown) error is generic: what an internal
                // name resolves to is the operator's to see, in the log.
                if let Some(r) = &first_refusal {
                    tracing::warn!(host = %r.host, ip = %r.ip, reason = r.reason, "webhook delivery refused");
                }
                let err: Box<dyn std::error::Error + Send + Sync> = match first_refusal {
                    Some(refused) => Box::new(refused),
                    None => format!("{host} has no address").into(),
                };
                return Err(err);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        refusal(s.parse().unwrap(), false).is_some()
    }

    #[test]
    fn refuses_every_non_public_range() {
        for bad in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "64:ff9b:1:a00:0:100:808:808",
            "64:ff9b:1::a00:1",
            "::ffff:0:127.0.0.1",
            "::ffff:0:10.0.0.1",
            "3fff::1",
            "3fff:fff::1",
            "2001:10::1",
            "2001:20::1",
            "100::1",
            "4000::1",
            "e000::1",
        ] {
            assert!(refused(bad), "{bad} should be refused");
        }
        for good in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
            "2a00:1450:4001:80b::200e",
            "3fff:1000::1",
        ] {
            assert!(!refused(good), "{good} should be allowed");
        }
    }

    #[test]
    fn loopback_only_when_allowed() {
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(refusal(ip.parse().unwrap(), true), None);
        }
        for ip in ["10.0.0.1", "169.254.169.254", "fd00:ec2::254"] {
            assert!(refusal(ip.parse().unwrap(), true).is_some());
        }
    }
}
