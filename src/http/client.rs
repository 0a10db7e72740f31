//! Who is on the other end: the client address (for budgets and the audit
//! trail) and the request's metadata.
//!
//! Without trusted proxies the address is the TCP peer. With `n` trusted
//! proxies it is the `X-Forwarded-For` entry `n` hops from the right (the one
//! the outermost trusted proxy appended). A request whose `X-Forwarded-For` has
//! fewer than `n` entries did not come through the proxy chain (someone reached
//! the server directly, or a proxy is misconfigured), and one whose trusted
//! entries do not parse as addresses cannot be attributed: both are refused with
//! BAD_USER_INPUT (HTTP 400) rather than charged to the proxy's address, which
//! every client shares. Entries left of the client's are the client's own claim
//! and are ignored. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a
//! dual-stack listener reports for IPv4 clients) are canonicalised to IPv4, so
//! each IPv4 client has its own budget instead of one /64 for all of them.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, header};

use super::request_id::RequestId;
use crate::audit::RequestMeta;
use crate::error::{AppError, AppResult};

/// The forwarded-for header that trusted proxies append to.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// One `X-Forwarded-For` entry as an address: a bare IPv4 or IPv6 address, or
/// one with a port (`1.2.3.4:80`, `[::1]:80`), as some proxies write them.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })
}

/// The client address: the TCP peer, or with `trusted_proxies` hops in front,
/// the X-Forwarded-For entry that the outermost trusted proxy appended;
/// canonical (IPv4-mapped IPv6 becomes IPv4). BAD_USER_INPUT when the header is
/// missing hops or a trusted hop is not an address.
pub fn client_ip(
    peer: SocketAddr,
    headers: &HeaderMap,
    trusted_proxies: usize,
) -> AppResult<IpAddr> {
    if trusted_proxies == 0 {
        return Ok(peer.ip().to_canonical());
    }
    let mut hops = Vec::new();
    for value in headers.get_all(FORWARDED_FOR) {
        let value = value.to_str().map_err(|_| {
            AppError::bad_input("X-Forwarded-For must be a comma-separated list of addresses")
        })?;
        hops.extend(value.split(',').map(str::trim).filter(|h| !h.is_empty()));
    }
    let Some(first_trusted) = hops.len().checked_sub(trusted_proxies) else {
        return Err(AppError::bad_input(format!(
            "X-Forwarded-For has {} of the {trusted_proxies} entries the trusted proxies add: \
             the request did not come through them",
            hops.len()
        )));
    };
    let mut trusted = hops[first_trusted..].iter().map(|hop| {
        parse_hop(hop).ok_or_else(|| {
            AppError::bad_input(format!("X-Forwarded-For entry {hop:?} is not an address"))
        })
    });
    let client = trusted
        .next()
        .unwrap_or_else(|| Err(AppError::bad_input("X-Forwarded-For is empty")))?;
    // The entries right of the client's were written by our own proxies: they
    // must be addresses too, or the header was not written the way we trust.
    for hop in trusted {
        hop?;
    }
    Ok(client.to_canonical())
}

/// The forwarded-host header that trusted proxies set.
pub const FORWARDED_HOST: &str = "x-forwarded-host";

/// The host a request was sent to: `Host` (or HTTP/2's `:authority`, see
/// [`fill_host`]), or with trusted proxies in front, the last
/// `X-Forwarded-Host` entry (the one the proxy nearest this server wrote; a
/// client's own claim is never read without trusted proxies), else `Host`.
/// The proxies must *set* (overwrite) `X-Forwarded-Host`, not pass on a
/// client's: a client's value only picks which tenant's address the request
/// claims, which its own `Host` header could do as well; it never grants
/// access (the membership or key check still decides).
pub fn request_host(headers: &HeaderMap, trusted_proxies: usize) -> Option<&str> {
    let forwarded = (trusted_proxies > 0)
        .then(|| headers.get_all(FORWARDED_HOST).iter().next_back())
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    forwarded.or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
}

/// Gives a request without `Host` the authority of its URI as `Host`: HTTP/2
/// sends the host as `:authority` (in the URI), not as a header (as axum's
/// own `Host` extractor falls back to). A `Host` header sent is kept.
pub fn fill_host<B>(request: &mut axum::http::Request<B>) {
    if request.headers().contains_key(header::HOST) {
        return;
    }
    let authority = request
        .uri()
        .authority()
        .and_then(|a| axum::http::HeaderValue::from_str(a.as_str()).ok());
    if let Some(authority) = authority {
        request.headers_mut().insert(header::HOST, authority);
    }
}

/// The layer running [`fill_host`] on every request.
pub async fn host_from_authority(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    fill_host(&mut request);
    next.run(request).await
}

