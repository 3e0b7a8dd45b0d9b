//! Making a campaign (at once, or as a draft), changing a draft and submitting it: each checks
//! the whole campaign as creation does, against the actor, and answers with its warnings.

use serde_json::json;

use super::audience::Audience;
use super::requests::{self, CampaignRequest, DraftPatch};
use super::service::{Campaigns, Checked};
use crate::access::Actor;
use crate::error::{Error, Result, phrase_conflict};
use crate::store::{NewCampaign, campaign_detail, now_ms};

impl Campaigns {
    /// Makes a campaign: a draft when asked; else approved at once for HQ, waiting for HQ's
    /// approval for a store manager.
    pub async fn create(&self, actor: &Actor, req: CampaignRequest) -> Result<Checked> {
        let campaign = self.check(actor, req, &actor.id).await?;
        let record = self.store.insert_campaign(campaign.clone(), &actor.label()).await?;
        self.wake_if_approved(&record.status);
        self.announce_if_waiting(&record).await?;
        let look = self.look_at(&campaign).await?;
        Ok(Checked { campaign: record, warnings: look.warnings, holders: look.counts.passes })
    }

    /// Changes a draft: the fields given replace the draft's, and the whole is checked again.
    pub async fn change_draft(&self, actor: &Actor, id: &str, patch: DraftPatch) -> Result<Checked> {
        let current = self.draft(actor, id).await?;
        let req = CampaignRequest::of(&current).patched(patch);
        let campaign = NewCampaign { id: current.id.clone(), ..self.check(actor, req, &current.created_by).await? };
        self.save(actor, campaign, "changed", None).await
    }

    /// Submits a draft, checked again as on creation: approved at once when HQ submits it,
    /// waiting for HQ's approval when a store manager does.
    pub async fn submit(&self, actor: &Actor, id: &str) -> Result<Checked> {
        let current = self.draft(actor, id).await?;
        let req = CampaignRequest { draft: false, ..CampaignRequest::of(&current) };
        let campaign = NewCampaign { id: current.id.clone(), ..self.check(actor, req, &current.created_by).await? };
        let status = campaign.status.clone();
        let checked = self.save(actor, campaign, "submitted", Some(json!({"status": status}))).await?;
        self.wake_if_approved(&checked.campaign.status);
        self.announce_if_waiting(&checked.campaign).await?;
        Ok(checked)
    }

    /// A campaign the actor may see, still a draft (409 naming its status otherwise).
    async fn draft(&self, actor: &Actor, id: &str) -> Result<crate::store::CampaignRecord> {
        let current = self.get(actor, id).await?;
        if current.status != "draft" {
            return Err(not_a_draft(id, &current.status));
        }
        Ok(current)
    }

    /// Checks a request field by field and against the stores, templates and members.
    async fn check(&self, actor: &Actor, mut req: CampaignRequest, created_by: &str) -> Result<NewCampaign> {
        req.holdout_percent = req.holdout_percent.or(Some(self.default_holdout_percent));
        let campaign = requests::new_campaign(req, actor, created_by, self.message_max_chars, now_ms())?;
        self.fits_offer_fields(&campaign.messages)?;
        self.known_store(&Audience::parse(&campaign.scope).unwrap_or(Audience::Hq)).await?;
        self.check_offer(&campaign).await?;
        if let Some(card) = &campaign.test_card_number {
            self.test_holder(actor, card).await?;
        }
        Ok(campaign)
    }

    /// Writes a checked campaign over its draft (a concurrent submit or cancel wins: 409).
    async fn save(
        &self,
        actor: &Actor,
        campaign: NewCampaign,
        action: &str,
        detail: Option<serde_json::Value>,
    ) -> Result<Checked> {
        let detail = detail.unwrap_or_else(|| campaign_detail(&campaign));
        let id = campaign.id.clone();
        let saved = self.store.save_draft(&campaign, &actor.label(), action, detail).await;
        let record = saved
            .map_err(|e| phrase_conflict(e, |_, status, _| not_a_draft(&id, &status)))?
            .ok_or_else(|| Error::NotFound(format!("no campaign {id:?}")))?;
        let look = self.look_at(&campaign).await?;
        Ok(Checked { campaign: record, warnings: look.warnings, holders: look.counts.passes })
    }

    /// The reach and warnings of a checked campaign (its segment and scope parse: they were
    /// just checked).
    async fn look_at(&self, c: &NewCampaign) -> Result<super::Preview> {
        let segment = requests::parse_segment(&c.segment)?;
        let scope = Audience::parse(&c.scope).unwrap_or(Audience::Hq);
        self.look(&segment, &scope, Some(&c.messages)).await
    }

    /// An approved campaign may be due now: the worker of this process looks at once.
    pub(super) fn wake_if_approved(&self, status: &str) {
        if status == "approved" {
            self.store.wakeups().campaigns().notify_waiters();
        }
    }

    /// Tells head office's console users (by e-mail, through the mail queue) that a store's
    /// campaign waits for their decision.
    async fn announce_if_waiting(&self, campaign: &crate::store::CampaignRecord) -> Result<()> {
        if campaign.status != "pending_approval" {
            return Ok(());
        }
        let job = crate::jobs::mail::MailJob::ApprovalWaiting { campaign_id: campaign.id.clone() };
        let payload = serde_json::to_string(&job).map_err(anyhow::Error::from)?;
        Ok(self.store.queue_mail(&job.key(), &payload).await?)
    }
}

fn not_a_draft(id: &str, status: &str) -> Error {
    Error::conflict(format!("campaign {id} is {status}, not a draft"), "status")
}
