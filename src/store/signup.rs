//! What the public sign-up keeps: used form tokens, and provisional cards (a card given to a
//! visitor whose contact is already on file, until its owner merges or it expires).

use anyhow::Result;
use async_trait::async_trait;

/// One provisional card: `member_id` is the contactless member record holding the card (and
/// its points), `owner_member_id` the member on file it was made for (never shown to the visitor).
#[derive(Debug, Clone, PartialEq)]
pub struct ProvisionalCard {
    pub member_id: String,
    pub owner_member_id: String,
    /// Hex SHA-256 of the merge link's token.
    pub merge_token_hash: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub mailed_at: Option<i64>,
    pub merged_at: Option<i64>,
    pub voided_at: Option<i64>,
}

#[async_trait]
pub trait SignupStore: Send + Sync {
    /// Records the use of a form token: true the first time, false if it was used already.
    /// Ids past their expiry are forgotten on the way.
    async fn use_form_token(&self, id: &str, expires_at: i64, now: i64) -> Result<bool>;

    async fn insert_provisional_card(&self, card: &ProvisionalCard) -> Result<()>;
    async fn provisional_card_by_token(&self, merge_token_hash: &str) -> Result<Option<ProvisionalCard>>;
    /// Marks this card mailed unless a card of the same owner was mailed since `since`: true if
    /// the owner is to be mailed now (one mail per owner and period, whatever the concurrency).
    async fn claim_provisional_mail(&self, member_id: &str, since: i64, now: i64) -> Result<bool>;
    /// Marks an open card merged: true if this call did (it was neither merged nor voided).
    async fn claim_provisional_merge(&self, member_id: &str, now: i64) -> Result<bool>;
    /// Marks the open cards created before `before` voided and returns their member ids.
    async fn void_provisional_cards(&self, before: i64, now: i64) -> Result<Vec<String>>;
}