/// Where a request came from, for the audit trail and budgets (see
/// [`client_ip`] for when it is refused).
pub fn request_meta(
    request_id: &RequestId,
    peer: SocketAddr,
    headers: &HeaderMap,
    trusted_proxies: usize,
) -> AppResult<RequestMeta> {
    Ok(RequestMeta {
        request_id: request_id.0.clone(),
        ip: Some(client_ip(peer, headers, trusted_proxies)?.to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            // Stored in the audit trail: no control characters (HTTP allows a
            // tab), at most 512 characters.
            .map(|v| {
                v.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .take(512)
                    .collect()
            }),
        bound_tenant: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(FORWARDED_FOR, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(peer: &str, h: &HeaderMap, n: usize) -> AppResult<String> {
        client_ip(peer.parse().unwrap(), h, n).map(|ip| ip.to_string())
    }

    #[test]
    fn client_addresses_come_from_trusted_hops_only() {
        let h = xff(&["6.6.6.6, 203.0.113.7"]);
        assert_eq!(ip("10.0.0.1:5000", &h, 0).unwrap(), "10.0.0.1");
        assert_eq!(ip("10.0.0.1:5000", &h, 1).unwrap(), "203.0.113.7");
        assert_eq!(ip("10.0.0.1:5000", &h, 2).unwrap(), "6.6.6.6");
        // Several header lines are one list.
        let split = xff(&["6.6.6.6", "203.0.113.7"]);
        assert_eq!(ip("10.0.0.1:5000", &split, 1).unwrap(), "203.0.113.7");
        // What the client claims left of its own entry is ignored.
        let claimed = xff(&["not-an-address, 203.0.113.7"]);
        assert_eq!(ip("10.0.0.1:5000", &claimed, 1).unwrap(), "203.0.113.7");
        // Ports, as some proxies write them.
        assert_eq!(
            ip("10.0.0.1:5000", &xff(&["203.0.113.7:4711"]), 1).unwrap(),
            "203.0.113.7"
        );
        assert_eq!(
            ip("10.0.0.1:5000", &xff(&["[2001:db8::1]:443"]), 1).unwrap(),
            "2001:db8::1"
        );
    }

    #[test]
    fn missing_or_unparsable_hops_are_refused() {
        let h = xff(&["6.6.6.6, 203.0.113.7"]);
        let missing = ip("10.0.0.1:5000", &h, 3).unwrap_err();
        assert_eq!(missing.code().as_str(), "BAD_USER_INPUT");
        let none = ip("10.0.0.1:5000", &HeaderMap::new(), 1).unwrap_err();
        assert_eq!(none.code().as_str(), "BAD_USER_INPUT");
        for bad in ["garbage", "203.0.113.7, nope", "999.1.1.1"] {
            let err = ip("10.0.0.1:5000", &xff(&[bad]), 1).unwrap_err();
            assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{bad}");
        }
        // A trusted hop right of the client's must parse too.
        let err = ip("10.0.0.1:5000", &xff(&["203.0.113.7, nope"]), 2).unwrap_err();
        assert_eq!(err.code().as_str(), "BAD_USER_INPUT");
    }

    #[test]
    fn ipv4_mapped_ipv6_is_canonicalised() {
        assert_eq!(
            ip("[::ffff:198.51.100.9]:5000", &HeaderMap::new(), 0).unwrap(),
            "198.51.100.9"
        );
        assert_eq!(
            ip("10.0.0.1:5000", &xff(&["::ffff:198.51.100.9"]), 1).unwrap(),
            "198.51.100.9"
        );
        // Real IPv6 stays IPv6.
        assert_eq!(
            ip("[2001:db8::7]:5000", &HeaderMap::new(), 0).unwrap(),
            "2001:db8::7"
        );
        // Two IPv4 clients behind a dual-stack listener get separate budgets.
        let a = ip("[::ffff:198.51.100.9]:1", &HeaderMap::new(), 0).unwrap();
        let b = ip("[::ffff:198.51.100.10]:1", &HeaderMap::new(), 0).unwrap();
        assert_ne!(
            crate::auth::throttle::address_key("login", &a),
            crate::auth::throttle::address_key("login", &b)
        );
    }

    #[test]
    fn the_host_comes_from_trusted_proxies_only() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("internal:8080"));
        h.insert(
            FORWARDED_HOST,
            HeaderValue::from_static("evil.example, acme.app.example.com"),
        );
        assert_eq!(request_host(&h, 0), Some("internal:8080"));
        assert_eq!(request_host(&h, 1), Some("acme.app.example.com"));
        h.remove(FORWARDED_HOST);
        assert_eq!(request_host(&h, 1), Some("internal:8080"));
        assert_eq!(request_host(&HeaderMap::new(), 0), None);
    }

    #[test]
    fn http2_authority_is_the_host() {
        let mut h2 = axum::http::Request::builder()
            .uri("https://acme.app.example.com:8443/graphql")
            .body(())
            .unwrap();
        fill_host(&mut h2);
        assert_eq!(
            request_host(h2.headers(), 0),
            Some("acme.app.example.com:8443")
        );
        let mut h1 = axum::http::Request::builder()
            .uri("https://other.example.com/graphql")
            .header(header::HOST, "acme.app.example.com")
            .body(())
            .unwrap();
        fill_host(&mut h1);
        assert_eq!(request_host(h1.headers(), 0), Some("acme.app.example.com"));
        let mut bare = axum::http::Request::builder()
            .uri("/graphql")
            .body(())
            .unwrap();
        fill_host(&mut bare);
        assert_eq!(request_host(bare.headers(), 0), None);
    }

    #[test]
    fn request_meta_carries_the_address() {
        let meta = request_meta(
            &RequestId("r".into()),
            "[::ffff:198.51.100.9]:5000".parse().unwrap(),
            &HeaderMap::new(),
            0,
        )
        .unwrap();
        assert_eq!(meta.ip.as_deref(), Some("198.51.100.9"));
        let mut headers = HeaderMap::new();
        headers.insert(header::USER_AGENT, HeaderValue::from_static("agent\t1"));
        let meta = request_meta(
            &RequestId("r".into()),
            "127.0.0.1:1".parse().unwrap(),
            &headers,
            0,
        )
        .unwrap();
        assert_eq!(meta.user_agent.as_deref(), Some("agent 1"));
    }
}
