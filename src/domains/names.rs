//! Host names: the custom domains tenants may claim (validated and
//! normalised), and the hosts requests arrive on (read and classified).

use std::net::IpAddr;

use crate::error::{AppError, AppResult};

/// The longest domain name DNS allows (without the root's dot).
pub const MAX_DOMAIN: usize = 253;

/// Top-level names no public domain can have: the reserved ones, and those
/// private networks use (a lookup there would read the server's own network's
/// view of DNS).
const RESERVED_TLDS: [&str; 13] = [
    "localhost",
    "local",
    "internal",
    "arpa",
    "invalid",
    "onion",
    "corp",
    "lan",
    "home",
    "svc",
    "intranet",
    "private",
    "localdomain",
];

/// One label: 1 to 63 letters, digits and inner dashes.
fn label_ok(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A custom domain as a tenant gives it, normalised: trimmed, lower-case,
/// without a trailing dot, internationalised names as punycode (`xn--…`,
/// UTS #46). BAD_USER_INPUT (field `domain`) unless it is a hostname of at
/// least two labels under a public-looking top-level name (not numeric, not
/// `localhost`, `.local`, `.internal`, `.arpa`, `.invalid`, `.onion`, nor a
/// private network's `.corp`, `.lan`, `.home`, `.svc`, `.intranet`,
/// `.private`, `.localdomain`), not an
/// IP address, at most 253 characters, and neither the base domain nor under
/// it (those hosts are the tenants' subdomains). Public suffixes themselves
/// (`co.uk`) are not told apart: verification needs a TXT record under the
/// name, which only its holder can publish.
pub fn validate_domain(input: &str, base_domain: Option<&str>) -> AppResult<String> {
    let bad = |why: &str| AppError::bad_field("domain", why.to_owned());
    let trimmed = input.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(bad("give a domain name, such as portal.example.com"));
    }
    if trimmed.len() > 4 * MAX_DOMAIN {
        return Err(bad("at most 253 characters"));
    }
    if trimmed.parse::<IpAddr>().is_ok()
        || trimmed
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .is_some_and(|t| t.parse::<IpAddr>().is_ok())
    {
        return Err(bad("an IP address is not a domain name"));
    }
    if trimmed.contains(['/', ':', '@', '*', ' ', '_']) {
        return Err(bad(
            "a bare host name only (no scheme, port, path, wildcard or underscore)",
        ));
    }
    let ascii = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii_strict(trimmed)
            .map_err(|_| bad("not a valid internationalised domain name"))?
    };
    if ascii.len() > MAX_DOMAIN {
        return Err(bad("at most 253 characters"));
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err(bad(
            "a domain of at least two labels, such as portal.example.com",
        ));
    }
    if !labels.iter().all(|l| label_ok(l)) {
        return Err(bad(
            "each label is 1 to 63 letters, digits and inner dashes",
        ));
    }
    let tld = labels[labels.len() - 1];
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("an IP address is not a domain name"));
    }
    if RESERVED_TLDS.contains(&tld) {
        return Err(bad("a public domain name (not a local or reserved one)"));
    }
    if let Some(base) = base_domain
        && (ascii == base || ascii.ends_with(&format!(".{base}")))
    {
        return Err(bad(
            "this tenant's subdomain of the portal's own domain needs no custom domain",
        ));
    }
    Ok(ascii)
}

/// The host a request names: `host` without its port, lower-case, without a
/// trailing dot; `None` when empty or not a plausible host name.
pub fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    let host = if let Some(rest) = host.strip_prefix('[') {
        // An IPv6 literal: never a tenant's host.
        return rest.split_once(']').map(|(ip, _)| format!("[{ip}]"));
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(name, _)| name)
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let plausible = !host.is_empty()
        && host.len() <= MAX_DOMAIN
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    plausible.then_some(host)
}

/// What a request's host names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostName {
    /// No tenant: the base domain itself, an IP address, a name without a
    /// dot (`localhost`), or the portal's own public host.
    Portal,
    /// `<slug>.<base domain>`: the tenant with that slug.
    Subdomain(String),
    /// Any other name: the tenant whose verified custom domain it is, if any.
    Custom(String),
}

/// Classifies a normalised host against the base domain and the portal's own
/// public host.
pub fn classify(host: &str, base_domain: Option<&str>, portal_host: Option<&str>) -> HostName {
    if host.starts_with('[')
        || host.parse::<IpAddr>().is_ok()
        || !host.contains('.')
        || portal_host == Some(host)
    {
        return HostName::Portal;
    }
    if let Some(base) = base_domain {
        if host == base {
            return HostName::Portal;
        }
        if let Some(sub) = host.strip_suffix(base).and_then(|s| s.strip_suffix('.')) {
            // Only one label names a tenant (`acme.app.example.com`); deeper
            // names under the base domain name none, and are not found.
            return HostName::Subdomain(sub.to_owned());
        }
    }
    HostName::Custom(host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_or_refused() {
        let base = Some("app.example.com");
        assert_eq!(
            validate_domain(" Portal.Acme.COM. ", base).unwrap(),
            "portal.acme.com"
        );
        assert_eq!(
            validate_domain("bücher.example", base).unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "localhost",
            "acme",
            "10.0.0.1",
            "[::1]",
            "1.2.3.4.5",
            "printer.local",
            "db.internal",
            "db.corp",
            "nas.lan",
            "router.home",
            "api.default.svc",
            "wiki.intranet",
            "x.private",
            "host.localdomain",
            "https://acme.com",
            "acme.com:443",
            "*.acme.com",
            "_tenantgate.acme.com",
            "-acme.com",
            "acme-.com",
            "a..com",
            "app.example.com",
            "acme.app.example.com",
            &format!("{}.com", "a".repeat(64)),
            &format!("{}com", "abcdefghi.".repeat(26)),
        ] {
            let err = validate_domain(bad, base).unwrap_err();
            assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{bad}");
        }
    }

    #[test]
    fn hosts_are_classified() {
        let base = Some("app.example.com");
        let h = |s: &str| normalize_host(s).unwrap();
        assert_eq!(h("Acme.App.Example.com:8080"), "acme.app.example.com");
        assert_eq!(
            classify(&h("acme.app.example.com:8080"), base, None),
            HostName::Subdomain("acme".into())
        );
        assert_eq!(
            classify(&h("app.example.com"), base, None),
            HostName::Portal
        );
        assert_eq!(classify(&h("127.0.0.1:80"), base, None), HostName::Portal);
        assert_eq!(classify(&h("[::1]:80"), base, None), HostName::Portal);
        assert_eq!(classify(&h("localhost:80"), base, None), HostName::Portal);
        assert_eq!(
            classify(&h("auth.example.com"), base, Some("auth.example.com")),
            HostName::Portal
        );
        assert_eq!(
            classify(&h("portal.acme.com"), base, None),
            HostName::Custom("portal.acme.com".into())
        );
        assert_eq!(
            classify(&h("evilapp.example.com"), base, None),
            HostName::Custom("evilapp.example.com".into())
        );
        assert_eq!(
            classify(&h("x.acme.app.example.com"), base, None),
            HostName::Subdomain("x.acme".into())
        );
        assert_eq!(normalize_host("bad host"), None);
        assert_eq!(normalize_host(""), None);
    }
}
