//! Linking receipts to their member after the till: those waiting for a contact the member has
//! just verified (earning their points in the linking transaction), and those of a merged
//! provisional card (whose points move with the merge, so they earn nothing again).

use serde_json::{Map, json};

use super::{Receipts, contact_hmac_with, member_name};
use crate::error::Result;
use crate::store::{MemberRecord, ReceiptRecord};

/// Links to the member every receipt waiting for one of their verified contacts, and puts
/// their name on those receipts' passes. Returns how many it linked.
pub async fn link_pending(receipts: &Receipts, member: &MemberRecord) -> Result<usize> {
    let mut linked = link_keyed(receipts, member, &receipts.hmac_key).await?;
    if let Some(legacy) = &receipts.legacy_key {
        linked.extend(link_keyed(receipts, member, legacy).await?);
    }
    name_passes(receipts, member, &linked).await;
    if !linked.is_empty() {
        tracing::info!(member = %member.id, count = linked.len(), "receipts linked to a verified contact");
    }
    Ok(linked.len())
}

/// Puts the member's name on the passes of their receipts (a failure is logged: the link stands).
async fn name_passes(receipts: &Receipts, member: &MemberRecord, linked: &[ReceiptRecord]) {
    let name = member_name(member);
    for receipt in linked {
        let mut patch = Map::new();
        patch.insert("member_name".into(), json!(name));
        if let Err(e) = receipts.passes.change(&receipt.pass_serial, Some(patch), None).await {
            tracing::warn!(receipt = %receipt.id, "putting the member's name on the receipt pass: {e}");
        }
    }
}

/// Moves the receipts of member `from_id` (a merged provisional card) to `member`, their name
/// on the passes. Returns how many moved.
pub async fn move_to(receipts: &Receipts, from_id: &str, member: &MemberRecord) -> Result<usize> {
    let moved = receipts.passes.store.move_receipts(from_id, &member.id).await?;
    name_passes(receipts, member, &moved).await;
    Ok(moved.len())
}

/// Links the receipts waiting for the member's verified contacts, as keyed with `key`.
async fn link_keyed(receipts: &Receipts, member: &MemberRecord, key: &[u8]) -> Result<Vec<ReceiptRecord>> {
    let email_hmac = match (&member.email, member.email_verified) {
        (Some(e), true) => Some(contact_hmac_with(key, "email", e)?),
        _ => None,
    };
    let phone_hmac = match (&member.phone, member.phone_verified) {
        (Some(p), true) => Some(contact_hmac_with(key, "phone", p)?),
        _ => None,
    };
    if email_hmac.is_none() && phone_hmac.is_none() {
        return Ok(Vec::new());
    }
    let points = receipts.points.for_linking(&receipts.passes.templates);
    Ok(receipts.passes.store.link_receipts(&member.id, email_hmac.as_deref(), phone_hmac.as_deref(), points).await?)
}

/// `link_pending` for hooks that must not fail the change that verified a contact.
pub async fn link_pending_logged(receipts: &Receipts, member: &MemberRecord) {
    if let Err(e) = link_pending(receipts, member).await {
        tracing::error!(member = %member.id, "linking the receipts waiting for a verified contact: {e}");
    }
}
