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
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::WithdrawConsent => "withdraw_consent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verify_email" => Some(Self::VerifyEmail),
            "withdraw_consent" => Some(Self::WithdrawConsent),
            _ => None,
        }
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
}
