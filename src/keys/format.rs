//! The API key format: `tg_live_…` / `tg_test_…`, 30 random base62 characters
//! (178 bits) and a 6-character base62 CRC32 of everything before it, as
//! GitHub's tokens do. A typo or a truncated copy fails the checksum before any
//! lookup, and secret scanners can recognise leaked keys offline.

use rand::Rng;
use sha2::{Digest, Sha256};

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 30;
const CHECKSUM_LEN: usize = 6;
/// How many leading characters are kept for display (`tg_live_AbCd`).
pub const DISPLAY_LEN: usize = 12;

/// Live keys act on real data; test keys only on test-mode data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    Live,
    Test,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(Self::Live),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

/// A new key: give `secret` out once; store `hash` and `display`.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub secret: String,
    pub hash: Vec<u8>,
    pub display: String,
}

fn base62(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn checksum(body: &str) -> String {
    base62(u64::from(crc32fast::hash(body.as_bytes())), CHECKSUM_LEN)
}

/// Makes a new key for `env`.
pub fn generate(env: Environment) -> NewKey {
    let mut rng = rand::rng();
    let random: String = (0..RANDOM_LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    let body = format!("tg_{}_{random}", env.as_str());
    let secret = format!("{body}{}", checksum(&body));
    NewKey {
        hash: hash(&secret),
        display: secret[..DISPLAY_LEN].to_owned(),
        secret,
    }
}

/// The stored form of a key (its SHA-256: keys carry 178 random bits, so a
/// fast hash is safe and keeps verification cheap).
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The environment of a well-formed key with a valid checksum; `None` for
/// anything else, decided without any lookup.
pub fn check(secret: &str) -> Option<Environment> {
    let env = if secret.starts_with("tg_live_") {
        Environment::Live
    } else if secret.starts_with("tg_test_") {
        Environment::Test
    } else {
        return None;
    };
    let expected_len = "tg_live_".len() + RANDOM_LEN + CHECKSUM_LEN;
    if secret.len() != expected_len || !secret[8..].bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (body, sum) = secret.split_at(expected_len - CHECKSUM_LEN);
    (checksum(body) == sum).then_some(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for env in [Environment::Live, Environment::Test] {
            let key = generate(env);
            assert!(key.secret.starts_with(&format!("tg_{}_", env.as_str())));
            assert_eq!(key.secret.len(), 44);
            assert_eq!(check(&key.secret), Some(env));
            assert_eq!(key.display, key.secret[..12]);
            assert_eq!(hash(&key.secret), key.hash);
        }
        assert_ne!(generate(Environment::Live).secret, generate(Environment::Live).secret);
    }

    #[test]
    fn typos_and_truncations_fail_the_checksum() {
        let key = generate(Environment::Live).secret;
        for i in 8..key.len() {
            let mut bytes = key.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(bytes).unwrap();
            assert_eq!(check(&typo), None, "{typo}");
        }
        assert_eq!(check(&key[..key.len() - 1]), None);
        assert_eq!(check(&format!("{key}x")), None);
        assert_eq!(check(&key.replace("tg_live_", "tg_prod_")), None);
        assert_eq!(check(""), None);
        assert_eq!(check("tg_live_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"), None);
    }
}
