//! Storage of till receipts (see `crate::receipts`): the receipt, its pass, the member it is
//! linked to, and the keyed hashes of a contact waiting for verification.

use anyhow::Result;
use async_trait::async_trait;
use serde_json::Value;

use super::{NewPass, PassRecord, Redeem, RedemptionRecord, StoreResult};

/// One stored receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptRecord {
    /// `rcp_` and 16 hex digits.
    pub id: String,
    pub receipt_number: String,
    pub store_id: String,
    /// Unix milliseconds.
    pub issued_at: i64,
    /// Lines, totals and payment as validated (amounts in minor units), plus `issued_at` as given.
    pub body: Value,
    pub member_id: Option<String>,
    pub idempotency_key: Option<String>,
    /// Hex HMAC-SHA256 of the normalised e-mail, while the receipt waits for a verified member.
    pub email_hmac: Option<String>,
    /// Hex HMAC-SHA256 of the E.164 phone, likewise.
    pub phone_hmac: Option<String>,
    pub pass_serial: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[async_trait]
pub trait ReceiptsStore: Send + Sync {
    /// Stores a new receipt with its pass (which `receipt.pass_serial` names) in one transaction;
    /// `Conflict` on `receipt_number` if its idempotency key, or its number in its store, is
    /// taken (nothing is stored; the caller tells which by looking the key up).
    async fn insert_receipt(&self, receipt: &ReceiptRecord, pass: NewPass) -> StoreResult<(ReceiptRecord, PassRecord)>;
    /// `insert_receipt` that also redeems offers in the receipt's transaction: a refused
    /// redemption refuses the receipt (nothing is stored). Returns the redemptions made, in
    /// order, each with its changed coupon pass.
    async fn insert_receipt_redeeming(
        &self,
        receipt: &ReceiptRecord,
        pass: NewPass,
        offers: Vec<Redeem>,
    ) -> StoreResult<(ReceiptRecord, PassRecord, Vec<(RedemptionRecord, Option<PassRecord>)>)>;
    async fn receipt(&self, id: &str) -> Result<Option<ReceiptRecord>>;
    async fn receipt_by_idempotency_key(&self, key: &str) -> Result<Option<ReceiptRecord>>;
    /// Every receipt with this number (one per store at most), oldest first.
    async fn receipts_by_number(&self, number: &str) -> Result<Vec<ReceiptRecord>>;
    /// The member's receipts (of one store, if given), newest first (by `issued_at`), at most `limit`.
    async fn member_receipts(&self, member_id: &str, store_id: Option<&str>, limit: i64) -> Result<Vec<ReceiptRecord>>;
    /// Links to `member_id` every unlinked receipt waiting for one of these keys, clearing its
    /// keys; returns the receipts it linked.
    async fn link_receipts(
        &self,
        member_id: &str,
        email_hmac: Option<&str>,
        phone_hmac: Option<&str>,
    ) -> Result<Vec<ReceiptRecord>>;
    /// Moves every receipt of member `from` to member `to`; returns the receipts it moved.
    async fn move_receipts(&self, from: &str, to: &str) -> Result<Vec<ReceiptRecord>>;
}
