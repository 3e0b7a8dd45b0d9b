//! Console passwords: Argon2id (the `argon2` crate's defaults, OWASP's minimum: 19 MiB, 2
//! passes), stored as PHC strings. Hashing is slow on purpose, so it runs off the async threads.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, Result};

pub const MIN_CHARS: usize = 12;
/// Argon2 takes any length; this bounds the work one request can ask for.
const MAX_CHARS: usize = 256;

/// Refuses a password too short to resist guessing, or absurdly long.
pub fn check(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
        return Err(Error::unprocessable(format!("a password has {MIN_CHARS}-{MAX_CHARS} characters"), "password"));
    }
    Ok(())
}

/// The PHC string of `password` under a fresh 16-byte salt.
pub async fn hash(password: &str) -> Result<String> {
    let password = password.to_owned();
    let hashed = tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        openssl::rand::rand_bytes(&mut salt)?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let phc = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::Ok(phc.to_string())
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(hashed)
}

/// Whether `password` matches `phc` (false for a malformed hash).
pub async fn verify(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when there is no such user, so that a wrong e-mail costs as long
/// as a wrong password (the answer time reveals no account).
pub async fn decoy() -> &'static str {
    static DECOY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DECOY.get_or_init(|| async { hash("decoy password, never anyone's").await.unwrap_or_default() }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let phc = hash("correct horse battery").await.unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse battery", &phc).await);
        assert!(!verify("correct horse batterY", &phc).await);
        assert!(!verify("correct horse battery", "not a hash").await);
        assert_ne!(phc, hash("correct horse battery").await.unwrap(), "salted");
        assert!(check("short").is_err() && check("long enough password").is_ok());
    }
}
