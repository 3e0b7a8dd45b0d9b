//! Offers' storage (see `crate::offers`): offers, their holders' instances with single-use
//! codes, issues, and redemptions at the till. Each redemption reads the instance with its row
//! locked (`lock_rows!`; on SQLite the `BEGIN IMMEDIATE` write lock), then the offer's, so a code
//! is redeemed once however many tills try at once, and the offer's budget is never overrun.

use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;
use serde_json::Value;

use super::{NewPass, PassChange, PassRecord, StoreResult};
use crate::campaigns::segment::Segment;
use crate::error::Error;

/// One stored offer.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferRecord {
    /// `off_` and 16 hex digits.
    pub id: String,
    /// `pending_approval`, `approved` or `rejected`.
    pub status: String,
    /// The store that proposed it (a store's key or manager); `None` for head office's.
    pub store_id: Option<String>,
    /// `{language: text}` each.
    pub title: Value,
    pub description: Value,
    pub terms: Value,
    /// `{"kind", "value", "currency"?}`.
    pub reward: Value,
    /// Unix milliseconds.
    pub valid_from: i64,
    pub valid_until: i64,
    /// The stores where it may be redeemed; `None`: every store.
    pub stores: Option<Vec<String>>,
    pub max_per_holder: i64,
    /// A budget of redemptions across all holders.
    pub max_redemptions: Option<i64>,
    /// Redemptions not reversed.
    pub redeemed: i64,
    /// Instances issued (holdout rows not counted).
    pub issued: i64,
    /// The first issue: the offer cannot change afterwards.
    pub first_issued_at: Option<i64>,
    pub reject_reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OfferRecord {
    /// Whether the offer may be redeemed in `store`.
    pub fn covers(&self, store: &str) -> bool {
        self.stores.as_ref().is_none_or(|s| s.iter().any(|s| s == store))
    }
}

/// One holder's instance of an offer.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferInstanceRecord {
    /// `ofi_` and 16 hex digits.
    pub id: String,
    pub offer_id: String,
    pub member_id: String,
    pub issue_id: String,
    /// The single-use code (`None` for a holdout row).
    pub code: Option<String>,
    /// `live`, `redeemed` or `holdout`.
    pub state: String,
    /// The instance's coupon pass, when the `offer` template is loaded.
    pub pass_serial: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One redemption at a till (`reversed_at` set once a cancelled sale undid it).
#[derive(Debug, Clone, PartialEq)]
pub struct RedemptionRecord {
    /// `red_` and 16 hex digits.
    pub id: String,
    pub instance_id: String,
    pub offer_id: String,
    pub member_id: String,
    pub store_id: String,
    pub receipt_id: Option<String>,
    pub receipt_number: Option<String>,
    pub redeemed_at: i64,
    pub reversed_at: Option<i64>,
}

/// An issue of an offer (its counts are added to as its batches are written).
#[derive(Debug, Clone, PartialEq)]
pub struct IssueRecord {
    /// `iss_` and 16 hex digits.
    pub id: String,
    pub offer_id: String,
    pub segment: Option<String>,
    pub holdout_percent: i64,
    pub created_by: String,
    pub created_at: i64,
}

/// What one batch of an issue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IssueCounts {
    pub issued: i64,
    pub holdout: i64,
    /// Holders who already hold `max_per_holder` instances.
    pub skipped: i64,
}

/// An instance to issue, with its coupon pass (`None` for a holdout row, or without template).
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub instance: OfferInstanceRecord,
    pub pass: Option<NewPass>,
}

/// The new state of an offer, decided from the current one with its row locked.
pub type OfferUpdate = Box<dyn FnOnce(&OfferRecord) -> Result<OfferRecord, Error> + Send>;

/// Decides whether an issue may go on, from the offer as locked (e.g. approved, not expired).
pub type IssueCheck = Box<dyn FnOnce(&OfferRecord) -> Result<(), Error> + Send>;

/// Which instance a till redeems: by its code, or by the holder's card and the offer.
#[derive(Debug, Clone, PartialEq)]
pub enum RedeemTarget {
    Code(String),
    Card { card_number: String, offer_id: String },
}

