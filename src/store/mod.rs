//! Storage: the `Store` trait every handler calls, with SQLite and PostgreSQL implementations.
//!
//! Version tags: every change to a pass takes the next value of one global counter, under a
//! lock held until commit (a row lock on PostgreSQL, the write lock on SQLite), so tags
//! become visible in the order they were given and a device polling with
//! `passesUpdatedSince` never skips a change.

pub mod audit;
pub mod campaign_results;
mod campaigns;
pub mod designs;
pub(crate) mod error;
mod fanout;
mod flyer_stats;
pub mod google;
pub mod jobs;
mod members;
pub mod migrations;
pub mod offers;
mod orders;
pub mod postgres;
mod receipts;
pub mod reports;
mod shops;
pub mod signup;
pub mod sqlite;
mod tokens;
pub mod users;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use async_trait::async_trait;
use serde_json::Value;

use crate::error::Error;
pub use audit::{AuditEntry, AuditQuery, AuditRecord, AuditStore};
pub use campaign_results::CampaignResultsStore;
pub use campaigns::{
    CampaignRecord, CampaignStats, CampaignsStore, CounterDelta, NewCampaign, Transition, campaign_detail,
};
pub use designs::DesignsStore;
pub use error::{StoreError, StoreResult};
pub use fanout::{FanoutPlan, FanoutStore, HolderSeed, QuietZone, SegmentCounts};
pub use flyer_stats::{FlyerStats, FlyerStatsStore};
pub use google::{GoogleObjectRecord, GoogleStore};
pub use jobs::{DeadJob, Effect, Finished, Job, JobKind, JobsStore, Outcome, QueueStats};
pub use members::{
    LedgerRecord, MemberLookup, MemberPassUpdate, MemberRecord, MemberSearch, MemberUpdate, MembersStore, PointsEntry,
    PointsOutcome,
};
pub use offers::{
    CouponChange, IssueCheck, IssueCounts, IssueRecord, NewInstance, OfferInstanceRecord, OfferQuery, OfferRecord,
    OfferUpdate, OffersStore, Redeem, RedeemCheck, RedeemState, RedeemTarget, RedemptionRecord, ReverseCheck,
};
pub use orders::{OrderPassUpdate, OrderRecord, OrderUpdate, OrdersStore};
pub use receipts::{ReceiptLine, ReceiptPoints, ReceiptRecord, ReceiptsStore};
pub use reports::{DailyFigures, FlyerSignups, OverviewCounts, PassDevice, ReportsStore, StoreFigures};
pub use shops::{FlyerRecord, NewFlyer, NewShop, ShopChange, ShopRecord, ShopsStore};
pub use signup::{ProvisionalCard, SignupStore};
pub use tokens::{MemberTokenRecord, TokenPurpose, TokensStore};
pub use users::{NewUser, SessionRecord, UserRecord, UsersStore};
pub use webhooks::{WebhookEvent, WebhooksStore};

/// One stored pass.
#[derive(Debug, Clone, PartialEq)]
pub struct PassRecord {
    pub serial_number: String,
    pub template: String,
    /// The data as given by the API (a JSON object), without template defaults.
    pub data: Value,
    pub authentication_token: String,
    /// Secret part of the public download URLs (`/p/{share_token}`).
    pub share_token: String,
    /// The pass's version tag: the global counter's value at its last change.
    pub version: i64,
    /// HTTP `Last-Modified`, unix seconds, strictly increasing for each pass.
    pub last_modified: i64,
    pub voided: bool,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// What `insert_pass` stores.
#[derive(Debug, Clone)]
pub struct NewPass {
    pub serial_number: String,
    pub template: String,
    pub data: Value,
    pub authentication_token: String,
    pub share_token: String,
}

/// The new state of a pass after a change; the store bumps its version and Last-Modified.
#[derive(Debug, Clone)]
pub struct PassChange {
    pub data: Value,
    pub voided: bool,
    /// A message for the holder, shown as a Google Wallet message (Apple shows it through the offer field).
    pub message: Option<String>,
    /// The campaign making this change: its pushes and Google message are counted for it, and
    /// the Google message's id comes from it (a retry never shows the message twice).
    pub campaign: Option<String>,
}

/// Decides a pass's change from its current state, inside the store's transaction
/// (so two concurrent changes never lose one another). An error aborts the change.
pub type PassUpdate = Box<dyn FnOnce(&PassRecord) -> Result<PassChange, Error> + Send>;

/// Filters and page of `list_passes`, ordered by serial number.
#[derive(Debug, Clone, Default)]
pub struct PassQuery {
    pub template: Option<String>,
    /// Unix milliseconds: only passes updated at or after.
    pub updated_since: Option<i64>,
    /// Only serial numbers after this one (the cursor).
    pub after_serial: Option<String>,
    pub limit: i64,
}

/// Outcome of a device registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Created,
    AlreadyRegistered,
}

