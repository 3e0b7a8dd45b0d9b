//! The campaign worker: starts approved campaigns when due, issues their offers, fans them out to their holders in
//! batches (each a transaction of pass changes, pushes and Google messages), marks them sent,
//! and sends the Google class messages of campaigns that reach a whole class.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::watch;

use super::pressure::Pressure;
use crate::google::sync::GoogleService;
use crate::offers::Offers;
use crate::store::{FanoutPlan, Store};
use crate::templates::TemplateSet;

/// Longest wait between two tries of a refused class message.
const CLASS_RETRY_MAX: Duration = Duration::from_secs(600);

pub struct CampaignWorker {
    pub store: Arc<dyn Store>,
    pub plan: FanoutPlan,
    pub poll_interval: Duration,
    /// Sends class messages (absent without Google).
    pub google: Option<Arc<GoogleService>>,
    pub templates: Arc<TemplateSet>,
    /// Issues the offers campaigns carry, at their start.
    pub offers: Arc<Offers>,
    /// Class messages that failed: tries so far and when to try again.
    class_retries: Mutex<HashMap<String, (u32, Instant)>>,
}

impl CampaignWorker {
    pub fn new(
        config: &crate::config::Config,
        store: Arc<dyn Store>,
        templates: Arc<TemplateSet>,
        google: Option<Arc<GoogleService>>,
        offers: Arc<Offers>,
    ) -> Result<Self> {
        Ok(Self {
            store,
            plan: FanoutPlan {
                batch_size: config.campaigns.batch_size.max(1),
                offer_fields: offer_fields(&templates),
                pressure: Pressure::new(&config.campaigns)?,
            },
            poll_interval: crate::jobs::QueueSettings::push(&config.jobs).poll_interval,
            google,
            templates,
            offers,
            class_retries: Mutex::default(),
        })
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        // A campaign approved in this process wakes the loop; others are found at the next poll.
        let wakeups = self.store.wakeups();
        while !*shutdown.borrow() {
            let stopping = shutdown.clone();
            if let Err(e) = self.run_until(&|| *stopping.borrow()).await {
                tracing::error!("campaign worker: {e:#}");
            }
            tokio::select! {
                _ = wakeups.campaigns().notified() => {}
                _ = tokio::time::sleep(self.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Starts every due campaign, handles every due holder, marks finished campaigns sent;
    /// returns how many holders it handled.
    pub async fn run_once(&self) -> Result<usize> {
        self.run_until(&|| false).await
    }

    /// `run_once`, stopping between two batches once `stop` says so (a shutdown does not wait
    /// for a whole campaign; the rest is found again by the next process).
    async fn run_until(&self, stop: &(dyn Fn() -> bool + Sync)) -> Result<usize> {
        // A campaign that cannot start must not hold up the fan-out of the others.
        loop {
            match self.store.start_due_campaign(&self.plan.pressure).await {
                Ok(Some((campaign, targeted))) => tracing::info!(campaign = %campaign.id, targeted, "campaign sending"),
                Ok(None) => break,
                Err(e) => {
                    tracing::error!("starting a campaign: {e:#}");
                    break;
                }
            }
        }
        // Before any batch: the push to a treated holder brings the campaign's offer.
        if let Err(e) = super::offer::issue_due(self.store.as_ref(), &self.offers).await {
            tracing::error!("issuing campaign offers: {e:#}");
        }
        let mut handled = 0;
        while !stop() {
            let n = self.store.fan_out_batch(&self.plan).await?;
            if n == 0 {
                break;
            }
            handled += n;
            metrics::counter!("passerelle_campaign_holders_handled_total").increment(n as u64);
        }
        for id in self.store.finish_campaigns().await? {
            tracing::info!(campaign = %id, "campaign sent");
        }
        self.send_class_messages().await?;
        Ok(handled)
    }

    /// One Google message on the class instead of one per object, for campaigns that reach
    /// every holder of a class; retried with backoff until Google takes it.
    async fn send_class_messages(&self) -> Result<()> {
        let Some(google) = &self.google else { return Ok(()) };
        for campaign in self.store.class_messages_due().await? {
            let waiting = self.class_retries.lock().expect("not poisoned").get(&campaign.id).copied();
            if waiting.is_some_and(|(_, at)| at > Instant::now()) {
                continue;
            }
            let Some(template) = campaign.google_class.as_deref().and_then(|t| self.templates.get(t)) else {
                tracing::warn!(campaign = %campaign.id, "the class message's template is gone");
                continue;
            };
            let id = format!("campaign-{}", campaign.id);
            match google.add_class_message(template, &id, &campaign.messages).await {
                Ok(()) => {
                    self.store.mark_class_message_sent(&campaign.id).await?;
                    self.class_retries.lock().expect("not poisoned").remove(&campaign.id);
                    tracing::info!(campaign = %campaign.id, class = %template.id, "Google class message sent");
                }
                Err(e) => {
                    let tries = waiting.map_or(1, |(n, _)| n + 1);
                    let wait = Duration::from_secs(1 << tries.min(10)).min(CLASS_RETRY_MAX);
                    tracing::warn!(campaign = %campaign.id, tries, "Google class message failed, retried in {wait:?}: {e}");
                    self.class_retries
                        .lock()
                        .expect("not poisoned")
                        .insert(campaign.id, (tries, Instant::now() + wait));
                }
            }
        }
        Ok(())
    }
}

/// Template id -> the field carrying campaign messages (the template's `offer` role).
pub fn offer_fields(templates: &TemplateSet) -> HashMap<String, String> {
    templates.iter().filter_map(|t| t.definition.roles.offer.clone().map(|field| (t.id.clone(), field))).collect()
}
