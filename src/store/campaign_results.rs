//! What a campaign's holders did: the recipients by group, and the purchase figures of each
//! group in the conversion window (the arithmetic of lift is `campaigns::results`').

use std::collections::BTreeMap;

use anyhow::Result;
use async_trait::async_trait;

/// The two groups of a campaign's audience, fixed at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Every targeted holder not held out, reached or not (intent to treat).
    Treated,
    /// The holders deliberately not notified.
    Holdout,
}

impl Group {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "treated" => Some(Group::Treated),
            "holdout" => Some(Group::Holdout),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Treated => "treated",
            Group::Holdout => "holdout",
        }
    }
}

/// One holder of a campaign, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub member_id: String,
    /// `None` when the member has since been erased.
    pub card_number: Option<String>,
    pub group: Group,
    /// `pending`, `sent`, `held`, `failed`, … (`holdout` for the holdout group).
    pub state: String,
    pub held_rule: Option<String>,
    pub sent_at: Option<i64>,
    pub fetched_at: Option<i64>,
}

/// The purchase figures of one group (of one home store, when asked by store).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFigures {
    pub holders: i64,
    /// Holders with at least one linked purchase receipt (not a return) in the window.
    pub buyers: i64,
    /// Totals of those receipts, per currency, in minor units.
    pub revenue: BTreeMap<String, i64>,
    /// Redemptions of any offer by the group's holders made in the window, not reversed.
    pub offers_redeemed: i64,
}

/// The figures of both groups, keyed by (home store or `None`, group).
pub type Figures = BTreeMap<(Option<String>, Group), GroupFigures>;

#[async_trait]
pub trait CampaignResultsStore: Send + Sync {
    /// The campaign's holders of one group (or both), by member id after `after`.
    async fn campaign_recipients(
        &self,
        campaign_id: &str,
        group: Option<Group>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Recipient>>;

    /// Each group's figures for purchases with `issued_at` in `[from, to)`; per home store
    /// when `by_store` (holders without one under `None`), else all under `None`.
    async fn conversion_figures(&self, campaign_id: &str, from: i64, to: i64, by_store: bool) -> Result<Figures>;

    /// Bulk load of linked receipts in one transaction (benchmarks; tills post them one by
    /// one): rows only, without lines, passes or points.
    async fn seed_receipts(&self, receipts: &[crate::store::ReceiptRecord]) -> Result<()>;
}
