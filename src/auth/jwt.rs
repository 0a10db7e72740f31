//! Access tokens: short-lived HS256 JWTs with `kid`, and key rotation.
//!
//! A token names its signing key by `kid` (derived from the secret, so every
//! instance agrees without coordination). Verification accepts the current key
//! and the previous one; the algorithm is pinned, and `iss`, `aud`, `exp`, `nbf`,
//! `iat` and `sub` are all required and checked.

use chrono::{DateTime, TimeZone, Utc};
use hkdf::Hkdf;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Who issues our tokens.
pub const ISSUER: &str = "tenantgate";
/// Who our access tokens are for.
pub const AUDIENCE: &str = "tenantgate-api";
/// How long an access token lives.
pub const ACCESS_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// The `typ` claim of access tokens (refresh tokens are opaque, never JWTs).
const ACCESS_TYPE: &str = "access";
/// The HKDF salt of keys derived from the signing secrets.
const DERIVE_SALT: &[u8] = b"tenantgate derived keys v1";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    /// The session (refresh-token family) this token belongs to.
    pub sid: Uuid,
    /// The tenant the session acts in by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<Uuid>,
    pub typ: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: Uuid,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// HKDF-SHA256 over the secret, for keys of other purposes.
    derive: Hkdf<Sha256>,
}

impl Key {
    fn new(secret: &[u8]) -> Self {
        let digest = Sha256::digest(secret);
        Self {
            kid: hex::encode(&digest[..8]),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            derive: Hkdf::new(Some(DERIVE_SALT), secret),
        }
    }
}