/// What a redemption's check sees, as locked: the offer, the instance (live, or the holder's
/// latest used one) and the redemption that used it, if it was used.
pub struct RedeemState<'a> {
    pub offer: &'a OfferRecord,
    pub instance: &'a OfferInstanceRecord,
    pub last: Option<&'a RedemptionRecord>,
}

/// Decides a redemption (`None`: no instance matches the target); an error refuses it.
pub type RedeemCheck = Box<dyn for<'a> FnOnce(Option<RedeemState<'a>>) -> Result<(), Error> + Send>;

/// The change of an instance's coupon pass when it is redeemed or the redemption reversed.
pub type CouponChange = Arc<
    dyn Fn(&OfferInstanceRecord, &RedemptionRecord, &PassRecord) -> Result<Option<PassChange>, Error> + Send + Sync,
>;

/// One redemption to write.
pub struct Redeem {
    pub target: RedeemTarget,
    /// The redemption's id, store and receipt, as stored.
    pub id: String,
    pub store_id: String,
    pub receipt_id: Option<String>,
    pub receipt_number: Option<String>,
    pub now: i64,
    pub check: RedeemCheck,
    pub pass: Option<CouponChange>,
}

/// Decides whether a redemption may be reversed, from it as locked.
pub type ReverseCheck = Box<dyn FnOnce(&RedemptionRecord) -> Result<(), Error> + Send>;

/// Filters and page of `list_offers`, newest first.
#[derive(Debug, Clone, Default)]
pub struct OfferQuery {
    pub status: Option<String>,
    /// Only offers this store may see: its own, and those redeemable there.
    pub visible_to_store: Option<String>,
    /// Only ids before this one (the cursor).
    pub before: Option<String>,
    pub limit: i64,
}

#[async_trait]
pub trait OffersStore: Send + Sync {
    async fn insert_offer(&self, offer: &OfferRecord) -> Result<()>;
    async fn offer(&self, id: &str) -> Result<Option<OfferRecord>>;
    async fn list_offers(&self, query: &OfferQuery) -> Result<Vec<OfferRecord>>;
    /// Replaces the offer by what `update` makes of it, with its row locked; `None` if there is
    /// no such offer.
    async fn update_offer(&self, id: &str, update: OfferUpdate) -> StoreResult<Option<OfferRecord>>;
    /// The members `segment` picks (limited to `store`'s when given) who hold a live loyalty
    /// pass and accept marketing, as campaigns target them; by id.
    async fn segment_members(&self, segment: &Segment, store: Option<&str>) -> Result<Vec<String>>;
    /// Writes one batch of an issue in one transaction, with the offer's row locked: `check`
    /// first, then each instance (and its pass) unless its holder already holds
    /// `max_per_holder` live or redeemed instances; adds the counts to the issue's row (made
    /// by the first batch). `None` if there is no such offer.
    async fn issue_offer(
        &self,
        issue: &IssueRecord,
        instances: Vec<NewInstance>,
        check: IssueCheck,
    ) -> StoreResult<Option<IssueCounts>>;
    /// The instance whose coupon pass this is.
    async fn offer_instance_by_pass(&self, serial: &str) -> Result<Option<OfferInstanceRecord>>;
    /// A member's instances (of one state, if given) with their offers, newest first.
    async fn member_offers(
        &self,
        member_id: &str,
        state: Option<&str>,
    ) -> Result<Vec<(OfferInstanceRecord, OfferRecord)>>;
    /// Redeems one instance in its own transaction; returns the redemption and the coupon pass
    /// changed.
    async fn redeem_offer(&self, redeem: Redeem) -> StoreResult<(RedemptionRecord, Option<PassRecord>)>;
    async fn redemption(&self, id: &str) -> Result<Option<RedemptionRecord>>;
    /// Reverses a redemption (the instance live again, the budget given back) if `check`
    /// agrees; `None` if there is no such redemption.
    async fn reverse_redemption(
        &self,
        id: &str,
        now: i64,
        check: ReverseCheck,
        pass: Option<CouponChange>,
    ) -> StoreResult<Option<(RedemptionRecord, Option<PassRecord>)>>;
    /// The redemptions made with a receipt, in order.
    async fn receipt_redemptions(&self, receipt_id: &str) -> Result<Vec<RedemptionRecord>>;
}
