//! The push outbox's storage: jobs claimed under a lease, finished in batches, kept when dead;
//! and the template designs whose changes are pushed to every pass.

use anyhow::Result;
use async_trait::async_trait;

/// A job a worker has claimed: push `push_token` until the lease ends.
#[derive(Debug, Clone, PartialEq)]
pub struct PushJob {
    pub id: i64,
    pub device_library_id: String,
    pub push_token: String,
    /// The campaign whose change this push carries, if any (for its delivery counters).
    pub campaign_id: Option<String>,
    /// Failed attempts before this one.
    pub attempts: i64,
    /// The claim's id: only its holder may finish the job (a stale worker changes nothing).
    pub lease_id: String,
}

/// What became of a claimed job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Delivered,
    /// APNs says the token is gone (`reason`): the device's registrations go with the job.
    DeviceGone {
        reason: String,
    },
    Retry {
        run_at: i64,
        error: String,
    },
    /// Out of attempts: kept as dead with its error, until retried.
    Dead {
        error: String,
    },
    /// Not tried (the worker paused): back to the queue without using an attempt.
    Release,
}

#[derive(Debug, Clone)]
pub struct JobResult {
    pub job: PushJob,
    pub outcome: JobOutcome,
}

/// A dead job, as `GET /api/v1/push/dead` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadJob {
    pub id: i64,
    pub device_library_id: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Queue depth by state, and when the oldest live job was made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    pub pending: i64,
    pub leased: i64,
    pub dead: i64,
    /// Unix ms of the oldest pending or leased job.
    pub oldest_created_at: Option<i64>,
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` due jobs (pending and due, or leased with an expired lease) for `lease_ms`.
    async fn claim_push_jobs(&self, limit: i64, lease_ms: i64) -> Result<Vec<PushJob>>;
    /// Applies the outcomes of claimed jobs in one transaction.
    async fn finish_push_jobs(&self, results: &[JobResult]) -> Result<()>;
    async fn dead_push_jobs(&self, after_id: Option<i64>, limit: i64) -> Result<Vec<DeadJob>>;
    /// Puts dead jobs back in the queue (one, or all when `id` is `None`); returns how many.
    async fn retry_dead_push_jobs(&self, id: Option<i64>) -> Result<u64>;
    async fn push_queue_stats(&self) -> Result<QueueStats>;
    /// Gives the next `limit` passes of a template (after `after_serial`) a new version and
    /// queues a push to every device holding them; returns their serials, in order.
    async fn bump_template_passes(&self, template: &str, after_serial: Option<&str>, limit: i64)
    -> Result<Vec<String>>;
    async fn template_design(&self, template: &str) -> Result<Option<String>>;
    async fn set_template_design(&self, template: &str, design_hash: &str) -> Result<()>;
}
