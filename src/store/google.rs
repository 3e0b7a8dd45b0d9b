//! Google Wallet's storage: object sync jobs (one waiting job per pass), the synced state of
//! each object, the per-issuer rate limit shared by every process, and callback nonces.

use anyhow::Result;
use async_trait::async_trait;

/// A claimed sync job: write pass `serial_number` to Google (and add `message`, if any).
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleJob {
    pub id: i64,
    pub serial_number: String,
    pub message: Option<String>,
    /// The campaign whose message this is (its id names the Google message; counters).
    pub campaign_id: Option<String>,
    pub attempts: i64,
    pub lease_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GoogleOutcome {
    /// The object now matches pass version `version`.
    Synced {
        object_id: String,
        version: i64,
    },
    Retry {
        run_at: i64,
        error: String,
    },
    Dead {
        error: String,
    },
}

/// A sync job out of attempts, kept with its error.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadGoogleJob {
    pub id: i64,
    pub serial_number: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What Passerelle knows of a pass's Google object.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleObjectRecord {
    pub object_id: String,
    pub synced_version: Option<i64>,
    pub saved: bool,
}

#[async_trait]
pub trait GoogleStore: Send + Sync {
    /// Takes the next slot of rate limit `name` (one per `interval_ms`, shared by every process):
    /// returns when the slot starts (unix ms); the caller waits until then.
    async fn reserve_rate_slot(&self, name: &str, interval_ms: i64) -> Result<i64>;
    /// Queues a sync of `serial` (reusing its waiting job; a message replaces an older one).
    async fn enqueue_google_sync(&self, serial: &str, message: Option<&str>) -> Result<()>;
    async fn claim_google_jobs(&self, limit: i64, lease_ms: i64) -> Result<Vec<GoogleJob>>;
    async fn finish_google_job(&self, job: &GoogleJob, outcome: &GoogleOutcome) -> Result<()>;
    /// Records that the object of `serial` matches pass version `version` (outside any job).
    async fn mark_google_synced(&self, serial: &str, object_id: &str, version: i64) -> Result<()>;
    async fn google_object(&self, serial: &str) -> Result<Option<GoogleObjectRecord>>;
    async fn dead_google_jobs(&self, after_id: Option<i64>, limit: i64) -> Result<Vec<DeadGoogleJob>>;
    /// Puts dead sync jobs back in the queue (one, or all when `id` is `None`); returns how many.
    async fn retry_dead_google_jobs(&self, id: Option<i64>) -> Result<u64>;
    /// Records a save (`saved`) or removal callback once per nonce; false for a replayed nonce.
    async fn record_google_callback(&self, nonce: &str, object_id: &str, saved: bool) -> Result<bool>;
}
