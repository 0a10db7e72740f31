//! Webhook delivery, signed as Stripe signs: `Stripe-Signature:
//! t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, keyed with the whole
//! `whsec_…` string. `t` is the real time of the attempt (the receiver checks
//! it against its own clock, whatever the simulated clock says), and the
//! body is the same bytes on every attempt.
//!
//! Automatic mode: a background worker delivers queued events in order,
//! retrying one a receiver refused (non-2xx or unreachable) with growing
//! pauses before moving on, as Stripe retries. Held mode: events wait in a
//! list; a test delivers the ones it picks, in any order and as often as it
//! likes, or drops them (a missed webhook).

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Shared;
use super::events::render;

/// The signature header for `body` sent at `timestamp` with `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// What one delivery attempt to one endpoint got.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub url: String,
    /// The receiver's HTTP status (none when it could not be reached).
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Delivery {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The body and signing secret of event `id` for endpoint `endpoint`.
fn prepare(shared: &Shared, endpoint: usize, id: &str) -> Option<(String, String, String)> {
    let mut state = shared.lock();
    let target = state.endpoints.get(endpoint)?.clone();
    let event = state.events.iter_mut().find(|e| e.id == id)?;
    event.attempts += 1;
    let body = serde_json::to_string(&render(event)).ok()?;
    Some((target.url, target.secret, body))
}

/// One signed POST of `body` to `url`.
async fn post(shared: &Shared, url: &str, secret: &str, body: String) -> Delivery {
    let header = signature(secret, chrono::Utc::now().timestamp(), &body);
    let sent = shared
        .http
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("stripe-signature", header)
        .body(body)
        .send()
        .await;
    let delivery = match sent {
        Ok(response) => Delivery {
            url: url.to_owned(),
            status: Some(response.status().as_u16()),
            error: None,
        },
        Err(err) => Delivery {
            url: url.to_owned(),
            status: None,
            error: Some(err.to_string()),
        },
    };
    shared.lock().count(if delivery.ok() {
        "webhooks.delivered"
    } else {
        "webhooks.failed"
    });
    delivery
}

/// Delivers event `id` to every endpoint now, once (held or not, delivered
/// before or not); a held event leaves the held list. `None`: no such event.
pub async fn deliver(shared: &Shared, id: &str) -> Option<Vec<Delivery>> {
    let endpoints = {
        let mut state = shared.lock();
        state.event(id)?;
        state.held.retain(|h| h != id);
        state.endpoints.len()
    };
    let mut out = Vec::new();
    for endpoint in 0..endpoints {
        if let Some((url, secret, body)) = prepare(shared, endpoint, id) {
            out.push(post(shared, &url, &secret, body).await);
        }
    }
    Some(out)
}

/// Runs automatic delivery until `stop` turns true.
pub fn spawn_worker(
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failures: usize = 0;
        loop {
            if *stop.borrow() {
                return;
            }
            let head = shared.lock().queue.front().cloned();
            let Some((endpoint, id)) = head else {
                tokio::select! {
                    _ = shared.wake.notified() => {}
                    _ = stop.changed() => {}
                }
                continue;
            };
            shared.set_busy(true);
            let delivered = match prepare(&shared, endpoint, &id) {
                Some((url, secret, body)) => post(&shared, &url, &secret, body).await.ok(),
                // The endpoint or event is gone: nothing to deliver.
                None => true,
            };
            let give_up = !delivered && failures >= shared.retry_delays.len();
            if delivered || give_up {
                if give_up {
                    tracing::warn!(stripe.event = %id, "the Stripe simulator gave up delivering an event");
                    shared.lock().count("webhooks.given_up");
                }
                let mut state = shared.lock();
                if state.queue.front() == Some(&(endpoint, id)) {
                    state.queue.pop_front();
                }
                failures = 0;
                drop(state);
                shared.set_busy(false);
                continue;
            }
            let pause = shared.retry_delays[failures];
            failures += 1;
            shared.set_busy(false);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
        }
    })
}

/// The default pauses between attempts at one event (Stripe's are hours;
/// these suit development and tests).
pub fn default_retry_delays() -> Vec<Duration> {
    [250, 500, 1_000, 2_000, 5_000, 10_000]
        .into_iter()
        .map(Duration::from_millis)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_stripes() {
        // The same computation Stripe documents: HMAC-SHA256 of "t.body".
        let header = signature("whsec_test", 1_700_000_000, "{}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(b"1700000000.{}");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(header, format!("t=1700000000,v1={expected}"));
    }
}
