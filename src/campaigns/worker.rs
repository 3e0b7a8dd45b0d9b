//! The campaign worker: starts approved campaigns when due, fans them out to their holders in
//! batches (each a transaction of pass changes, pushes and Google messages), marks them sent.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::{Notify, watch};

use crate::store::{FanoutPlan, Store};
use crate::templates::TemplateSet;

pub struct CampaignWorker {
    pub store: Arc<dyn Store>,
    pub plan: FanoutPlan,
    pub poll_interval: Duration,
    /// Wakes this worker (a campaign was approved in this process).
    pub wakeup: Arc<Notify>,
    /// Woken after each batch, so pushes and Google messages start while the fan-out goes on.
    pub push_wakeup: Arc<Notify>,
    pub google_wakeup: Arc<Notify>,
}

impl CampaignWorker {
    pub fn new(
        config: &crate::config::Config,
        store: Arc<dyn Store>,
        templates: &TemplateSet,
        push: &crate::app::PushParts,
    ) -> Result<Self> {
        Ok(Self {
            store,
            plan: FanoutPlan {
                batch_size: config.campaign_batch_size.max(1),
                offer_fields: offer_fields(templates),
                pressure: config.pressure()?,
            },
            poll_interval: config.worker_settings().poll_interval,
            wakeup: push.campaign_wakeup.clone(),
            push_wakeup: push.wakeup.clone(),
            google_wakeup: push.google_wakeup.clone(),
        })
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(e) = self.run_once().await {
                tracing::error!("campaign worker: {e:#}");
            }
            tokio::select! {
                _ = self.wakeup.notified() => {}
                _ = tokio::time::sleep(self.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Starts every due campaign, handles every due holder, marks finished campaigns sent;
    /// returns how many holders it handled.
    pub async fn run_once(&self) -> Result<usize> {
        while let Some((campaign, targeted)) = self.store.start_due_campaign(&self.plan.pressure).await? {
            tracing::info!(campaign = %campaign.id, targeted, "campaign sending");
        }
        let mut handled = 0;
        loop {
            let n = self.store.fan_out_batch(&self.plan).await?;
            if n == 0 {
                break;
            }
            handled += n;
            metrics::counter!("passerelle_campaign_holders_handled_total").increment(n as u64);
            self.push_wakeup.notify_waiters();
            self.google_wakeup.notify_waiters();
        }
        for id in self.store.finish_campaigns().await? {
            tracing::info!(campaign = %id, "campaign sent");
        }
        Ok(handled)
    }
}

/// Template id -> the field carrying campaign messages (the template's `offer` role).
pub fn offer_fields(templates: &TemplateSet) -> HashMap<String, String> {
    templates.iter().filter_map(|t| t.definition.roles.offer.clone().map(|field| (t.id.clone(), field))).collect()
}
