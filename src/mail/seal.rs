//! Sealing email bodies at rest: bodies hold sign-in, reset, verification and
//! invitation links, so the outbox stores them encrypted and authenticated
//! (XChaCha20-Poly1305) under a key derived from the server's signing secret,
//! which is not in the database. A copy of the database (a backup, a dump)
//! then holds no usable link.
//!
//! A sealed body reads `version (1 byte) | nonce (24 bytes) | ciphertext+tag`.
//! The nonce is random (192 bits: no coordination between instances needed) and
//! the message id is the associated data, so a body moved to another row does
//! not open. During a signing-key rotation (`JWT_PREVIOUS_SECRET`) bodies sealed
//! under the previous secret still open; once that secret is dropped they do
//! not (the dispatcher then gives the message up with an error).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use uuid::Uuid;

use crate::auth::jwt::JwtKeys;

/// The HKDF info of the outbox key.
const PURPOSE: &str = "tenantgate email_outbox body v1";
/// The format of sealed bodies.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Seals with the current key; opens with the current or the previous one.
#[derive(Clone)]
pub struct Sealer {
    /// Current key first.
    ciphers: Vec<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("keys", &self.ciphers.len())
            .finish_non_exhaustive()
    }
}

/// A sealed body that no configured key opens (tampered, moved to another
/// row, or sealed under a secret this server no longer has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the email body cannot be opened with this server's keys")]
pub struct Unopenable;

impl Sealer {
    /// The outbox keys of this deployment, derived from its signing secrets.
    pub fn new(keys: &JwtKeys) -> Self {
        Self::for_purpose(keys, PURPOSE)
    }

    /// Keys derived for another use (e.g. webhook endpoint secrets), so a
    /// value sealed for one use never opens as another.
    pub fn for_purpose(keys: &JwtKeys, purpose: &str) -> Self {
        let ciphers = keys
            .derived_keys(purpose)
            .iter()
            .map(|key| XChaCha20Poly1305::new(key.into()))
            .collect();
        Self { ciphers }
    }

    /// Seals `body` of the message `id`.
    pub fn seal(&self, id: Uuid, body: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self.ciphers[0]
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body.as_bytes(),
                    aad: id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens the sealed body of the message `id`.
    pub fn open(&self, id: Uuid, sealed: &[u8]) -> Result<String, Unopenable> {
        self.open_telling(id, sealed).map(|(plain, _)| plain)
    }

    /// Opens like [`Sealer::open`], and says whether the current key opened
    /// it (false: the previous one, so it is worth sealing again).
    pub fn open_telling(&self, id: Uuid, sealed: &[u8]) -> Result<(String, bool), Unopenable> {
        let [VERSION, rest @ ..] = sealed else {
            return Err(Unopenable);
        };
        if rest.len() < NONCE_LEN {
            return Err(Unopenable);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::from(<[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| Unopenable)?);
        let payload = || Payload {
            msg: ciphertext,
            aad: id.as_bytes(),
        };
        let (index, plain) = self
            .ciphers
            .iter()
            .enumerate()
            .find_map(|(i, cipher)| cipher.decrypt(&nonce, payload()).ok().map(|p| (i, p)))
            .ok_or(Unopenable)?;
        String::from_utf8(plain)
            .map(|p| (p, index == 0))
            .map_err(|_| Unopenable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &[u8] = b"an-old-signing-secret-of-32-bytes-or-more";
    const NEW: &[u8] = b"a-new-signing-secret-of-32-bytes-or-more!";

    fn sealer(current: &[u8], previous: Option<&[u8]>) -> Sealer {
        Sealer::new(&JwtKeys::new(current, previous).unwrap())
    }

    #[test]
    fn seals_and_opens_without_showing_the_body() {
        let s = sealer(NEW, None);
        let id = Uuid::now_v7();
        let body = "Sign in: https://example.com/?token=tgm.abc.secret";
        let sealed = s.seal(id, body);
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_ne!(s.seal(id, body), sealed, "nonces are fresh");
        assert_eq!(s.open(id, &sealed).unwrap(), body);
    }

    #[test]
    fn refuses_other_rows_tampering_and_unknown_keys() {
        let s = sealer(NEW, None);
        let id = Uuid::now_v7();
        let sealed = s.seal(id, "hello");
        assert_eq!(s.open(Uuid::now_v7(), &sealed), Err(Unopenable));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(s.open(id, &tampered), Err(Unopenable));
        assert_eq!(s.open(id, &sealed[..10]), Err(Unopenable));
        assert_eq!(s.open(id, b""), Err(Unopenable));
        assert_eq!(sealer(OLD, None).open(id, &sealed), Err(Unopenable));
    }

    #[test]
    fn the_previous_secret_still_opens_during_rotation() {
        let id = Uuid::now_v7();
        let sealed = sealer(OLD, None).seal(id, "queued before the rotation");
        let rotated = sealer(NEW, Some(OLD));
        assert_eq!(
            rotated.open(id, &sealed).unwrap(),
            "queued before the rotation"
        );
        assert_eq!(sealer(NEW, None).open(id, &sealed), Err(Unopenable));
    }
}
