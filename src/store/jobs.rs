//! The job queue's storage (table `jobs`, one for every kind): claims under a lease, outcomes
//! applied with their effects and campaign counters in one transaction, dead jobs kept with
//! their error and put back on request, and each kind's figures.

use anyhow::Result;
use async_trait::async_trait;

pub use crate::jobs::queue::{DeadJob, Effect, Finished, Job, JobKind, Outcome, QueueStats};

#[async_trait]
pub trait JobsStore: Send + Sync {
    /// Claims up to `limit` due jobs of `kind` for `lease_ms`: expired leases first (their
    /// worker died), then pending jobs that are due; several processes never get the same job.
    async fn claim_jobs(&self, kind: JobKind, limit: i64, lease_ms: i64) -> Result<Vec<Job>>;
    /// Applies the outcomes (with their effects and campaign counters) in one transaction; a
    /// job whose lease was taken over by another worker is left alone.
    async fn finish_jobs(&self, finished: &[Finished]) -> Result<()>;
    /// Dead jobs (of one kind, or all), oldest first, after id `after_id`.
    async fn dead_jobs(&self, kind: Option<JobKind>, after_id: Option<i64>, limit: i64) -> Result<Vec<DeadJob>>;
    /// Puts dead jobs back in the queue with fresh attempts (one by id, or all of a kind, or all);
    /// returns how many. A key's waiting job covers its dead ones, so those are dropped instead.
    async fn retry_dead_jobs(&self, kind: Option<JobKind>, id: Option<i64>) -> Result<u64>;
    /// Queues an e-mail job due now; a waiting job of the same key takes the new payload
    /// instead (asking twice sends one mail).
    async fn queue_mail(&self, key: &str, payload: &str) -> Result<()>;
    /// Each kind's figures (every kind listed, zeros included).
    async fn queue_stats(&self) -> Result<Vec<(JobKind, QueueStats)>>;
    /// The wake-ups this store sends when a commit queued jobs.
    fn wakeups(&self) -> std::sync::Arc<crate::jobs::queue::Wakeups>;
}
