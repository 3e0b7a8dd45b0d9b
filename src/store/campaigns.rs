//! Campaigns' storage: the campaigns, their audit log, delivery counters and statistics (the
//! audience and the fan-out are in `fanout.rs`).

use std::collections::BTreeMap;

use anyhow::Result;
use async_trait::async_trait;
use serde_json::Value;

use super::StoreResult;

/// One stored campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRecord {
    pub id: String,
    pub name: String,
    /// The segment as written.
    pub segment: String,
    /// `hq` or `store:<id>`.
    pub scope: String,
    /// Language -> text.
    pub messages: BTreeMap<String, String>,
    /// `normal`, or `high` (may pass the weekly cap, never quiet hours).
    pub priority: String,
    pub status: String,
    pub send_at: Option<i64>,
    pub reject_reason: Option<String>,
    /// The loyalty template whose Google class carries the message (one class message
    /// instead of one per object), when the campaign targets every Google holder of it.
    pub google_class: Option<String>,
    /// When that class message was accepted by Google.
    pub google_class_sent_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The loyalty card a test send goes to (a console user's own card).
    pub test_card_number: Option<String>,
    /// The share of the audience held out (0 to 50), drawn at the start.
    pub holdout_percent: i64,
    /// How long after the start a purchase counts for the campaign, in days.
    pub conversion_days: i64,
    /// The offer every treated holder gets an instance of at the start.
    pub offer_id: Option<String>,
    /// When every treated holder had been given the offer (the fan-out waits for it).
    pub offer_issued_at: Option<i64>,
}

/// What `insert_campaign` stores (and `save_draft` writes over a draft).
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub id: String,
    pub name: String,
    pub segment: String,
    pub scope: String,
    pub messages: BTreeMap<String, String>,
    pub priority: String,
    pub status: String,
    pub send_at: Option<i64>,
    pub created_by: String,
    pub test_card_number: Option<String>,
    pub holdout_percent: i64,
    pub conversion_days: i64,
    pub offer_id: Option<String>,
}

/// A status change asked of `transition_campaign`.
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    pub from: &'a [&'a str],
    pub to: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub detail: Value,
    pub reject_reason: Option<&'a str>,
}

/// Delivery figures of one campaign.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignStats {
    /// Every holder drawn at the start, the holdout group included.
    pub targeted: i64,
    /// The holders held out on purpose (no change, no push, no Google message).
    pub holdout: i64,
    /// Holders not yet handled (including those waiting for quiet hours to end).
    pub pending: i64,
    pub sent: i64,
    /// Final holds by rule, plus `quiet_hours` for holders still waiting.
    pub held_back: BTreeMap<String, i64>,
    /// Sent passes fetched by a device afterwards.
    pub fetched: i64,
    /// `apple.accepted`, `apple.rejected.<reason>`, `google.accepted`, `google.failed`.
    pub counters: BTreeMap<String, i64>,
    /// Google work for this campaign still queued: the syncs carrying its message or made by
    /// its pass changes, and those of the offer objects it issued.
    pub google_pending: i64,
}

#[async_trait]
pub trait CampaignsStore: Send + Sync {
    /// Stores a campaign with its first history lines (`created`, and `approved` when it starts approved).
    async fn insert_campaign(&self, campaign: NewCampaign, actor: &str) -> Result<CampaignRecord>;
    async fn campaign(&self, id: &str) -> Result<Option<CampaignRecord>>;
    /// Campaigns newest first (optionally one scope's, one status's), after the cursor id.
    async fn list_campaigns(
        &self,
        scope: Option<&str>,
        status: Option<&str>,
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CampaignRecord>>;
    /// Writes `campaign`'s fields and status over a draft and records `action`, the row locked;
    /// `Conflict` on `status` (the current one) when it is no longer a draft; `None` when there
    /// is no such campaign.
    async fn save_draft(
        &self,
        campaign: &NewCampaign,
        actor: &str,
        action: &str,
        detail: Value,
    ) -> StoreResult<Option<CampaignRecord>>;
    /// Moves a campaign between statuses and records it; `Conflict` on `status` (the current
    /// one) when it is not one of `from`; `None` when there is no such campaign.
    async fn transition_campaign(&self, id: &str, t: Transition<'_>) -> StoreResult<Option<CampaignRecord>>;
    async fn campaign_stats(&self, id: &str) -> Result<CampaignStats>;
    /// Approved campaigns whose Google class message is still to send.
    async fn class_messages_due(&self) -> Result<Vec<CampaignRecord>>;
    /// Records the class message as accepted: counted for every Google holder targeted.
    async fn mark_class_message_sent(&self, id: &str) -> Result<()>;
    /// Sending campaigns whose offer is still to be given to their treated holders.
    async fn campaigns_awaiting_offer(&self) -> Result<Vec<CampaignRecord>>;
    /// Records (once) that every treated holder was given the campaign's offer, with `detail`
    /// in its history: its fan-out may go on.
    async fn mark_offer_issued(&self, id: &str, detail: Value) -> Result<()>;
}

/// A counter increment: (campaign id, counter name, amount).
pub type CounterDelta = (String, String, i64);

/// The rows of `SELECT state, held_rule, count, fetched` grouped by state and rule, and the
/// counters, as one campaign's figures.
pub(super) fn stats_from(
    groups: Vec<(String, Option<String>, i64, i64)>,
    counters: Vec<(String, i64)>,
    google_pending: i64,
) -> CampaignStats {
    let mut stats = CampaignStats { google_pending, ..CampaignStats::default() };
    for (state, rule, count, fetched) in groups {
        stats.targeted += count;
        stats.fetched += fetched;
        match state.as_str() {
            "sent" => stats.sent += count,
            "holdout" => stats.holdout += count,
            "pending" => {
                stats.pending += count;
                if let Some(rule) = rule {
                    *stats.held_back.entry(rule).or_default() += count;
                }
            }
            _ => *stats.held_back.entry(rule.unwrap_or(state)).or_default() += count,
        }
    }
    stats.counters = counters.into_iter().collect();
    stats
}

/// The first history lines of a new campaign: `created` (what was asked), and `approved` when
/// an HQ role made it.
pub(super) fn creation_events(c: &NewCampaign) -> Vec<(&'static str, Value)> {
    let mut created = campaign_detail(c);
    if c.status == "draft" {
        created["draft"] = Value::Bool(true);
    }
    let mut events = vec![("created", created)];
    if c.status == "approved" {
        events.push(("approved", serde_json::json!({"automatic": "created by head office"})));
    }
    events
}

/// What a campaign says, as its history records it (on creation and on each change of a draft).
pub fn campaign_detail(c: &NewCampaign) -> Value {
    serde_json::json!({"name": c.name, "segment": c.segment, "scope": c.scope,
        "priority": c.priority, "send_at": c.send_at, "messages": c.messages,
        "holdout_percent": c.holdout_percent, "conversion_days": c.conversion_days, "offer_id": c.offer_id})
}
