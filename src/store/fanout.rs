//! Campaigns' audience and fan-out: segment counts, the start of a campaign (a row per
//! targeted holder), and the batches that turn those rows into pass changes under the pressure
//! rules (decided by `campaigns::plan` inside the batch's transaction).

use std::collections::BTreeMap;

use anyhow::Result;
use async_trait::async_trait;

use super::CampaignRecord;
pub use crate::campaigns::plan::FanoutPlan;
use crate::campaigns::pressure::Pressure;
use crate::campaigns::segment::Segment;

/// Live counts of the holders a segment picks (marketing consent required).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentCounts {
    /// Members the segment matches, whatever their consent: what consent leaves out.
    pub matching: i64,
    /// Those with marketing consent: the members a campaign may reach.
    pub members: i64,
    /// Members with a live (not voided) pass: the holders a campaign would target.
    pub passes: i64,
    /// Apple devices holding those passes.
    pub apple_devices: i64,
    /// Those passes saved in Google Wallet.
    pub google_objects: i64,
    /// Holders a pressure rule would hold back now (`weekly_cap`, `daily_cap`, `quiet_hours`).
    pub held_back: BTreeMap<String, i64>,
    /// Holders by the language on their member record (those without one are left out).
    pub languages: BTreeMap<String, i64>,
    /// The timezones in quiet hours now, with their holders.
    pub quiet: Vec<QuietZone>,
}

/// Holders in one timezone whose quiet hours hold now.
#[derive(Debug, Clone, PartialEq)]
pub struct QuietZone {
    /// The IANA name (the default timezone's for holders without a home store).
    pub timezone: String,
    /// When the quiet hours end there (unix ms).
    pub until: i64,
    pub holders: i64,
}

/// A loyalty holder for `seed_holders`: a member, their pass (which the store links), and
/// maybe one Apple device.
#[derive(Debug, Clone)]
pub struct HolderSeed {
    pub member: super::MemberRecord,
    pub pass: super::NewPass,
    /// (device library id, push token).
    pub device: Option<(String, String)>,
}

#[async_trait]
pub trait FanoutStore: Send + Sync {
    /// Counts what `segment` picks now (limited to the members of `store` when given).
    async fn segment_counts(
        &self,
        segment: &Segment,
        store: Option<&str>,
        pressure: &Pressure,
    ) -> Result<SegmentCounts>;
    /// Starts one approved campaign that is due: writes a row per targeted holder and moves it
    /// to `sending`, in one transaction (only one process gets it). Returns it and its count.
    async fn start_due_campaign(&self, pressure: &Pressure) -> Result<Option<(CampaignRecord, i64)>>;
    /// Handles up to `batch_size` due holders of sending campaigns, each becoming a pass
    /// change (with its pushes and Google message) or held back, in one transaction.
    /// Returns how many were handled.
    async fn fan_out_batch(&self, plan: &FanoutPlan) -> Result<usize>;
    /// Marks `sent` the sending campaigns with no holder left to handle; returns their ids.
    async fn finish_campaigns(&self) -> Result<Vec<String>>;
    /// Records that a device fetched the pass after a campaign changed it.
    async fn record_pass_fetch(&self, serial: &str) -> Result<()>;
    /// Bulk load of holders in one transaction (benchmarks and load tests; the API makes
    /// members one by one): each at version tag 0, without pushes or Google syncs.
    async fn seed_holders(&self, holders: &[HolderSeed]) -> Result<()>;
}
