//! Storage of the audit log: who did what to which object, for which store. Campaign
//! transitions, allowed cross-store actions and head-office overrides all land here.

use anyhow::Result;
use async_trait::async_trait;
use serde_json::Value;

/// An action to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// `key_ab12cd34 (till paris-01)`, as `Actor::label` gives it.
    pub actor: String,
    /// The actor's role, when it has one.
    pub role: Option<String>,
    /// What was done, e.g. `receipt.read_by_barcode`, `member.verification_set`, `approved`.
    pub action: String,
    /// `campaign`, `member`, `receipt`, `order`, …
    pub object_kind: String,
    pub object_id: String,
    /// The store the object belongs to, if any.
    pub store_id: Option<String>,
    pub detail: Value,
}

/// An action as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub entry: AuditEntry,
}

/// Which records `audit_log` lists.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    pub store_id: Option<String>,
    /// One action only, e.g. `member.consent`.
    pub action: Option<String>,
    /// Records older than this id (the previous page's last).
    pub before_id: Option<i64>,
    pub limit: i64,
}

#[async_trait]
pub trait AuditStore {
    async fn insert_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// Newest first.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;
}
