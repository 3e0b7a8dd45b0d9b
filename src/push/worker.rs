//! The outbox worker: claims push jobs in batches under a lease, pushes them concurrently,
//! then deletes, reschedules (capped exponential backoff with jitter) or buries each one.
//! A refused certificate pauses the worker instead of burning through the queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use futures_util::StreamExt;
use tokio::sync::{Notify, watch};

use super::apns::{PushResult, PushSender};
use crate::store::{JobOutcome, JobResult, PushJob, Store, now_ms};

/// The worker's tunables (`PASSERELLE_PUSH_*`).
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub batch_size: i64,
    pub concurrency: usize,
    pub lease: Duration,
    pub max_attempts: i64,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub poll_interval: Duration,
    pub pause: Duration,
}

/// Whether pushing works; `/readyz` reports a pause.
#[derive(Debug, Default)]
pub struct PushHealth {
    paused: std::sync::Mutex<Option<String>>,
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

/// One worker loop; `passerelle serve` runs `PASSERELLE_PUSH_WORKERS` of them.
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub sender: Arc<dyn PushSender>,
    pub settings: WorkerSettings,
    pub health: Arc<PushHealth>,
    pub wakeup: Arc<Notify>,
}

impl Worker {
    /// Runs until `shutdown` turns true; the batch in hand is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let idle = match self.run_once().await {
                Ok(0) => self.settings.poll_interval,
                Ok(_) if self.health.paused().is_some() => self.settings.pause,
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!("push worker: {e:#}");
                    self.settings.poll_interval
                }
            };
            tokio::select! {
                _ = self.wakeup.notified(), if self.health.paused().is_none() => {}
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claims one batch, pushes it and records the outcomes; returns how many jobs it claimed.
    pub async fn run_once(&self) -> Result<usize> {
        let jobs = self.store.claim_push_jobs(self.settings.batch_size, self.settings.lease.as_millis() as i64).await?;
        if jobs.is_empty() {
            return Ok(0);
        }
        let claimed = jobs.len();
        let refused = AtomicBool::new(false);
        let pushed: Vec<(PushJob, Option<PushResult>)> = futures_util::stream::iter(jobs)
            .map(|job| {
                let refused = &refused;
                async move {
                    if refused.load(Ordering::Relaxed) {
                        return (job, None);
                    }
                    let result = self.sender.push(&job.push_token).await;
                    if matches!(result, PushResult::CertificateRefused(_)) {
                        refused.store(true, Ordering::Relaxed);
                    }
                    (job, Some(result))
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let results: Vec<JobResult> = pushed.into_iter().map(|(job, r)| self.outcome(job, r)).collect();
        self.store.finish_push_jobs(&results).await?;
        Ok(claimed)
    }

    fn outcome(&self, job: PushJob, result: Option<PushResult>) -> JobResult {
        let outcome = match result {
            None => JobOutcome::Release,
            Some(PushResult::Delivered) => {
                metrics::counter!("passerelle_push_sent_total").increment(1);
                if self.health.set(None) {
                    tracing::info!("APNs accepts pushes again: push worker resumed");
                }
                JobOutcome::Delivered
            }
            Some(PushResult::DeviceGone(reason)) => {
                metrics::counter!("passerelle_push_failed_total", "reason" => label(&reason)).increment(1);
                JobOutcome::DeviceGone { reason }
            }
            Some(PushResult::CertificateRefused(reason)) => {
                metrics::counter!("passerelle_push_failed_total", "reason" => "certificate").increment(1);
                if self.health.set(Some(reason.clone())) {
                    tracing::error!(
                        "APNs refused the pass certificate, push worker paused (jobs wait, retried every {:?}): {reason}",
                        self.settings.pause
                    );
                }
                JobOutcome::Release
            }
            Some(PushResult::Retry(reason)) => {
                metrics::counter!("passerelle_push_failed_total", "reason" => label(&reason)).increment(1);
                if job.attempts + 1 >= self.settings.max_attempts {
                    metrics::counter!("passerelle_push_dead_total").increment(1);
                    tracing::warn!(job = job.id, attempts = job.attempts + 1, "push job dead: {reason}");
                    JobOutcome::Dead { error: reason }
                } else {
                    metrics::counter!("passerelle_push_retried_total").increment(1);
                    let delay = backoff(&self.settings, job.attempts);
                    JobOutcome::Retry { run_at: now_ms() + delay.as_millis() as i64, error: reason }
                }
            }
        };
        JobResult { job, outcome }
    }
}

/// `base * 2^attempts`, capped, with "equal jitter": half fixed, half random, so retries spread out.
pub fn backoff(settings: &WorkerSettings, attempts: i64) -> Duration {
    let exp = settings.backoff_base.saturating_mul(1u32 << attempts.clamp(0, 20) as u32);
    let capped = exp.min(settings.backoff_max);
    let mut r = [0u8; 4];
    openssl::rand::rand_bytes(&mut r).expect("CSPRNG");
    let fraction = u32::from_le_bytes(r) as f64 / u32::MAX as f64;
    capped / 2 + capped.mul_f64(fraction / 2.0)
}

/// Failure reasons as metric labels: APNs's short reasons, or a fixed word (bounded cardinality).
pub fn label(reason: &str) -> String {
    if reason.starts_with("connect") {
        "connection".into()
    } else if reason.len() <= 40 && reason.chars().all(|c| c.is_ascii_alphanumeric()) {
        reason.into()
    } else {
        "other".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WorkerSettings {
        WorkerSettings {
            batch_size: 10,
            concurrency: 10,
            lease: Duration::from_secs(60),
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            poll_interval: Duration::from_millis(100),
            pause: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let s = settings();
        for (attempts, lo, hi) in [(0, 500, 1000), (3, 4000, 8000), (10, 30_000, 60_000), (60, 30_000, 60_000)] {
            let d = backoff(&s, attempts).as_millis() as u64;
            assert!((lo..=hi).contains(&d), "attempt {attempts}: {d} ms");
        }
        let spread: std::collections::HashSet<u128> = (0..20).map(|_| backoff(&s, 5).as_millis()).collect();
        assert!(spread.len() > 1, "jitter");
    }

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(label("Unregistered"), "Unregistered");
        assert_eq!(label("connect: Connection refused (os error 111)"), "connection");
        assert_eq!(label("connection: broken pipe"), "connection");
        assert_eq!(label("some long free text with spaces"), "other");
    }
}
