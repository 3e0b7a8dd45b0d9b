//! Writing the audit log from the domain: allowed cross-store actions and head-office overrides.

use serde_json::Value;

use super::Actor;
use crate::error::Result;
use crate::store::{AuditEntry, Store};

/// What was done to which object of which store.
pub struct Audited<'a> {
    pub action: &'a str,
    pub object_kind: &'a str,
    pub object_id: &'a str,
    pub store_id: Option<&'a str>,
    pub detail: Value,
}

/// Records `what` done by `actor`. A failure fails the caller: an action that must be audited
/// does not happen unrecorded.
pub async fn record(store: &dyn Store, actor: &Actor, what: Audited<'_>) -> Result<()> {
    let entry = AuditEntry {
        actor: actor.label(),
        role: Some(actor.role.to_string()),
        action: what.action.to_owned(),
        object_kind: what.object_kind.to_owned(),
        object_id: what.object_id.to_owned(),
        store_id: what.store_id.map(str::to_owned),
        detail: what.detail,
    };
    Ok(store.insert_audit(&entry).await?)
}