/// The answer to "which of my passes changed since this tag".
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatedSerials {
    pub serial_numbers: Vec<String>,
    pub last_updated: i64,
}

/// An admin API key (its secret is stored only as a SHA-256 hash).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    /// `hq_admin`, `hq_marketer`, `store` or `store_manager` (see `access::Role`).
    pub role: String,
    /// The store of a store role.
    pub store_id: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What `insert_api_key` stores.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub role: String,
    pub store_id: Option<String>,
}

#[async_trait]
pub trait Store:
    JobsStore
    + DesignsStore
    + GoogleStore
    + ShopsStore
    + MembersStore
    + OrdersStore
    + ReceiptsStore
    + OffersStore
    + FlyerStatsStore
    + TokensStore
    + SignupStore
    + WebhooksStore
    + CampaignsStore
    + CampaignResultsStore
    + FanoutStore
    + AuditStore
    + UsersStore
    + ReportsStore
    + Send
    + Sync
    + 'static
{
    async fn migrate(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
    /// Refreshes the planner's statistics (after a bulk load; autovacuum does it in time).
    async fn optimize(&self) -> Result<()>;

    /// Stores a new pass at the next version tag; `Conflict` on `serial_number` if it exists.
    async fn insert_pass(&self, pass: NewPass) -> StoreResult<PassRecord>;
    async fn pass(&self, serial: &str) -> Result<Option<PassRecord>>;
    async fn pass_by_share_token(&self, token: &str) -> Result<Option<PassRecord>>;
    async fn list_passes(&self, query: &PassQuery) -> Result<Vec<PassRecord>>;
    /// Applies `update` to the pass in one transaction, with a push job for every device
    /// holding it (one waiting job per device at most); `None` if there is no such pass.
    async fn update_pass(&self, serial: &str, update: PassUpdate) -> StoreResult<Option<PassRecord>>;

    /// Registers the device for the pass; beyond `max_devices` registrations of the pass, the
    /// others registered longest ago are dropped (a device that registers always gets in).
    async fn register_device(
        &self,
        device: &str,
        serial: &str,
        push_token: &str,
        max_devices: u32,
    ) -> Result<Registration>;
    /// Removes a registration; false if there was none.
    async fn unregister_device(&self, device: &str, serial: &str) -> Result<bool>;
    /// The device's passes changed after `since` (all of them without it); `None` when none.
    async fn updated_serials(&self, device: &str, since: Option<i64>) -> Result<Option<UpdatedSerials>>;
    /// Stores device log lines, keeping only the newest `keep` rows.
    async fn add_device_logs(&self, lines: &[String], keep: i64) -> Result<()>;

    async fn insert_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>>;
    /// Marks a key revoked; false if there is no such active key.
    async fn revoke_api_key(&self, id: &str) -> Result<bool>;
    /// The active key with this hash, its last use recorded (at most once a minute).
    async fn use_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>>;
}

/// Database settings.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: crate::secret::Secret,
    pub max_connections: u32,
    pub busy_timeout: Duration,
    /// Delay before a change's push job is due (bursts of changes share one push).
    pub push_coalesce_ms: i64,
    /// Whether pass changes also queue Google Wallet syncs.
    pub google_enabled: bool,
    /// A new pass's queued Google sync waits this long: the API creates the object inline first.
    pub google_first_sync_delay_ms: i64,
    /// Whether order changes and device registrations queue webhook events.
    pub webhooks_enabled: bool,
    /// The shop's currency (PASSERELLE_CURRENCY): the one segments add spending up in.
    pub currency: String,
}

impl From<&crate::config::Config> for DbSettings {
    /// Besides the database group: what the store's transactions queue depends on pushes, Google and webhooks.
    fn from(config: &crate::config::Config) -> Self {
        DbSettings {
            url: config.database.url.clone(),
            max_connections: config.database.max_connections.max(1),
            busy_timeout: Duration::from_millis(config.database.busy_timeout_ms),
            push_coalesce_ms: config.jobs.coalesce_ms as i64,
            google_enabled: config.google.enabled(),
            google_first_sync_delay_ms: config.google.timeout_ms as i64,
            webhooks_enabled: config.webhooks.enabled(),
            currency: config.loyalty.currency.0.clone(),
        }
    }
}

/// Opens the database named by the URL scheme (`sqlite:` or `postgres:`), without migrating.
pub async fn connect(settings: &DbSettings) -> Result<Arc<dyn Store>> {
    let url = settings.url.expose();
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(settings).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(settings).await?))
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        bail!(
            "PASSERELLE_DATABASE_URL: unknown scheme {scheme:?}; use sqlite://path/to/file.db or postgres://user@host/db"
        )
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// The next `Last-Modified` of a pass: now, but always at least one second after the last one,
/// since HTTP dates have one-second resolution and a change must never look unchanged.
pub fn next_last_modified(previous: Option<i64>) -> i64 {
    let now = now_ms() / 1000;
    match previous {
        Some(prev) => now.max(prev + 1),
        None => now,
    }
}
