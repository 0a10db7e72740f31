//! Signing by the Standard Webhooks spec: `webhook-id`, `webhook-timestamp`
//! (Unix seconds) and `webhook-signature`, `v1,` and the base64 of
//! HMAC-SHA256 over `id.timestamp.body` keyed with the secret's decoded
//! bytes; several signatures (a rotation's overlap) space separated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::secret::Secret;

/// One `v1,<base64>` signature of `body` by `secret`.
pub fn signature(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.key())
        .expect("HMAC-SHA256 takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per secret, space separated
/// (the current secret first).
pub fn header(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| signature(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specs_published_example() {
        // The example of the Standard Webhooks spec (and its libraries' tests).
        let secret = Secret::from_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let other = Secret::generate();
        let both = header(&[secret.clone(), other.clone()], "m", 1, b"x");
        assert_eq!(both.split(' ').count(), 2);
        assert!(both.starts_with(&signature(&secret, "m", 1, b"x")));
    }
}
