//! Head office's decisions on a store's campaign (approve, reject with a reason) and the
//! cancellation of a campaign not yet sent, each recorded in the campaign's history.

use serde_json::json;

use super::service::Campaigns;
use crate::access::{Actor, Area};
use crate::error::{Error, Result, phrase_conflict};
use crate::store::{CampaignRecord, Transition};

const MAX_REASON_CHARS: usize = 1000;

impl Campaigns {
    /// Approves a store's campaign waiting for HQ, with an optional comment.
    pub async fn approve(&self, actor: &Actor, id: &str, comment: Option<String>) -> Result<CampaignRecord> {
        actor.require(Area::Approvals)?;
        let label = actor.label();
        let t = Transition {
            from: &["pending_approval"],
            to: "approved",
            actor: &label,
            action: "approved",
            detail: json!({"comment": comment}),
            reject_reason: None,
        };
        let record = self.transition(id, t).await?;
        self.wake_if_approved(&record.status);
        Ok(record)
    }

    /// Rejects a store's campaign waiting for HQ; the reason (1-1000 characters) is required.
    pub async fn reject(&self, actor: &Actor, id: &str, reason: Option<String>) -> Result<CampaignRecord> {
        actor.require(Area::Approvals)?;
        let reason = reason.map(|r| r.trim().to_owned()).unwrap_or_default();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(Error::unprocessable(
                format!("a reason of 1-{MAX_REASON_CHARS} characters is required"),
                "reason",
            ));
        }
        let label = actor.label();
        let t = Transition {
            from: &["pending_approval"],
            to: "rejected",
            actor: &label,
            action: "rejected",
            detail: json!({"reason": reason}),
            reject_reason: Some(&reason),
        };
        self.transition(id, t).await
    }

    /// Stops a campaign not yet sent (a draft too): holders not reached yet are not reached.
    /// A store manager may cancel its own store's.
    pub async fn cancel(&self, actor: &Actor, id: &str) -> Result<CampaignRecord> {
        self.get(actor, id).await?;
        let label = actor.label();
        let t = Transition {
            from: &["draft", "pending_approval", "approved", "sending"],
            to: "cancelled",
            actor: &label,
            action: "cancelled",
            detail: json!({}),
            reject_reason: None,
        };
        self.transition(id, t).await
    }

    async fn transition(&self, id: &str, t: Transition<'_>) -> Result<CampaignRecord> {
        let moved = self.store.transition_campaign(id, t).await.map_err(|e| {
            phrase_conflict(e, |_, status, _| Error::conflict(format!("campaign {id} is {status}"), "status"))
        })?;
        moved.ok_or_else(|| Error::NotFound(format!("no campaign {id:?}")))
    }
}
