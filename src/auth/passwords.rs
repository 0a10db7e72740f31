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

/// At most this many password hashes run at once (each takes ~19 MiB and tens
/// of milliseconds of a core); more wait up to [`HASH_WAIT`], then get UNAVAILABLE.
fn hash_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores * 2)
    })
}

/// How long a password hash waits for a free slot.
pub const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs CPU-heavy password work on the blocking pool, within the hash slots.
async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _slot = tokio::time::timeout(HASH_WAIT, hash_slots().acquire())
        .await
        .map_err(|_| AppError::unavailable("the server is busy signing people in; try again"))?
        .map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)
}

/// Checks strength like [`check_strength`], off the async workers.
pub async fn check_strength_async(password: &str, context: &[&str]) -> AppResult<()> {
    let password = password.to_owned();
    let context: Vec<String> = context.iter().map(|s| (*s).to_owned()).collect();
    bounded(move || {
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        check_strength(&password, &context)
    })
    .await?
}

/// Hashes a password with argon2id on the blocking pool (it takes ~20-50 ms).
pub async fn hash(password: String) -> AppResult<String> {
    bounded(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(anyhow::anyhow!("hashing a password: {e}")))
    })
    .await?
}

/// Checks a password against a stored hash, on the blocking pool.
pub async fn verify(password: String, stored: String) -> AppResult<bool> {
    bounded(move || {
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| AppError::internal(anyhow::anyhow!("stored hash unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
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
