//! Figures for the console: counts of members and their cards, for everyone or one store, and
//! the same per day and per flyer for the overview's charts; the store report's figures.

use std::collections::BTreeMap;

use anyhow::Result;
use async_trait::async_trait;

use super::campaign_results::GroupFigures;

/// The overview's figures (one store's when asked: members whose home store it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverviewCounts {
    pub members: i64,
    /// Members created since the time asked.
    pub new_members: i64,
    /// Members whose loyalty pass at least one iPhone registered.
    pub apple_cards: i64,
    /// Members whose loyalty pass is saved to Google Wallet.
    pub google_cards: i64,
    /// Campaigns waiting for head office's approval (the store's own, for one store).
    pub pending_approvals: i64,
}

/// An iPhone holding a pass: when it registered (its ids are not shown: they are secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassDevice {
    pub registered_at: i64,
}

/// One day of the overview's charts (totals at the day's end, sign-ups during it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyFigures {
    /// When the day began (unix milliseconds).
    pub day_start: i64,
    /// Members who had joined by the day's end.
    pub members: i64,
    /// Members who joined that day.
    pub signups: i64,
    /// Members whose loyalty pass an iPhone (still registered) had first registered by the day's end.
    pub apple_cards: i64,
    /// Members whose loyalty pass is saved to Google Wallet, saved by the day's end.
    pub google_cards: i64,
}

/// A flyer and the members who signed up through it over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlyerSignups {
    pub code: String,
    pub label: Option<String>,
    pub store_id: String,
    pub signups: i64,
}

/// One store's row of the store report, over a period `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreFigures {
    pub store_id: String,
    pub name: String,
    /// Members created in the period with this home store.
    pub signups: i64,
    /// Members of this home store whose loyalty pass is not voided, now.
    pub holders: i64,
    /// The store's own campaigns started in the period.
    pub local_campaigns: i64,
    /// Head office's campaigns started in the period that targeted a member of this home store.
    pub hq_campaigns: i64,
    /// The local campaigns' groups pooled (holders and buyers summed, each campaign counted in
    /// its own conversion window).
    pub treated: GroupFigures,
    pub holdout: GroupFigures,
    /// Redemptions at this store in the period, not reversed.
    pub offers_redeemed: i64,
    /// Linked members' sales minus returns at this store in the period, per currency (minor units).
    pub revenue: BTreeMap<String, i64>,
}

#[async_trait]
pub trait ReportsStore {
    /// The store report's rows, by store id: every store's, or one store's; `[from, to)` in
    /// unix milliseconds.
    async fn store_figures(&self, store_id: Option<&str>, from: i64, to: i64) -> Result<Vec<StoreFigures>>;
    async fn overview_counts(&self, store_id: Option<&str>, since_ms: i64) -> Result<OverviewCounts>;
    /// The figures of each day `[start, end)` given (unix milliseconds), in that order; for one
    /// store, its home members only.
    async fn daily_figures(&self, store_id: Option<&str>, days: &[(i64, i64)]) -> Result<Vec<DailyFigures>>;
    /// The `limit` flyers with the most sign-ups since `since_ms`, most first (one store's: members
    /// whose home store it is).
    async fn flyer_signups(&self, store_id: Option<&str>, since_ms: i64, limit: i64) -> Result<Vec<FlyerSignups>>;
    /// Campaigns waiting for head office's approval.
    async fn pending_approvals(&self) -> Result<i64>;
    /// The iPhones registered for a pass, newest first.
    async fn pass_devices(&self, serial: &str) -> Result<Vec<PassDevice>>;
}
