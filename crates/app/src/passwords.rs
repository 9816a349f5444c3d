//! Staff passwords: argon2id hashes, checked off the async threads, and a policy a person can
//! follow. Used by the sign-in pages and by `passnum demo` for its accounts.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
pub async fn hash_password(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A password policy a person can follow: long rather than complicated.
pub fn password_problem(password: &str) -> Option<&'static str> {
    let n = password.chars().count();
    if n < 12 {
        Some(
            "Le mot de passe doit comporter au moins 12 caractères. Une phrase facile à retenir convient très bien.",
        )
    } else if n > 200 {
        Some("Le mot de passe ne peut pas dépasser 200 caractères.")
    } else {
        None
    }
}
