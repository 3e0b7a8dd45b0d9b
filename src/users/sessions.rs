//! Signing in and staying signed in: a session is a random 256-bit token in a cookie, kept in
//! the database only as its SHA-256, with its own CSRF token; it ends when idle too long, when
//! too old, at sign-out, or when the user is disabled. Wrong passwords lock the account a while.

use crate::config::Console;
use crate::error::{Error, Result};
use crate::keys::key_hash;
use crate::secret::Secret;
use crate::store::{SessionRecord, Store, UserRecord, now_ms};
use crate::tokens;

use super::password;

/// A session's activity is written at most this often (idle expiry needs no finer).
const TOUCH_EVERY_MS: i64 = 60_000;

/// How long sessions last and how guesses are held back (from `PASSERELLE_SESSION_*` and
/// `PASSERELLE_SIGN_IN_*`).
#[derive(Debug, Clone, Copy)]
pub struct SessionRules {
    pub idle_ms: i64,
    pub max_ms: i64,
    pub max_failures: i64,
    pub lock_ms: i64,
}

impl From<&Console> for SessionRules {
    fn from(c: &Console) -> Self {
        Self {
            idle_ms: (c.session_idle_minutes as i64).saturating_mul(60_000),
            max_ms: (c.session_max_hours as i64).saturating_mul(3_600_000),
            max_failures: i64::from(c.sign_in_max_failures.max(1)),
            lock_ms: (c.sign_in_lock_minutes as i64).saturating_mul(60_000),
        }
    }
}

/// A new session: the token goes in the cookie (shown once), the rest is stored.
pub struct SignedIn {
    pub token: Secret,
    pub session: SessionRecord,
    pub user: UserRecord,
}

/// Why a sign-in failed. Wrong e-mail, wrong password and a disabled account read the same.
#[derive(Debug)]
pub enum Refused {
    WrongCredentials,
    /// The password was right and the user has two-factor sign-in: a code is asked next.
    NeedsCode(UserRecord),
    /// Too many wrong passwords: try again after this time (unix ms).
    Locked(i64),
    Failed(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

/// Checks an e-mail and password and opens a session.
pub async fn sign_in(store: &dyn Store, rules: SessionRules, email: &str, pass: &str) -> Result<SignedIn, Refused> {
    let email = email.trim().to_lowercase();
    let user = store.user_by_email(&email).await.map_err(Error::from)?;
    let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
        password::verify(pass, password::decoy().await).await;
        return Err(Refused::WrongCredentials);
    };
    let now = now_ms();
    if let Some(until) = user.locked_until.filter(|until| *until > now) {
        return Err(Refused::Locked(until));
    }
    if !password::verify(pass, &user.password_hash).await {
        store.sign_in_failed(&user.id, rules.max_failures, now + rules.lock_ms).await.map_err(Error::from)?;
        return Err(Refused::WrongCredentials);
    }
    if user.totp_enabled_at.is_some() {
        return Err(Refused::NeedsCode(user));
    }
    open(store, user).await
}

/// The second step of a sign-in with two-factor: a code (or a recovery code) for the user a
/// ticket names. Wrong codes count towards the account's lock like wrong passwords.
pub async fn second_step(
    store: &dyn Store,
    rules: SessionRules,
    user_id: &str,
    code: &str,
) -> Result<SignedIn, Refused> {
    let user = store.user(user_id).await.map_err(Error::from)?.filter(|u| u.disabled_at.is_none());
    let Some(user) = user else { return Err(Refused::WrongCredentials) };
    let now = now_ms();
    if let Some(until) = user.locked_until.filter(|until| *until > now) {
        return Err(Refused::Locked(until));
    }
    if !super::two_factor::verify(store, &user, code).await.map_err(Error::from)? {
        store.sign_in_failed(&user.id, rules.max_failures, now + rules.lock_ms).await.map_err(Error::from)?;
        return Err(Refused::WrongCredentials);
    }
    open(store, user).await
}

/// Opens a session for a user who proved who they are.
async fn open(store: &dyn Store, user: UserRecord) -> Result<SignedIn, Refused> {
    let now = now_ms();
    let token = tokens::random_hex(32);
    let session = SessionRecord {
        token_hash: key_hash(&token),
        user_id: user.id.clone(),
        csrf_token: tokens::random_hex(32),
        created_at: now,
        last_seen_at: now,
        ended_at: None,
    };
    store.sign_in_succeeded(&session).await.map_err(Error::from)?;
    Ok(SignedIn { token: Secret::new(token), session, user })
}

/// The open session a cookie's token names, and its user, if still valid (else ended).
pub async fn resolve(
    store: &dyn Store,
    rules: SessionRules,
    token: &str,
) -> Result<Option<(SessionRecord, UserRecord)>> {
    let hash = key_hash(token);
    let Some((session, user)) = store.session(&hash).await? else { return Ok(None) };
    let now = now_ms();
    let expired = now - session.last_seen_at > rules.idle_ms || now - session.created_at > rules.max_ms;
    if expired || user.disabled_at.is_some() {
        store.end_session(&hash, now).await?;
        return Ok(None);
    }
    if now - session.last_seen_at > TOUCH_EVERY_MS {
        store.touch_session(&hash, now).await?;
    }
    Ok(Some((session, user)))
}

/// Ends the session a cookie's token names.
pub async fn sign_out(store: &dyn Store, token: &str) -> Result<()> {
    Ok(store.end_session(&key_hash(token), now_ms()).await?)
}
