//! Endpoint signing secrets: `whsec_` and the base64 of 32 random bytes (the
//! Standard Webhooks format), shown once when made and stored sealed under a
//! key derived from the server's signing secret (as email bodies are), with
//! the endpoint id as associated data: a dump of the database holds no
//! usable secret, and a sealed secret moved to another row does not open.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use uuid::Uuid;

use crate::auth::jwt::JwtKeys;
use crate::mail::Sealer;

/// The HKDF info of the endpoint secrets' key.
const PURPOSE: &str = "tenantgate webhook_endpoints secret v1";
/// The prefix of a secret.
pub const PREFIX: &str = "whsec_";

/// A secret in the clear (its text is what endpoints are given).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// A secret given as text (tests, and the spec's examples).
    #[cfg(test)]
    pub fn from_text(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The text given to the endpoint's owner (`whsec_…`).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the base64-decoded part after `whsec_`.
    pub fn key(&self) -> Vec<u8> {
        STANDARD
            .decode(self.0.trim_start_matches(PREFIX))
            .unwrap_or_default()
    }
}

/// Seals and opens endpoint secrets.
#[derive(Clone, Debug)]
pub struct SecretBox(Sealer);

impl SecretBox {
    pub fn new(keys: &JwtKeys) -> Self {
        Self(Sealer::for_purpose(keys, PURPOSE))
    }

    /// Seals `secret` of endpoint `endpoint`.
    pub fn seal(&self, endpoint: Uuid, secret: &Secret) -> Vec<u8> {
        self.0.seal(endpoint, &secret.0)
    }

    /// Opens a sealed secret of endpoint `endpoint`, and says whether it
    /// was sealed under the current key (false: under the previous signing
    /// secret, to be sealed again). `None`: no key of this server opens it,
    /// e.g. sealed under a signing secret since dropped.
    pub fn open(&self, endpoint: Uuid, sealed: &[u8]) -> Option<(Secret, bool)> {
        self.0
            .open_telling(endpoint, sealed)
            .ok()
            .map(|(s, current)| (Secret(s), current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_whsec_base64_of_32_bytes_and_seal_per_endpoint() {
        let s = Secret::generate();
        assert!(s.expose().starts_with("whsec_"));
        assert_eq!(s.key().len(), 32);
        assert_ne!(Secret::generate(), s);
        let keys = JwtKeys::new(b"a-signing-secret-of-32-bytes-or-more!!", None).unwrap();
        let sealer = SecretBox::new(&keys);
        let id = Uuid::now_v7();
        let sealed = sealer.seal(id, &s);
        assert!(!String::from_utf8_lossy(&sealed).contains(&s.expose()[6..]));
        assert_eq!(sealer.open(id, &sealed), Some((s.clone(), true)));
        assert_eq!(sealer.open(Uuid::now_v7(), &sealed), None);
        assert_eq!(format!("{s:?}"), "Secret(whsec_…)");
    }
}
