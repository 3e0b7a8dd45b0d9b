//! One-time links sent to members: e-mail verification and marketing consent withdrawal.
//! Only the SHA-256 of a token is stored, so a copy of the database opens no link.

use anyhow::Result;
use async_trait::async_trait;

/// What a member token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Marks the e-mail address it was sent to as verified; works once.
    VerifyEmail,
    /// Withdraws marketing consent; works any number of times (it sits on the pass).
    WithdrawConsent,
    /// Opens the member's "My receipts" page; no expiry, revoked by marking it used.
    Me,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::WithdrawConsent => "withdraw_consent",
            Self::Me => "me",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::VerifyEmail, Self::WithdrawConsent, Self::Me].into_iter().find(|p| p.as_str() == s)
    }
}

/// One stored token.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberTokenRecord {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub member_id: String,
    pub purpose: TokenPurpose,
    /// The address a verification link was sent to.
    pub email: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When it was first used.
    pub used_at: Option<i64>,
}

#[async_trait]
pub trait TokensStore: Send + Sync {
    async fn insert_member_token(&self, token: &MemberTokenRecord) -> Result<()>;
    async fn member_token(&self, token_hash: &str) -> Result<Option<MemberTokenRecord>>;
    /// Records the first use of a token: true if this call did, false if it was used already
    /// (or does not exist). Two concurrent calls never both get true.
    async fn use_member_token(&self, token_hash: &str, now: i64) -> Result<bool>;
    /// Marks every unused token of this member and purpose used (revoked); returns how many.
    async fn revoke_member_tokens(&self, member_id: &str, purpose: TokenPurpose, now: i64) -> Result<u64>;
}
