//! The push handler: an empty APNs push to the job's device (Apple's pass update), and what
//! APNs's answer means for the job, the device and the campaign it carries. A refused
//! certificate pauses pushing instead of burning through the queue.

use std::sync::Arc;

use async_trait::async_trait;

use super::label;
use super::queue::{Effect, Job, JobKind};
use super::runner::{Attempt, Handler};
use crate::dependencies::DependencyHealth;
use crate::push::apns::{ApnsClient, PushResult, PushSender};

/// What pushing shares with the rest of the process.
#[derive(Clone)]
pub struct PushParts {
    pub sender: Arc<dyn PushSender>,
    pub health: Arc<PushHealth>,
}

impl PushParts {
    pub fn new(apns: &crate::config::Apns, passes: &crate::apple::PassBuilder) -> anyhow::Result<Self> {
        let client = ApnsClient::new(passes.identity(), apns.into())?;
        Ok(Self { sender: Arc::new(client), health: Arc::default() })
    }
}

/// Whether pushing works: a pause, and how APNs answered lately (both reported by `/readyz`).
#[derive(Debug)]
pub struct PushHealth {
    paused: std::sync::Mutex<Option<String>>,
    pub apns: Arc<DependencyHealth>,
}

impl Default for PushHealth {
    fn default() -> Self {
        Self { paused: std::sync::Mutex::default(), apns: Arc::new(DependencyHealth::new("apns")) }
    }
}

impl PushHealth {
    /// Why pushes are paused, if they are.
    pub fn paused(&self) -> Option<String> {
        self.paused.lock().expect("push health lock").clone()
    }

    fn set(&self, reason: Option<String>) -> bool {
        let mut slot = self.paused.lock().expect("push health lock");
        let changed = slot.is_some() != reason.is_some();
        *slot = reason;
        changed
    }
}

pub struct PushHandler {
    pub sender: Arc<dyn PushSender>,
    pub health: Arc<PushHealth>,
    /// How long a pause lasts before the next try (for the log line).
    pub pause: std::time::Duration,
}

#[async_trait]
impl Handler for PushHandler {
    fn kind(&self) -> JobKind {
        JobKind::Push
    }

    fn paused(&self) -> bool {
        self.health.paused().is_some()
    }

    async fn attempt(&self, job: &Job) -> Attempt {
        let token = job.payload.as_deref().unwrap_or_default();
        let result = self.sender.push(token).await;
        match &result {
            // APNs answered about the device: APNs works.
            PushResult::Delivered | PushResult::DeviceGone(_) => self.health.apns.success(),
            PushResult::Retry(reason) | PushResult::CertificateRefused(reason) => self.health.apns.failure(reason),
        }
        match result {
            PushResult::Delivered => {
                metrics::counter!("passerelle_push_sent_total").increment(1);
                if self.health.set(None) {
                    tracing::info!("APNs accepts pushes again: pushing resumed");
                }
                Attempt::Done { effect: None, counter: Some("apple.accepted".into()) }
            }
            PushResult::DeviceGone(reason) => {
                metrics::counter!("passerelle_push_failed_total", "reason" => label(&reason)).increment(1);
                let effect = Effect::ForgetDevice { device: job.key.clone(), push_token: token.to_owned() };
                Attempt::Done { effect: Some(effect), counter: Some(format!("apple.rejected.{}", label(&reason))) }
            }
            PushResult::CertificateRefused(reason) => {
                metrics::counter!("passerelle_push_failed_total", "reason" => "certificate").increment(1);
                if self.health.set(Some(reason.clone())) {
                    tracing::error!(
                        "APNs refused the pass certificate, pushing paused (jobs wait, retried every {:?}): {reason}",
                        self.pause
                    );
                }
                Attempt::NotTried
            }
            PushResult::Retry(reason) => {
                metrics::counter!("passerelle_push_failed_total", "reason" => label(&reason)).increment(1);
                let final_counter = Some(format!("apple.rejected.{}", label(&reason)));
                Attempt::Failed { error: reason, retryable: true, final_counter }
            }
        }
    }
}
