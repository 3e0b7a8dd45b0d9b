//! Loyalty members' storage: the member rows and their points ledger. A member change and the
//! change of their loyalty pass (new version tag, push jobs, Google sync) commit in one
//! transaction, with the member's row locked, so concurrent changes never lose one another
//! and the pass always shows the member's latest state.

use anyhow::Result;
use async_trait::async_trait;
use serde_json::Value;

use super::{MemberTokenRecord, NewPass, PassChange, PassRecord, StoreResult};
use crate::error::Error;

/// One stored member. `tier` is the tier in force: `tier_manual` when set, else the rules' tier.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberRecord {
    pub id: String,
    pub card_number: String,
    pub first_name: String,
    pub last_name: Option<String>,
    /// Normalised: trimmed, lowercase.
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    pub language: Option<String>,
    pub home_store_id: Option<String>,
    pub consent_terms: bool,
    pub consent_marketing: bool,
    /// Which wording the member agreed to.
    pub consent_version: Option<String>,
    /// Unix milliseconds of the last consent change.
    pub consent_at: Option<i64>,
    pub points: i64,
    pub tier: String,
    pub tier_manual: Option<String>,
    /// Free attributes for segments (a JSON object).
    pub attributes: Value,
    pub source_flyer: Option<String>,
    pub source_store: Option<String>,
    pub source_channel: Option<String>,
    /// The member's loyalty pass.
    pub pass_serial: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Exact lookups (values already normalised); every given value must match.
#[derive(Debug, Clone, Default)]
pub struct MemberLookup {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub card_number: Option<String>,
}

/// A points change as the till sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct PointsEntry {
    pub delta: i64,
    pub reason: Option<String>,
    pub store_id: Option<String>,
    /// A key already used for this member returns the earlier result and changes nothing.
    pub idempotency_key: Option<String>,
}

/// One row of the points ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRecord {
    pub id: i64,
    pub member_id: String,
    pub delta: i64,
    pub reason: Option<String>,
    pub store_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub balance_after: i64,
    pub tier_after: String,
    pub created_at: i64,
}

/// The result of `add_points`.
#[derive(Debug, Clone, PartialEq)]
pub struct PointsOutcome {
    pub entry: LedgerRecord,
    /// True when the idempotency key had been used: nothing changed.
    pub replayed: bool,
    /// The member's loyalty pass after the change, when it changed.
    pub pass: Option<PassRecord>,
}

/// The new state of a member, decided from the current one inside the store's transaction
/// (the store writes every field but `id`, `card_number`, `pass_serial` and `created_at`).
pub type MemberUpdate = Box<dyn FnOnce(&MemberRecord) -> Result<MemberRecord, Error> + Send>;

/// The change of the member's loyalty pass after a member change, decided inside the same
/// transaction; `None` leaves the pass as it is.
pub type MemberPassUpdate = Box<dyn FnOnce(&MemberRecord, &PassRecord) -> Result<Option<PassChange>, Error> + Send>;

/// What `search_members` looks for (values normalised by the caller).
#[derive(Debug, Clone, Default)]
pub struct MemberSearch {
    pub card_number: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Lowercase text the first and last name contain.
    pub name: Option<String>,
    pub home_store_id: Option<String>,
    pub limit: i64,
}

#[async_trait]
pub trait MembersStore: Send + Sync {
    /// Stores a new member with their loyalty pass (which `member.pass_serial` names, queued for
    /// Google as `insert_pass` does) and their tokens, in one transaction: all or nothing. A taken
    /// e-mail, phone or card number is a `Conflict` on that field naming the member who has it.
    async fn insert_member(
        &self,
        member: &MemberRecord,
        pass: NewPass,
        tokens: &[MemberTokenRecord],
    ) -> StoreResult<(MemberRecord, PassRecord)>;
    async fn member(&self, id: &str) -> Result<Option<MemberRecord>>;
    /// The members matching every value given, oldest first (at most one: the values are unique).
    async fn find_members(&self, lookup: &MemberLookup) -> Result<Vec<MemberRecord>>;
    /// Applies `update` to the member and `pass` to their loyalty pass in one transaction;
    /// `None` if there is no such member. Contact conflicts as for `insert_member`.
    async fn update_member(
        &self,
        id: &str,
        update: MemberUpdate,
        pass: MemberPassUpdate,
    ) -> StoreResult<Option<(MemberRecord, Option<PassRecord>)>>;
    /// Records a points change atomically: a used idempotency key returns the earlier entry
    /// (`replayed`, whatever its delta); else `apply` gives the member's new points and tier
    /// (refusing what it must), the ledger row and the member row are written, and `pass`
    /// changes the loyalty pass, all in one transaction. `None` if there is no such member.
    async fn add_points(
        &self,
        member_id: &str,
        entry: &PointsEntry,
        apply: MemberUpdate,
        pass: MemberPassUpdate,
    ) -> StoreResult<Option<PointsOutcome>>;
    /// Members newest first: those whose card number, e-mail or phone is one given, or whose
    /// name contains `search.name`; every member when nothing is given; one home store's if asked.
    async fn search_members(&self, search: &MemberSearch) -> Result<Vec<MemberRecord>>;
    /// The member's ledger, newest first, entries with an id below `before_id` (all without it).
    async fn points_history(&self, member_id: &str, before_id: Option<i64>, limit: i64) -> Result<Vec<LedgerRecord>>;
}
