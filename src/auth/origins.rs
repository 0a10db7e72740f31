//! Allowed origins: what an admin types, validated and normalised to the form
//! a browser sends in `Origin` (`scheme://host[:port]`: lower-case host, IDN as
//! punycode, default port dropped), so that checking a request is an exact
//! string comparison.
//!
//! Rules: https only, except `http://localhost`, `http://127.0.0.1` and
//! `http://[::1]` (any port) outside production; no user info, path (a lone
//! `/` is dropped), query or fragment; no wildcard of any form (each origin is
//! listed: a wildcard would grant every subdomain, including ones a tenant
//! does not control); at most [`MAX_ORIGINS`] per tenant, 300 characters each.

use crate::error::{AppError, AppResult};

/// Most origins a tenant may allow.
pub const MAX_ORIGINS: i64 = 50;
const MAX_LEN: usize = 300;

fn bad(message: &str) -> AppError {
    AppError::bad_field("origin", message)
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => *d == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Validates and normalises an origin; `production` refuses plain http
/// altogether. BAD_USER_INPUT (field `origin`) says what is wrong.
pub fn normalize(input: &str, production: bool) -> AppResult<String> {
    let input = input.trim();
    if input.is_empty() || input.len() > MAX_LEN {
        return Err(bad(
            "an origin is 1 to 300 characters, like https://app.example.com",
        ));
    }
    if input.contains('*') {
        return Err(bad(
            "wildcards are not allowed: list each origin (https://app.example.com)",
        ));
    }
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("an origin has no spaces or control characters"));
    }
    let url = url::Url::parse(input).map_err(|_| {
        bad("not an origin: write scheme://host[:port], like https://app.example.com")
    })?;
    let Some(host) = url.host() else {
        return Err(bad("an origin needs a host"));
    };
    match url.scheme() {
        "https" => {}
        "http" if !production && is_loopback(&host) => {}
        "http" if production => {
            return Err(bad("origins must use https in production"));
        }
        "http" => {
            return Err(bad(
                "origins must use https (plain http only for localhost in development)",
            ));
        }
        _ => return Err(bad("an origin's scheme is https (or http for localhost)")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("an origin has no user name or password"));
    }
    if url.path() != "/" || input.ends_with("//") {
        return Err(bad(
            "an origin has no path: drop everything after the host and port",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || input.contains(['?', '#']) {
        return Err(bad("an origin has no query or fragment"));
    }
    if let url::Host::Domain(domain) = &host
        && (domain.ends_with('.') || domain.starts_with('.') || domain.contains(".."))
    {
        return Err(bad("not a valid host name"));
    }
    let origin = url.origin().ascii_serialization();
    if origin == "null" || origin.len() > MAX_LEN {
        return Err(bad("not an origin: write scheme://host[:port]"));
    }
    // What the table's CHECK accepts (the url crate lets through `_`,
    // `$ ! & ' ( ) + , ; = ~` and `%5F` in hosts, which browsers' DNS
    // names do not carry): refused here as bad input, not a database error.
    let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
    if !authority
        .bytes()
        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b':' | b'[' | b']' | b'-'))
    {
        return Err(bad(
            "a host name has only letters, digits, hyphens and dots (no underscores or \
             other signs)",
        ));
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_or_refused() {
        for (input, want) in [
            ("https://App.Example.COM", "https://app.example.com"),
            ("https://app.example.com/", "https://app.example.com"),
            ("https://app.example.com:443", "https://app.example.com"),
            (
                "https://app.example.com:8443",
                "https://app.example.com:8443",
            ),
            ("  https://a.example  ", "https://a.example"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("http://localhost:5173", "http://localhost:5173"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("http://localhost:80", "http://localhost"),
        ] {
            assert_eq!(normalize(input, false).unwrap(), want, "{input}");
        }
        for bad in [
            "",
            "example.com",
            "app.example.com:443",
            "*",
            "https://*.example.com",
            "https://app.example.com/path",
            "https://app.example.com/?q=1",
            "https://app.example.com#x",
            "https://user:pw@app.example.com",
            "http://app.example.com",
            "ftp://app.example.com",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://",
            "https://app..example.com",
            "https://app.example.com.",
            "null",
            "https://a b.example",
            "https://a_b.example",
            "https://a%5Fb.example",
            "https://a$b.example",
            "https://a!b.example",
            "https://a&b.example",
            "https://a'b.example",
            "https://a(b).example",
            "https://a+b.example",
            "https://a,b.example",
            "https://a;b.example",
            "https://a=b.example",
            "https://a~b.example",
        ] {
            let err = normalize(bad, false).unwrap_err();
            assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{bad}");
        }
        assert!(normalize(&format!("https://{}.example", "a".repeat(300)), false).is_err());
        // Production: no plain http at all.
        assert!(normalize("http://localhost:5173", true).is_err());
        assert_eq!(
            normalize("https://localhost:5173", true).unwrap(),
            "https://localhost:5173"
        );
    }
}