/// The signing keys of this deployment.
pub struct JwtKeys {
    current: Key,
    previous: Option<Key>,
    validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("kid", &self.current.kid)
            .finish_non_exhaustive()
    }
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl JwtKeys {
    /// Keys from the current secret and, optionally, the previous one.
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> anyhow::Result<Self> {
        for secret in std::iter::once(current).chain(previous) {
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "a JWT secret must have at least {MIN_SECRET_BYTES} bytes"
            );
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(Self {
            current: Key::new(current),
            previous: previous.map(Key::new),
            validation,
        })
    }

    /// 256-bit keys for `purpose` (e.g. sealing stored email), derived from the
    /// signing secrets with HKDF-SHA256 (`purpose` is the info): the current
    /// secret's first, then the previous one's while it is configured. They are
    /// as secret as the signing keys, never stored, and independent of them and
    /// of each other.
    pub fn derived_keys(&self, purpose: &str) -> Vec<[u8; 32]> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .map(|key| {
                let mut out = [0u8; 32];
                key.derive
                    .expand(purpose.as_bytes(), &mut out)
                    .expect("32 bytes is a valid HKDF-SHA256 output length");
                out
            })
            .collect()
    }

    /// The `kid` of the current signing key.
    pub fn current_kid(&self) -> &str {
        &self.current.kid
    }

    /// Issues an access token for `user_id` in session `session_id`, acting in
    /// `tenant_id` by default.
    pub fn issue_access(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        tenant_id: Option<Uuid>,
    ) -> AppResult<IssuedToken> {
        let now = Utc::now();
        let expires_at = now + ACCESS_TTL;
        let claims = AccessClaims {
            sub: user_id,
            sid: session_id,
            tid: tenant_id,
            typ: ACCESS_TYPE.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            exp: expires_at.timestamp(),
            nbf: now.timestamp(),
            iat: now.timestamp(),
            jti: Uuid::new_v4(),
        };
        self.sign(&claims).map(|token| IssuedToken {
            token,
            expires_at: Utc
                .timestamp_opt(claims.exp, 0)
                .single()
                .unwrap_or(expires_at),
        })
    }

    /// Signs arbitrary access claims with the current key (tests forge with it).
    pub fn sign(&self, claims: &AccessClaims) -> AppResult<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.current.encoding)
            .map_err(|e| AppError::internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// Verifies an access token; every failure is UNAUTHENTICATED.
    pub fn verify_access(&self, token: &str) -> AppResult<AccessClaims> {
        let invalid = || AppError::unauthenticated("the access token is invalid or expired");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::HS256 {
            return Err(invalid());
        }
        let kid = header.kid.ok_or_else(invalid)?;
        let key = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| k.kid == kid)
            .ok_or_else(invalid)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &self.validation)
            .map_err(|_| invalid())?;
        if data.claims.typ != ACCESS_TYPE {
            return Err(invalid());
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-current";
    const OLD: &[u8] = b"0123456789abcdef0123456789abcdef-previous";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, None).unwrap()
    }

    fn claims() -> AccessClaims {
        let now = Utc::now().timestamp();
        AccessClaims {
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            tid: Some(Uuid::new_v4()),
            typ: "access".into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            exp: now + 600,
            nbf: now,
            iat: now,
            jti: Uuid::new_v4(),
        }
    }

    fn rejected(keys: &JwtKeys, token: &str) {
        let err = keys.verify_access(token).unwrap_err();
        assert_eq!(err.code().as_str(), "UNAUTHENTICATED", "{token}");
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = keys();
        let user = Uuid::new_v4();
        let issued = keys.issue_access(user, Uuid::new_v4(), None).unwrap();
        let claims = keys.verify_access(&issued.token).unwrap();
        assert_eq!(claims.sub, user);
        assert!(issued.expires_at <= Utc::now() + ACCESS_TTL);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(JwtKeys::new(b"short", None).is_err());
    }

    #[test]
    fn attacks_are_unauthenticated() {
        let keys = keys();
        // alg: none, with and without a kid.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
        rejected(&keys, &format!("{header}.{body}."));
        // Algorithm swap: HS512 with the same secret and kid.
        let mut h = Header::new(Algorithm::HS512);
        h.kid = Some(keys.current_kid().to_owned());
        let swapped =
            jsonwebtoken::encode(&h, &claims(), &EncodingKey::from_secret(SECRET)).unwrap();
        rejected(&keys, &swapped);
        // Wrong issuer, wrong audience, expired, not yet valid, wrong type.
        let mut c = claims();
        c.iss = "someone-else".into();
        rejected(&keys, &keys.sign(&c).unwrap());
        let mut c = claims();
        c.aud = "another-api".into();
        rejected(&keys, &keys.sign(&c).unwrap());
        let mut c = claims();
        c.exp = Utc::now().timestamp() - 120;
        rejected(&keys, &keys.sign(&c).unwrap());
        let mut c = claims();
        c.nbf = Utc::now().timestamp() + 600;
        rejected(&keys, &keys.sign(&c).unwrap());
        let mut c = claims();
        c.typ = "refresh".into();
        rejected(&keys, &keys.sign(&c).unwrap());
        // Unknown kid: signed by a key this deployment does not have.
        let stranger = JwtKeys::new(b"another-secret-of-32-bytes-or-more!!", None).unwrap();
        rejected(&keys, &stranger.sign(&claims()).unwrap());
        // Tampered payload, original signature.
        let token = keys.sign(&claims()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged.sub = Uuid::new_v4();
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        rejected(&keys, &format!("{}.{}.{}", parts[0], body, parts[2]));
        // Garbage.
        rejected(&keys, "not-a-token");
        rejected(&keys, "");
    }

    #[test]
    fn previous_key_still_verifies_after_rotation() {
        let old = JwtKeys::new(OLD, None).unwrap();
        let token = old
            .issue_access(Uuid::new_v4(), Uuid::new_v4(), None)
            .unwrap()
            .token;
        let rotated = JwtKeys::new(SECRET, Some(OLD)).unwrap();
        rotated.verify_access(&token).unwrap();
        let dropped = JwtKeys::new(SECRET, None).unwrap();
        rejected(&dropped, &token);
    }

    #[test]
    fn derived_keys_follow_rotation_and_differ_by_purpose() {
        let old = JwtKeys::new(OLD, None).unwrap();
        let rotated = JwtKeys::new(SECRET, Some(OLD)).unwrap();
        let mail = rotated.derived_keys("mail");
        assert_eq!(mail.len(), 2);
        assert_eq!(mail[1], old.derived_keys("mail")[0]);
        assert_ne!(mail[0], mail[1]);
        assert_ne!(mail[0], rotated.derived_keys("other")[0]);
        assert_ne!(&mail[0][..], &SECRET[..32]);
    }
}
