//! argon2id password hashing, run on the blocking pool so a login never stalls the async
//! workers (one hash costs tens of milliseconds of CPU by design).
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::AppError;

/// Shortest password accepted for a new account.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Hashes `password` with argon2id and a fresh random salt; returns the PHC string.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::Internal
    })?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    })
}

/// Checks `password` against a stored PHC string. A malformed hash verifies as false.
pub async fn verify_password(password: String, phc: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password verification task failed");
        AppError::Internal
    })
}

/// A valid hash of a random password, verified against when the e-mail address is unknown so
/// that a login attempt takes as long whether or not the account exists.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let random: String = crate::backend::services::auth::random_token(32);
        Argon2::default()
            .hash_password(random.as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// [`decoy_hash`] computed on the blocking pool (its first call costs a full argon2 hash).
pub async fn decoy_hash_blocking() -> Result<String, AppError> {
    tokio::task::spawn_blocking(|| decoy_hash().to_owned())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "decoy hash task failed");
            AppError::Internal
        })
}

/// Rejects passwords too weak to protect an administrator account.
pub fn check_password_strength(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::Invalid(format!(
            "The password must be at least {MIN_PASSWORD_LEN} characters long."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify_roundtrips_and_rejects_wrong_password() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong".into(), hash).await.unwrap());
    }

    #[tokio::test]
    async fn malformed_hash_never_verifies() {
        assert!(!verify_password("x".into(), "not a hash".into())
            .await
            .unwrap());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("long enough password").is_ok());
    }
}
