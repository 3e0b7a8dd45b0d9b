//! Google Wallet's storage: the synced state of each object, the per-issuer rate limit shared
//! by every process, and callback nonces. (Sync jobs are jobs of kind `google`, see `jobs.rs`.)

use anyhow::Result;
use async_trait::async_trait;

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
    /// Records that the object of `serial` matches pass version `version` (outside any job).
    async fn mark_google_synced(&self, serial: &str, object_id: &str, version: i64) -> Result<()>;
    async fn google_object(&self, serial: &str) -> Result<Option<GoogleObjectRecord>>;
    /// Records a save (`saved`) or removal callback once per nonce; false for a replayed nonce.
    async fn record_google_callback(&self, nonce: &str, object_id: &str, saved: bool) -> Result<bool>;
}
