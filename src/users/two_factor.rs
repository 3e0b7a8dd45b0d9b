//! Two-factor sign-in for hq_admins: a TOTP authenticator app (RFC 6238: SHA-1, 6 digits, 30 s,
//! one step of skew) and ten one-time recovery codes. Turning it on takes a code from the app
//! (so a wrong scan never locks anyone out); each code is accepted once; recovery codes are
//! shown once and stored as SHA-256. Between the password and the code, a signed ticket of five
//! minutes names the user (no session exists until both are right).

use anyhow::{Context, Result};
use totp_rs::{Builder, Totp};

use crate::error::Error;
use crate::keys::key_hash;
use crate::store::{Store, UserRecord, now_ms};
use crate::tokens;

const ISSUER: &str = "Passerelle";
const RECOVERY_CODES: usize = 10;
const TICKET_MS: i64 = 5 * 60_000;

fn totp(secret_base32: &str, account: &str) -> Result<Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).map_err(|e| anyhow::anyhow!("totp secret: {e:?}"))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account.to_owned())
        .with_issuer(Some(ISSUER.to_owned()))
        .build()
        .map_err(|e| anyhow::anyhow!("totp: {e:?}"))
}

/// A set-up in progress: the secret to type and the `otpauth://` link to scan.
pub struct Setup {
    pub secret: String,
    pub url: String,
}

/// Starts turning two-factor sign-in on (an hq_admin's own account): a new secret, not in use
/// until `confirm`.
pub async fn start(store: &dyn Store, user: &UserRecord) -> crate::error::Result<Setup> {
    if user.role != "hq_admin" {
        return Err(Error::Forbidden("two-factor sign-in is for hq_admin accounts".into()));
    }
    let mut bytes = vec![0u8; 20];
    openssl::rand::rand_bytes(&mut bytes).map_err(anyhow::Error::from)?;
    let secret = totp_rs::Secret::from(bytes).to_base32();
    store.set_totp(&user.id, Some(&secret), None, &[]).await?;
    setup_of(&secret, &user.email).map_err(Error::from)
}

/// The set-up of a secret already started (the page shown again).
pub fn setup_of(secret: &str, email: &str) -> Result<Setup> {
    let url = totp(secret, email)?.to_url().map_err(|e| anyhow::anyhow!("otpauth url: {e:?}"))?;
    Ok(Setup { secret: secret.to_owned(), url })
}

fn step_of(t: &Totp, code: &str) -> Option<i64> {
    let code: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
    t.check(&code, (now_ms() / 1000) as u64).map(|step| step as i64)
}

/// Turns it on with a code from the app; returns the recovery codes (to show once).
pub async fn confirm(store: &dyn Store, user: &UserRecord, code: &str) -> crate::error::Result<Vec<String>> {
    let secret = user.totp_secret.as_deref().filter(|_| user.totp_enabled_at.is_none());
    let secret = secret.ok_or_else(|| Error::conflict("start turning two-factor sign-in on first", "code"))?;
    let t = totp(secret, &user.email)?;
    if step_of(&t, code).is_none() {
        return Err(Error::unprocessable("this code is not the app's current one", "code"));
    }
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw = tokens::random_hex(5);
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|c| key_hash(c)).collect();
    store.set_totp(&user.id, Some(secret), Some(now_ms()), &hashes).await?;
    Ok(codes)
}

/// Turns it off, with a current code (or a recovery code).
pub async fn turn_off(store: &dyn Store, user: &UserRecord, code: &str) -> crate::error::Result<()> {
    if !verify(store, user, code).await? {
        return Err(Error::unprocessable("this code is not valid", "code"));
    }
    store.set_totp(&user.id, None, None, &[]).await?;
    Ok(())
}

/// Whether `code` proves the user holds their authenticator (each step once) or a recovery
/// code (each once).
pub async fn verify(store: &dyn Store, user: &UserRecord, code: &str) -> Result<bool> {
    let Some(secret) = user.totp_secret.as_deref().filter(|_| user.totp_enabled_at.is_some()) else {
        return Ok(false);
    };
    let code = code.trim();
    if code.contains('-') {
        return store.use_recovery_code(&user.id, &key_hash(&code.to_ascii_lowercase()), now_ms()).await;
    }
    match step_of(&totp(secret, &user.email)?, code) {
        Some(step) => store.use_totp_step(&user.id, step).await,
        None => Ok(false),
    }
}

fn sign(key: &[u8], text: &str) -> Result<String> {
    use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};
    let key = PKey::hmac(key)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    signer.update(text.as_bytes())?;
    Ok(hex::encode(signer.sign_to_vec()?))
}

/// The ticket between the password and the code: the user, an expiry and a signature.
pub fn ticket(key: &[u8], user_id: &str) -> Result<String> {
    let body = format!("{user_id}.{}", now_ms() + TICKET_MS);
    Ok(format!("{body}.{}", sign(key, &body)?))
}

/// The user a ticket names, if it is genuine and not expired.
pub fn ticket_user(key: &[u8], ticket: &str) -> Option<String> {
    let (body, signature) = ticket.rsplit_once('.')?;
    let expected = sign(key, body).ok()?;
    if !crate::http::extract::secrets_equal(&expected, signature) {
        return None;
    }
    let (user, expires) = body.rsplit_once('.')?;
    (expires.parse::<i64>().ok()? > now_ms()).then(|| user.to_owned())
}

/// The current code of a secret (tests and the set-up page's check).
pub fn current_code(secret: &str, email: &str) -> Result<String> {
    Ok(totp(secret, email).context("totp")?.generate((now_ms() / 1000) as u64).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_names_its_user_until_it_expires_and_cannot_be_forged() {
        let key = b"k".repeat(32);
        let t = ticket(&key, "usr_1").unwrap();
        assert_eq!(ticket_user(&key, &t).as_deref(), Some("usr_1"));
        assert_eq!(ticket_user(b"other key", &t), None);
        let forged = t.replacen("usr_1", "usr_2", 1);
        assert_eq!(ticket_user(&key, &forged), None);
        let old = format!("usr_1.{}", now_ms() - 1);
        assert_eq!(ticket_user(&key, &format!("{old}.{}", sign(&key, &old).unwrap())), None);
    }
}
