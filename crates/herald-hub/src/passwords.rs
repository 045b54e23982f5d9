//! Passwords: argon2id with the argon2 crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's
//! recommended minimum), stored as PHC strings. Hashing runs on a blocking thread, at most
//! [`AT_ONCE`] at a time, so a flood of sign-ins costs bounded memory and leaves the runtime
//! free.
//!
//! A user with no password, or a user who does not exist, is checked against a fixed hash made
//! once, so a wrong name and a wrong password take the same time and give the same answer.

use std::sync::{Arc, LazyLock};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

/// Argon2 computations at once (each holds 19 MiB).
const AT_ONCE: usize = 4;
/// Longest password taken: a password of megabytes would only cost hashing time.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

static SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(AT_ONCE)));

/// What `verify` checks a missing hash against: the same work as a real one.
static DECOY: LazyLock<String> = LazyLock::new(|| hash_now("herald decoy password").expect("argon2 hashes"));

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is empty")]
    Empty,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// A password people can type: not empty, at most [`MAX_PASSWORD_BYTES`].
pub fn check(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

fn hash_now(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?
        .to_string())
}

/// The PHC string to store for `password`.
pub async fn hash(password: &str) -> Result<String, PasswordError> {
    check(password)?;
    let password = password.to_owned();
    let _slot = SLOTS.clone().acquire_owned().await.map_err(|e| PasswordError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_now(&password)).await.map_err(|e| PasswordError::Hash(e.to_string()))?
}

/// Whether `password` matches `stored`; `None` (no such user, or no password set) never
/// matches but costs the same.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(_slot) = SLOTS.clone().acquire_owned().await else { return false };
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| DECOY.clone());
        let matches = PasswordHash::new(&phc)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
        real && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let (a, b) = (hash("correct horse").await.unwrap(), hash("correct horse").await.unwrap());
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct horse"));
        assert!(verify("correct horse", Some(a.clone())).await);
        assert!(!verify("correct horsf", Some(a)).await);
        assert!(!verify("herald decoy password", None).await, "the decoy never lets anyone in");
    }

    #[test]
    fn empty_and_huge_passwords_are_refused() {
        assert!(matches!(check(""), Err(PasswordError::Empty)));
        assert!(matches!(check(&"x".repeat(MAX_PASSWORD_BYTES + 1)), Err(PasswordError::TooLong)));
    }
}
