//! Password policy and hashing (argon2id, OWASP parameters).

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

use crate::error::{AppError, AppResult};

/// Shortest password accepted, in characters.
pub const MIN_LENGTH: usize = 10;
/// Longest password accepted, in characters (bounds the hashing cost).
pub const MAX_LENGTH: usize = 128;

/// Rejects passwords that are too short, too long or easy to guess. `context`
/// holds words the password must not lean on (the email, the tenant name).
pub fn check_strength(password: &str, context: &[&str]) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(AppError::bad_field(
            "password",
            format!("the password must have at least {MIN_LENGTH} characters"),
        ));
    }
    if chars > MAX_LENGTH {
        return Err(AppError::bad_field(
            "password",
            format!("the password must have at most {MAX_LENGTH} characters"),
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, context);
    if u8::from(estimate.score()) < 3 {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| format!(": {w}")))
            .unwrap_or_default();
        return Err(AppError::bad_field(
            "password",
            format!("the password is too easy to guess{hint}; use a longer passphrase"),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id on the blocking pool (it takes ~20-50 ms).
pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(anyhow::anyhow!("hashing a password: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

/// Checks a password against a stored hash, on the blocking pool.
pub async fn verify(password: String, stored: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| AppError::internal(anyhow::anyhow!("stored hash unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(AppError::internal)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused() {
        for weak in ["short", "password123", "aaaaaaaaaaaa", "qwertyuiop1"] {
            let err = check_strength(weak, &[]).unwrap_err();
            assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{weak}");
        }
        let long = "x".repeat(MAX_LENGTH + 1);
        assert!(check_strength(&long, &[]).is_err());
    }

    #[test]
    fn passwords_built_on_the_context_are_refused() {
        assert!(check_strength("acme-corporation", &["acme-corporation"]).is_err());
    }

    #[test]
    fn strong_passwords_pass() {
        check_strength("correct-horse-battery-9", &["ada@example.com"]).unwrap();
    }

    #[tokio::test]
    async fn hash_is_argon2id_and_verifies() {
        let h = hash("correct-horse-battery-9".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(
            verify("correct-horse-battery-9".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(!verify("wrong".into(), h).await.unwrap());
    }
}
