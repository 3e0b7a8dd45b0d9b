//! Head office's decisions on a store's offer: approve (it may then be issued) or reject with
//! a reason; each goes to the audit log.

use serde_json::json;

use super::Offers;
use crate::access::{Actor, Area, audit};
use crate::error::{Error, Result};
use crate::store::{OfferRecord, now_ms};

const MAX_REASON_CHARS: usize = 1000;

impl Offers {
    /// Approves a store's offer waiting for head office, with an optional comment.
    pub async fn approve(&self, actor: &Actor, id: &str, comment: Option<String>) -> Result<OfferRecord> {
        actor.require(Area::Approvals)?;
        let offer = self.decide(id, "approved", None).await?;
        self.audit(actor, &offer, "offer.approved", json!({"comment": comment})).await?;
        Ok(offer)
    }

    /// Rejects a store's offer waiting for head office; the reason (1-1000 characters) is required.
    pub async fn reject(&self, actor: &Actor, id: &str, reason: Option<String>) -> Result<OfferRecord> {
        actor.require(Area::Approvals)?;
        let reason = reason.map(|r| r.trim().to_owned()).unwrap_or_default();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(Error::unprocessable(
                format!("a reason of 1-{MAX_REASON_CHARS} characters is required"),
                "reason",
            ));
        }
        let offer = self.decide(id, "rejected", Some(reason.clone())).await?;
        self.audit(actor, &offer, "offer.rejected", json!({"reason": reason})).await?;
        Ok(offer)
    }

    async fn decide(&self, id: &str, to: &'static str, reason: Option<String>) -> Result<OfferRecord> {
        let updated = self
            .store()
            .update_offer(
                id,
                Box::new(move |o: &OfferRecord| {
                    if o.status != "pending_approval" {
                        return Err(Error::conflict(
                            format!("offer {} is {}, not pending_approval", o.id, o.status),
                            "status",
                        ));
                    }
                    Ok(OfferRecord { status: to.into(), reject_reason: reason, updated_at: now_ms(), ..o.clone() })
                }),
            )
            .await?;
        updated.ok_or_else(|| Error::NotFound(format!("no offer {id:?}")))
    }

    pub(super) async fn audit(
        &self,
        actor: &Actor,
        offer: &OfferRecord,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        let what = audit::Audited {
            action,
            object_kind: "offer",
            object_id: &offer.id,
            store_id: offer.store_id.as_deref(),
            detail,
        };
        audit::record(self.store(), actor, what).await
    }
}
