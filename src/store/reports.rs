//! Figures for the console: counts of members and their cards, for everyone or one store.

use anyhow::Result;
use async_trait::async_trait;

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

#[async_trait]
pub trait ReportsStore {
    async fn overview_counts(&self, store_id: Option<&str>, since_ms: i64) -> Result<OverviewCounts>;
    /// Campaigns waiting for head office's approval.
    async fn pending_approvals(&self) -> Result<i64>;
    /// The iPhones registered for a pass, newest first.
    async fn pass_devices(&self, serial: &str) -> Result<Vec<PassDevice>>;
}
