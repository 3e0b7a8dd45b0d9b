//! Storage of till receipts (see `crate::receipts`): the receipt, its pass, the member it is
//! linked to, its purchase columns and lines, the keyed hashes of a contact waiting for
//! verification, and the points a receipt earns in the transaction that links it.

use anyhow::Result;
use async_trait::async_trait;
use serde_json::Value;

use super::{MemberPassUpdate, MemberRecord, NewPass, PassRecord, Redeem, RedemptionRecord, StoreResult};
use crate::error::Error;

/// One stored receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptRecord {
    /// `rcp_` and 16 hex digits.
    pub id: String,
    pub receipt_number: String,
    pub store_id: String,
    /// Unix milliseconds.
    pub issued_at: i64,
    /// `sale` or `return`.
    pub kind: String,
    /// Minor units of `currency`; negative for a return.
    pub total: i64,
    /// ISO 4217.
    pub currency: String,
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

/// One line of a receipt, as `receipt_lines` holds it (minor units, negative on a return).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptLine {
    pub sku: Option<String>,
    pub quantity: i64,
    pub amount: i64,
}

/// The member after a change of this many points, decided inside the store's transaction.
pub type PointsChange = Box<dyn Fn(&MemberRecord, i64) -> Result<MemberRecord, Error> + Send + Sync>;

/// The points receipts earn when they are linked to a member, decided inside the linking
/// transaction with the member's row locked: one ledger entry per receipt (idempotency key
/// `receipt:<id>`, so a receipt never earns twice), then one change of the loyalty pass.
pub struct ReceiptPoints {
    /// The points a receipt earns (negative: taken back; 0: no entry).
    pub points: Box<dyn Fn(&ReceiptRecord) -> i64 + Send + Sync>,
    /// The member after a change of this many points (tier included).
    pub apply: PointsChange,
    pub pass: MemberPassUpdate,
}

#[async_trait]
pub trait ReceiptsStore: Send + Sync {
    /// Stores a new receipt with its pass (which `receipt.pass_serial` names) in one transaction;
    /// `Conflict` on `receipt_number` if its idempotency key, or its number in its store, is
    /// taken (nothing is stored; the caller tells which by looking the key up). Its `lines` go in
    /// the same transaction, and so do its `points` when it is linked to a member, and the
    /// redemption of its `offers`: a refused redemption refuses the receipt (nothing is stored).
    /// Returns the redemptions made, in order, each with its changed coupon pass.
    async fn insert_receipt(
        &self,
        receipt: &ReceiptRecord,
        lines: &[ReceiptLine],
        pass: NewPass,
        points: Option<ReceiptPoints>,
        offers: Vec<Redeem>,
    ) -> StoreResult<(ReceiptRecord, PassRecord, Vec<(RedemptionRecord, Option<PassRecord>)>)>;
    async fn receipt(&self, id: &str) -> Result<Option<ReceiptRecord>>;
    async fn receipt_by_idempotency_key(&self, key: &str) -> Result<Option<ReceiptRecord>>;
    /// Every receipt with this number (one per store at most), oldest first.
    async fn receipts_by_number(&self, number: &str) -> Result<Vec<ReceiptRecord>>;
    /// The member's receipts (of one store, if given), newest first (by `issued_at`), at most `limit`.
    async fn member_receipts(&self, member_id: &str, store_id: Option<&str>, limit: i64) -> Result<Vec<ReceiptRecord>>;
    /// Links to `member_id` every unlinked receipt waiting for one of these keys, clearing its
    /// keys, and credits their `points` in the same transaction; returns the receipts it linked.
    async fn link_receipts(
        &self,
        member_id: &str,
        email_hmac: Option<&str>,
        phone_hmac: Option<&str>,
        points: Option<ReceiptPoints>,
    ) -> StoreResult<Vec<ReceiptRecord>>;
    /// Moves every receipt of member `from` to member `to`; returns the receipts it moved.
    async fn move_receipts(&self, from: &str, to: &str) -> Result<Vec<ReceiptRecord>>;
}
