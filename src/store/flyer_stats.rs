//! Flyer attribution: page views of `/join/{code}` and what became of them (sign-ups, cards
//! added to Apple Wallet, saved to Google Wallet).

use std::collections::BTreeMap;

use anyhow::Result;
use async_trait::async_trait;

/// A flyer's numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlyerStats {
    /// Views of the enrollment page (each GET).
    pub scans: i64,
    /// Visitors of the enrollment page, each counted once per UTC day (by their visitor cookie).
    pub unique_scans: i64,
    /// Members whose source flyer is this one.
    pub signups: i64,
    /// Of those, members whose pass is registered on at least one Apple device.
    pub apple_added: i64,
    /// Of those, members whose pass Google reported saved.
    pub google_added: i64,
    /// Of those, members with a linked sale (not a return) issued in their first
    /// `BUYER_DAYS` days after joining.
    pub buyers: i64,
    /// The totals of those sales, per currency, in minor units.
    pub revenue: BTreeMap<String, i64>,
}

/// How long after joining a flyer's member's purchases count for the flyer.
pub const BUYER_DAYS: i64 = 30;

#[async_trait]
pub trait FlyerStatsStore: Send + Sync {
    /// Counts a view of the flyer's page, and the visitor (a hash of their cookie) once a day.
    async fn count_flyer_scan(&self, code: &str, visitor: &str) -> Result<()>;
    /// The flyer's numbers (all zero for a flyer nobody scanned).
    async fn flyer_stats(&self, code: &str) -> Result<FlyerStats>;
}
