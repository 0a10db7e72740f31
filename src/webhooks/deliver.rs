//! One attempt: the body (`{"type","timestamp","data"}`), signed, POSTed
//! with the client of [`super::service::Webhooks`] (15 s deadline, no
//! redirects, no proxy, addresses judged after DNS), and what came back:
//! status, latency, the first 1 KB of the response, `Retry-After`. And the
//! retry schedule.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;

use super::secret::Secret;
use crate::db::webhook_deliveries::Claimed;

/// Delays before the retries, after the first attempt (made at once): the
/// Standard Webhooks schedule, 8 attempts in all.
pub const SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];
/// Attempts of one delivery at most: the first and the schedule's retries
/// (the database holds it too: `attempt_count` is checked to be at most 8,
/// and each attempt row is written with its increment).
pub const MAX_ATTEMPTS: usize = SCHEDULE.len() + 1;
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10 * 3600);
/// How much of a response is kept.
pub const EXCERPT_BYTES: usize = 1024;

/// The body endpoints receive.
pub fn body(d: &Claimed) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": d.event_type,
        "timestamp": d.event_created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": d.payload,
    }))
    .expect("JSON values serialise")
}

/// When the retry after `attempts` failed attempts is due (`None`: the
/// schedule is over), with ±10 % jitter; a `Retry-After` replaces the
/// schedule's delay (at least 1 s, at most [`MAX_RETRY_AFTER`]).
pub fn next_attempt(
    attempts: i32,
    now: DateTime<Utc>,
    retry_after: Option<Duration>,
) -> Option<DateTime<Utc>> {
    let base = *SCHEDULE.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let delay = match retry_after {
        Some(asked) => asked.clamp(Duration::from_secs(1), MAX_RETRY_AFTER),
        None => {
            let jitter = rand::rng().random_range(0.9..1.1);
            base.mul_f64(jitter)
        }
    };
    Some(now + chrono::Duration::from_std(delay).ok()?)
}

/// What one attempt got.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub status: Option<u16>,
    pub latency: Duration,
    pub excerpt: Option<String>,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    /// Not sent for a reason of this server's (no key opens the secret):
    /// retried, but it does not count against the receiver.
    pub not_sent: bool,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// 410 Gone: the receiver asks to be disabled.
    pub fn gone(&self) -> bool {
        self.status == Some(410)
    }
}

/// The reqwest error and its causes, as one line (a refused address says so).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let s = cause.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = cause.source();
    }
    text.chars().take(500).collect()
}

fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    (at - now).to_std().ok()
}

/// Makes one attempt of `d` to `url`, signed with `secrets`.
pub async fn attempt(
    client: &reqwest::Client,
    url: &str,
    allow_loopback: bool,
    secrets: &[Secret],
    d: &Claimed,
) -> Outcome {
    let started = Instant::now();
    let mut out = Outcome::default();
    // Names are judged by the client's resolver; a literal address is not
    // looked up, so it is judged here.
    if let Some(refused) = literal_refusal(url, allow_loopback) {
        out.error = Some(refused);
        return out;
    }
    if secrets.is_empty() {
        out.error = Some(
            "not sent: the signing secret cannot be opened with this server's keys \
             (rotate the endpoint's secret)"
                .to_owned(),
        );
        out.not_sent = true;
        return out;
    }
    let body = body(d);
    let id = d.event_id.to_string();
    let timestamp = Utc::now().timestamp();
    let signature = super::sign::header(secrets, &id, timestamp, &body);
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => {
            out.latency = started.elapsed();
            out.error = Some(describe(&e));
            return out;
        }
    };
    out.status = Some(response.status().as_u16());
    out.retry_after = retry_after(response.headers(), Utc::now());
    // Only the first 1 KB is read; the rest is never downloaded.
    let mut excerpt = Vec::with_capacity(EXCERPT_BYTES);
    while excerpt.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                out.error = Some(describe(&e));
                break;
            }
        }
    }
    out.latency = started.elapsed();
    excerpt.truncate(EXCERPT_BYTES);
    let mut text = String::from_utf8_lossy(&excerpt).into_owned();
    while text.len() > EXCERPT_BYTES {
        text.pop();
    }
    let text: String = text.chars().filter(|c| *c != '\0').collect();
    if !text.is_empty() {
        out.excerpt = Some(text);
    }
    if out.error.is_none() && !out.succeeded() {
        out.error = Some(format!("the receiver answered {}", response.status()));
    }
    out
}

fn literal_refusal(url: &str, allow_loopback: bool) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let ip: std::net::IpAddr = match parsed.host()? {
        url::Host::Ipv4(v4) => v4.into(),
        url::Host::Ipv6(v6) => v6.into(),
        url::Host::Domain(_) => return None,
    };
    super::ssrf::refusal(ip, allow_loopback).map(|reason| format!("refused: {ip} is {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_with_jitter_and_retry_after() {
        let now = Utc::now();
        let secs =
            |at: Option<DateTime<Utc>>| at.map(|at| (at - now).num_milliseconds() as f64 / 1000.0);
        let first = secs(next_attempt(1, now, None)).unwrap();
        assert!((4.5..=5.5).contains(&first), "{first}");
        let third = secs(next_attempt(3, now, None)).unwrap();
        assert!((1620.0..=1980.0).contains(&third), "{third}");
        assert!(next_attempt(7, now, None).is_some());
        assert_eq!(next_attempt(8, now, None), None, "8 attempts in all");
        assert_eq!(next_attempt(0, now, None), None);
        assert_eq!(
            secs(next_attempt(1, now, Some(Duration::from_secs(120)))),
            Some(120.0)
        );
        assert_eq!(secs(next_attempt(1, now, Some(Duration::ZERO))), Some(1.0));
        assert_eq!(
            secs(next_attempt(1, now, Some(Duration::from_secs(999_999)))),
            Some(36_000.0)
        );
        assert_eq!(next_attempt(8, now, Some(Duration::from_secs(5))), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = Utc::now();
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "30".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        let later = (now + chrono::Duration::seconds(90)).to_rfc2822();
        h.insert("retry-after", later.parse().unwrap());
        let got = retry_after(&h, now).unwrap().as_secs();
        assert!((88..=90).contains(&got), "{got}");
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }
}
