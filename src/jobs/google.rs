//! The Google handler: writes one pass's Google Wallet object (and its message) through the
//! shared rate limit. 429, 5xx, connection errors and 403 (the issuer's permission not granted
//! yet) are retried; other refusals (400, 404) are kept as dead with Google's reason.

use std::sync::Arc;

use async_trait::async_trait;

use super::queue::{Effect, Job, JobKind};
use super::runner::{Attempt, Handler};
use crate::google::client::GoogleError;
use crate::google::sync::{GoogleService, SyncError};
use crate::store::Store;
use crate::templates::TemplateSet;

pub struct GoogleHandler {
    pub service: Arc<GoogleService>,
    pub store: Arc<dyn Store>,
    pub templates: Arc<TemplateSet>,
}

#[async_trait]
impl Handler for GoogleHandler {
    fn kind(&self) -> JobKind {
        JobKind::Google
    }

    async fn attempt(&self, job: &Job) -> Attempt {
        let message = job.payload.as_deref();
        let campaign = job.campaign_id.as_deref();
        // Only a campaign's message counts for it (a plain sync carries no news).
        let counts = campaign.is_some() && message.is_some();
        let result = self.service.sync_pass(self.store.as_ref(), &self.templates, &job.key, message, campaign).await;
        match result {
            Ok((object_id, version)) => {
                metrics::counter!("passerelle_google_synced_total").increment(1);
                let effect = Effect::GoogleSynced { serial: job.key.clone(), object_id, version };
                Attempt::Done { effect: Some(effect), counter: counts.then(|| "google.accepted".into()) }
            }
            Err(e) => {
                metrics::counter!("passerelle_google_failed_total").increment(1);
                let retryable = matches!(&e, SyncError::Google(g) if g.retryable())
                    || matches!(e, SyncError::Google(GoogleError::Api { status: 403, .. }));
                let final_counter = counts.then(|| "google.failed".into());
                Attempt::Failed { error: e.to_string(), retryable, final_counter }
            }
        }
    }
}
