//! A campaign's offer: checked when the campaign is made or changed (the offer exists, is
//! approved, still valid at the send time, and covers a store campaign's store), then issued at
//! the start to every treated holder (never the holdout group) through the one issuing path,
//! `offers::issue_to`, under the campaign's id as the issue: an instance per holder and issue,
//! so a start retried after a crash gives no one a second instance. The fan-out waits until the
//! campaign is marked issued, so the push that carries the message also brings the offer.

use serde_json::json;

use super::audience::Audience;
use super::service::Campaigns;
use crate::error::{Error, Result};
use crate::offers::{Offers, issue_to};
use crate::store::campaign_results::Group;
use crate::store::{CampaignRecord, IssueCounts, NewCampaign, Store, Transition, now_ms};
use crate::templates::datetime::rfc3339;

/// Treated holders read and issued per round (the issue writes them in its own batches).
const PAGE: i64 = 500;

impl Campaigns {
    /// Checks the campaign's `offer_id`, if any; a 422 naming `offer_id` says what is wrong.
    pub(super) async fn check_offer(&self, campaign: &NewCampaign) -> Result<()> {
        let Some(id) = &campaign.offer_id else { return Ok(()) };
        let refuse = |message: String| Err(Error::unprocessable(message, "offer_id"));
        let Some(offer) = self.store.offer(id).await?.filter(|_| !id.is_empty()) else {
            return refuse(format!("no offer {id:?}"));
        };
        if offer.status != "approved" {
            return refuse(format!("offer {id} is {}: a campaign carries an approved offer only", offer.status));
        }
        let sent_at = campaign.send_at.unwrap_or_else(now_ms).max(now_ms());
        if sent_at >= offer.valid_until {
            return refuse(format!(
                "offer {id} ends on {}, before the campaign goes out: its holders could not use it",
                rfc3339(offer.valid_until)
            ));
        }
        if let Some(store) = Audience::parse(&campaign.scope).and_then(|a| a.store_id().map(str::to_owned))
            && !offer.covers(&store)
        {
            return refuse(format!("offer {id} cannot be used in store {store:?}, which this campaign reaches"));
        }
        Ok(())
    }
}

/// Gives the offer of every sending campaign still waiting for it to its treated holders, then
/// marks it issued (its fan-out goes on). A campaign whose offer can no longer be issued (it
/// expired or was withdrawn since) fails rather than promise what its holders would not get.
pub async fn issue_due(store: &dyn Store, offers: &Offers) -> anyhow::Result<()> {
    for campaign in store.campaigns_awaiting_offer().await? {
        match issue_campaign(store, offers, &campaign).await {
            Ok(counts) => {
                let detail = json!({"offer_id": campaign.offer_id, "issued": counts.issued, "skipped": counts.skipped});
                store.mark_offer_issued(&campaign.id, detail).await?;
                tracing::info!(campaign = %campaign.id, issued = counts.issued, skipped = counts.skipped,
                    "campaign offer issued");
            }
            Err(Error::Unprocessable { message, .. } | Error::Conflict { message, .. } | Error::NotFound(message)) => {
                tracing::error!(campaign = %campaign.id, "the campaign's offer cannot be issued: {message}");
                let failed = Transition {
                    from: &["sending"],
                    to: "failed",
                    actor: "scheduler",
                    action: "failed",
                    detail: json!({"error": message, "field": "offer_id"}),
                    reject_reason: None,
                };
                store.transition_campaign(&campaign.id, failed).await?;
            }
            Err(e) => return Err(anyhow::anyhow!("issuing campaign {}'s offer: {e}", campaign.id)),
        }
    }
    Ok(())
}

/// Issues the campaign's offer to its treated holders, page by page; holders who already hold
/// it (this issue's instance from an interrupted round, or `max_per_holder` from elsewhere) are
/// skipped, not an error.
async fn issue_campaign(store: &dyn Store, offers: &Offers, campaign: &CampaignRecord) -> Result<IssueCounts> {
    let Some(offer_id) = &campaign.offer_id else { return Ok(IssueCounts::default()) };
    let mut total = IssueCounts::default();
    let mut after: Option<String> = None;
    loop {
        let page = store.campaign_recipients(&campaign.id, Some(Group::Treated), after.as_deref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.member_id.clone());
        let members: Vec<String> = page.into_iter().map(|r| r.member_id).collect();
        let counts = issue_to(offers, offer_id, &campaign.id, &members).await?;
        total.issued += counts.issued;
        total.skipped += counts.skipped;
    }
    Ok(total)
}
