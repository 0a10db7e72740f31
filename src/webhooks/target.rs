//! An endpoint's URL as given: `https://` (plain `http://` only to a
//! loopback host, and only where `--webhooks-allow-loopback` allows it, in
//! development), no user name or password, no fragment, a host, a port that
//! is 80, 443 or 1024 and above but not a well-known database or cache port,
//! at most 2,048 characters. A literal IP address is judged here as at
//! delivery ([`super::ssrf`]); names are judged at delivery, after DNS.

use std::net::IpAddr;

use reqwest::Url;

use crate::error::{AppError, AppResult};

/// The longest URL.
pub const MAX_URL: usize = 2048;

/// Ports of services that must never receive a webhook, even above 1024.
const DENIED_PORTS: [u16; 10] = [1433, 2375, 2376, 2379, 3306, 5432, 6379, 9200, 11211, 27017];

/// Checks `url` as an endpoint's; returns it normalised.
pub fn check(url: &str, allow_loopback: bool) -> AppResult<String> {
    let bad = |why: &str| AppError::bad_field("url", why.to_owned());
    let url = url.trim();
    if url.is_empty() {
        return Err(bad("give the endpoint's URL"));
    }
    if url.len() > MAX_URL {
        return Err(bad("use at most 2048 characters"));
    }
    let parsed = Url::parse(url).map_err(|e| bad(&format!("not a valid URL ({e})")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("a webhook URL may not carry a user name or password"));
    }
    if parsed.fragment().is_some() {
        return Err(bad("a webhook URL may not have a #fragment"));
    }
    let host = parsed
        .host()
        .ok_or_else(|| bad("a webhook URL needs a host"))?;
    let ip: Option<IpAddr> = match host {
        url::Host::Ipv4(v4) => Some(v4.into()),
        url::Host::Ipv6(v6) => Some(v6.into()),
        url::Host::Domain(_) => None,
    };
    let loopback_host = match (ip, &host) {
        (Some(ip), _) => ip.is_loopback() || ip.to_canonical().is_loopback(),
        (None, url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        _ => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback_host => {}
        "http" => {
            return Err(bad(if allow_loopback {
                "use https:// (http:// only to a loopback host in development)"
            } else {
                "use https://"
            }));
        }
        _ => return Err(bad("use https://")),
    }
    if let Some(ip) = ip
        && let Some(reason) = super::ssrf::refusal(ip, allow_loopback)
    {
        return Err(bad(&format!(
            "{ip} is {reason}: webhooks go to public addresses only"
        )));
    }
    if let Some(port) = parsed.port()
        && (port == 0 || (port < 1024 && port != 80 && port != 443) || DENIED_PORTS.contains(&port))
    {
        return Err(bad(&format!(
            "port {port} is not allowed: use 443, 80 or a port from 1024 (not a database's)"
        )));
    }
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_refuses_the_rest() {
        assert_eq!(
            check(" https://hooks.example.com/in?x=1 ", false).unwrap(),
            "https://hooks.example.com/in?x=1"
        );
        assert!(check("https://hooks.example.com:8443/", false).is_ok());
        assert!(check("http://127.0.0.1:9000/h", true).is_ok());
        assert!(check("http://localhost:9000/h", true).is_ok());
        assert!(check("http://[::1]:9000/h", true).is_ok());
        for (url, loopback) in [
            ("", false),
            ("not a url", false),
            ("http://hooks.example.com/", false),
            ("http://hooks.example.com/", true),
            ("http://127.0.0.1:9000/", false),
            ("ftp://hooks.example.com/", false),
            ("https://user:pw@hooks.example.com/", false),
            ("https://user@hooks.example.com/", false),
            ("https://hooks.example.com/#x", false),
            ("https://hooks.example.com:22/", false),
            ("https://hooks.example.com:6379/", false),
            ("https://127.0.0.1/", false),
            ("https://10.0.0.1/", false),
            ("https://169.254.169.254/latest/meta-data", false),
            ("https://169.254.169.254/", true),
            ("https://[::1]/", false),
            ("https://[::ffff:127.0.0.1]/", false),
            ("https://[fd00:ec2::254]/", false),
            ("https://0x7f000001/", false),
        ] {
            assert!(check(url, loopback).is_err(), "{url} should be refused");
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL));
        assert!(check(&long, false).is_err());
    }
}
