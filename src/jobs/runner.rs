//! The loop every kind of job runs in: claim a batch under a lease, attempt each job through
//! the kind's handler (up to the kind's concurrency), turn failures into retries with backoff or
//! dead jobs after the last attempt, and record every outcome in one transaction. A paused
//! handler (APNs refusing the certificate) leaves the rest of the batch untried.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::watch;

use super::QueueSettings;
use super::queue::{Effect, Finished, Job, JobKind, Outcome};
use crate::store::{Store, now_ms};

/// What one attempt of a job came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// Done; `counter` is the campaign counter it adds to, if the job carries a campaign.
    Done { effect: Option<Effect>, counter: Option<String> },
    /// Failed: retried with backoff while `retryable` and attempts remain, else dead (adding
    /// `final_counter` to its campaign).
    Failed { error: String, retryable: bool, final_counter: Option<String> },
    /// Not attempted (the handler paused itself): back to the queue, no attempt used; the rest
    /// of the batch is not attempted either.
    NotTried,
}

/// One kind's work.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    fn kind(&self) -> JobKind;
    async fn attempt(&self, job: &Job) -> Attempt;
    /// Whether the handler is paused: the loop then waits `pause` before its next batch instead
    /// of waking for new jobs (a batch after the pause tries again).
    fn paused(&self) -> bool {
        false
    }
}

/// A loop draining one kind of job.
pub struct Runner {
    pub store: Arc<dyn Store>,
    pub handler: Arc<dyn Handler>,
    pub settings: QueueSettings,
}

impl Runner {
    /// Runs until `shutdown` turns true; the batch in hand is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let kind = self.handler.kind();
        let wakeups = self.store.wakeups();
        while !*shutdown.borrow() {
            let idle = match self.run_once().await {
                Ok(0) => self.settings.poll_interval,
                Ok(_) if self.handler.paused() => self.settings.pause,
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!(kind = kind.as_str(), "job worker: {e:#}");
                    self.settings.poll_interval
                }
            };
            tokio::select! {
                _ = wakeups.of(kind).notified(), if !self.handler.paused() => {}
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claims one batch, attempts it and records the outcomes; returns how many jobs it claimed.
    pub async fn run_once(&self) -> Result<usize> {
        let kind = self.handler.kind();
        let lease = self.settings.lease.as_millis() as i64;
        let jobs = self.store.claim_jobs(kind, self.settings.batch_size, lease).await?;
        let claimed = jobs.len();
        if claimed == 0 {
            return Ok(0);
        }
        // Once an attempt says "not now" (a pause), the rest of the batch waits untried.
        let halted = AtomicBool::new(false);
        let finished: Vec<Finished> = futures_util::stream::iter(jobs)
            .map(|job| {
                let halted = &halted;
                async move {
                    let attempt = if halted.load(Ordering::Relaxed) {
                        Attempt::NotTried
                    } else {
                        self.handler.attempt(&job).await
                    };
                    if attempt == Attempt::NotTried {
                        halted.store(true, Ordering::Relaxed);
                    }
                    self.finish(job, attempt)
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        self.store.finish_jobs(&finished).await?;
        Ok(claimed)
    }

    fn finish(&self, job: Job, attempt: Attempt) -> Finished {
        let kind = job.kind.as_str();
        let (outcome, effect, counter) = match attempt {
            Attempt::Done { effect, counter } => {
                metrics::counter!("passerelle_jobs_done_total", "kind" => kind).increment(1);
                (Outcome::Done, effect, counter)
            }
            Attempt::NotTried => (Outcome::Release, None, None),
            Attempt::Failed { error, retryable, final_counter } => {
                if retryable && job.attempts + 1 < self.settings.max_attempts {
                    metrics::counter!("passerelle_jobs_retried_total", "kind" => kind).increment(1);
                    if job.kind == JobKind::Push {
                        metrics::counter!("passerelle_push_retried_total").increment(1); // the first round's name
                    }
                    let run_at = now_ms() + super::backoff(&self.settings, job.attempts).as_millis() as i64;
                    (Outcome::Retry { run_at, error }, None, None)
                } else {
                    metrics::counter!("passerelle_jobs_dead_total", "kind" => kind).increment(1);
                    if job.kind == JobKind::Push {
                        metrics::counter!("passerelle_push_dead_total").increment(1); // the first round's name
                    }
                    tracing::warn!(kind, job = job.id, attempts = job.attempts + 1, "job dead: {error}");
                    (Outcome::Dead { error }, None, final_counter)
                }
            }
        };
        Finished { job, outcome, effect, counter }
    }
}
