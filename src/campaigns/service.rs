//! The campaigns service the API and the console share: who may see which campaign, lists,
//! history, figures and segment previews with their warnings. Making and changing campaigns is in
//! `drafts`, HQ's decisions in `decisions`, test sends in `test_send`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::audience::Audience;
use super::pressure::Pressure;
use super::requests;
use super::segment::Segment;
use super::warnings::{self, Warning};
use crate::access::{Actor, Area, Reach};
use crate::error::{Error, Result};
use crate::store::{AuditQuery, AuditRecord, CampaignRecord, CampaignStats, SegmentCounts, Store};
use crate::templates::TemplateSet;

/// Every status a campaign can have: `draft → pending_approval → approved → sending → sent`,
/// or `rejected`, `cancelled`, `failed`.
pub const STATUSES: [&str; 8] =
    ["draft", "pending_approval", "approved", "sending", "sent", "rejected", "cancelled", "failed"];

/// A campaign's history is a handful of transitions; this bounds a pathological one.
const MAX_HISTORY: i64 = 1000;

/// What the campaign functions work with.
pub struct Campaigns {
    pub store: Arc<dyn Store>,
    pub templates: Arc<TemplateSet>,
    /// PASSERELLE_CAMPAIGN_MESSAGE_MAX_CHARS.
    pub message_max_chars: usize,
    /// PASSERELLE_CAMPAIGN_HOLDOUT_PERCENT: the holdout of a request that names none.
    pub default_holdout_percent: i64,
    pub pressure: Pressure,
}

/// A campaign as made or changed, with what its maker should know.
#[derive(Debug, Clone)]
pub struct Checked {
    pub campaign: CampaignRecord,
    pub warnings: Vec<Warning>,
    /// The holders its segment reaches now (before any holdout).
    pub holders: i64,
}

/// A segment's live counts and warnings.
#[derive(Debug, Clone)]
pub struct Preview {
    pub counts: SegmentCounts,
    pub warnings: Vec<Warning>,
}

impl Campaigns {
    pub fn new(
        config: &crate::config::Campaigns,
        store: Arc<dyn Store>,
        templates: Arc<TemplateSet>,
    ) -> anyhow::Result<Self> {
        Ok(Campaigns {
            store,
            templates,
            message_max_chars: config.message_max_chars,
            default_holdout_percent: config.holdout_percent,
            pressure: Pressure::new(config)?,
        })
    }

    /// The campaign, if the actor may see it (a store manager: its own store's; another's is 404).
    pub async fn get(&self, actor: &Actor, id: &str) -> Result<CampaignRecord> {
        actor.require(Area::Campaigns)?;
        let campaign = self.store.campaign(id).await?.filter(|c| requests::may_read(actor, &c.scope));
        campaign.ok_or_else(|| Error::NotFound(format!("no campaign {id:?}")))
    }

    /// Campaigns the actor may see, newest first, optionally of one status; after the cursor id.
    pub async fn list(
        &self,
        actor: &Actor,
        status: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CampaignRecord>> {
        actor.require(Area::Campaigns)?;
        if let Some(status) = status
            && !STATUSES.contains(&status)
        {
            return Err(Error::unprocessable(format!("status must be one of {}", STATUSES.join(", ")), "status"));
        }
        let scope = match actor.reach(Area::Campaigns) {
            Reach::All => None,
            _ => actor.own_store().map(|s| Audience::Store(s.to_owned()).to_string()),
        };
        Ok(self.store.list_campaigns(scope.as_deref(), status, before, limit).await?)
    }

    /// Who did what to the campaign, oldest first.
    pub async fn history(&self, actor: &Actor, id: &str) -> Result<Vec<AuditRecord>> {
        self.get(actor, id).await?;
        let query = AuditQuery {
            object_kind: Some("campaign".into()),
            object_id: Some(id.to_owned()),
            limit: MAX_HISTORY,
            ..Default::default()
        };
        let mut events = self.store.audit_log(&query).await?;
        events.reverse();
        Ok(events)
    }

    /// The campaign and its delivery figures.
    pub async fn stats(&self, actor: &Actor, id: &str) -> Result<(CampaignRecord, CampaignStats)> {
        let campaign = self.get(actor, id).await?;
        let stats = self.store.campaign_stats(id).await?;
        Ok((campaign, stats))
    }

    /// What `segment` picks now within the actor's reach (`scope`: one store's members), and
    /// the warnings, those about languages when `messages` are given.
    pub async fn preview(
        &self,
        actor: &Actor,
        segment: &str,
        scope: Option<&str>,
        messages: Option<&BTreeMap<String, String>>,
    ) -> Result<Preview> {
        let scope = requests::campaign_scope(actor, scope)?;
        self.known_store(&scope).await?;
        let segment = requests::parse_segment(segment)?;
        requests::check_segment_stores(&scope, &segment)?;
        self.look(&segment, &scope, messages).await
    }

    /// The counts and warnings of a checked segment.
    pub(super) async fn look(
        &self,
        segment: &Segment,
        scope: &Audience,
        messages: Option<&BTreeMap<String, String>>,
    ) -> Result<Preview> {
        let counts = self.store.segment_counts(segment, scope.store_id(), &self.pressure).await?;
        let mut missing = Vec::new();
        for id in segment.stores_mentioned() {
            if self.store.shop(&id).await?.is_none() && !missing.contains(&id) {
                missing.push(id);
            }
        }
        let mut found = warnings::from_counts(&counts, messages);
        found.splice(0..0, warnings::unknown_stores(&missing));
        Ok(Preview { counts, warnings: found })
    }

    /// A store scope must name a store (HQ could otherwise schedule a campaign that reaches no one).
    pub(super) async fn known_store(&self, scope: &Audience) -> Result<()> {
        match scope.store_id() {
            Some(id) if self.store.shop(id).await?.is_none() => {
                Err(Error::unprocessable(format!("no store {id:?}"), "scope"))
            }
            _ => Ok(()),
        }
    }

    /// Every text fits the offer field of every template that carries campaign messages (a
    /// template may cap that field's length; a pass that breaks its template could not be signed).
    pub(super) fn fits_offer_fields(&self, messages: &BTreeMap<String, String>) -> Result<()> {
        for template in self.templates.iter() {
            let Some(field) = &template.definition.roles.offer else { continue };
            let Some(max) = template.definition.fields.get(field).and_then(|spec| spec.max_length) else { continue };
            if let Some((language, _)) = messages.iter().find(|(_, text)| text.chars().count() > max) {
                let message = format!("longer than the {max} characters of template {}'s field {field}", template.id);
                return Err(Error::unprocessable(message, format!("message.{language}")));
            }
        }
        Ok(())
    }
}
