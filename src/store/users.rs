//! Storage of console users and their sessions (tables `users`, `user_sessions`).

use anyhow::Result;
use async_trait::async_trait;

use super::StoreResult;

/// One console user, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: String,
    /// Trimmed and lowercased.
    pub email: String,
    /// An Argon2id PHC string.
    pub password_hash: String,
    /// `hq_admin`, `hq_marketer` or `store_manager`.
    pub role: String,
    pub store_id: Option<String>,
    pub language: Option<String>,
    /// Failed sign-ins since the last successful one.
    pub failed_sign_ins: i64,
    /// Sign-ins are refused until then (unix ms).
    pub locked_until: Option<i64>,
    pub disabled_at: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Base-32 TOTP secret: being set up while `totp_enabled_at` is empty.
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<i64>,
    /// The last TOTP time step accepted (a code is accepted once).
    pub totp_last_step: Option<i64>,
}

/// What `insert_user` stores (already validated).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub store_id: Option<String>,
    pub language: Option<String>,
}

/// One session, as stored (the cookie's token is kept only as its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ended_at: Option<i64>,
}

#[async_trait]
pub trait UsersStore {
    /// `Conflict` on `email` if a user has it.
    async fn insert_user(&self, user: NewUser) -> StoreResult<UserRecord>;
    async fn user(&self, id: &str) -> Result<Option<UserRecord>>;
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
    async fn list_users(&self) -> Result<Vec<UserRecord>>;
    /// Disables the user and ends their open sessions, in one transaction; `None` if no such user.
    async fn disable_user(&self, email: &str) -> Result<Option<UserRecord>>;
    /// Counts a failed sign-in; from the `max`-th in a row, locks sign-ins until `lock_until`.
    async fn sign_in_failed(&self, id: &str, max: i64, lock_until: i64) -> Result<()>;
    /// Records a successful sign-in (failures forgotten) and opens the session.
    async fn sign_in_succeeded(&self, session: &SessionRecord) -> Result<()>;
    /// The open session with this token hash, and its user.
    async fn session(&self, token_hash: &str) -> Result<Option<(SessionRecord, UserRecord)>>;
    /// Records activity on a session (at most once a minute is enough for idle expiry).
    async fn touch_session(&self, token_hash: &str, at: i64) -> Result<()>;
    async fn end_session(&self, token_hash: &str, at: i64) -> Result<()>;
    /// Stores a password-reset link (its token's hash), valid until `expires_at`.
    async fn insert_password_reset(&self, token_hash: &str, user_id: &str, expires_at: i64) -> Result<()>;
    /// The user a reset link is for, if it is unused and unexpired at `now`.
    async fn password_reset_user(&self, token_hash: &str, now: i64) -> Result<Option<String>>;
    /// Uses a reset link once: sets the password, ends every session of the user and forgets
    /// failed sign-ins, in one transaction. `None` when the link is used, expired or unknown.
    async fn reset_password(&self, token_hash: &str, password_hash: &str, now: i64) -> Result<Option<String>>;
    /// Starts (a secret, not enabled), enables (with the recovery codes' hashes, replacing any) or
    /// turns off (`None`) two-factor sign-in.
    async fn set_totp(
        &self,
        user_id: &str,
        secret: Option<&str>,
        enabled_at: Option<i64>,
        codes: &[String],
    ) -> Result<()>;
    /// Accepts TOTP step `step` once: false if a step at or after it was accepted already.
    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool>;
    /// Uses a recovery code once: false if it is unknown or used.
    async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: i64) -> Result<bool>;
    /// Recovery codes not used yet.
    async fn recovery_codes_left(&self, user_id: &str) -> Result<i64>;
}
