//! Points changes: the one rule of a balance change (the tier follows the points; a balance
//! may not go below zero unless allowed) and the till's and head office's points API. Receipts
//! earn points with the same rule (`receipts::points`), inside the transaction that links them.

use super::Loyalty;
use super::input::text;
use super::members::{get, not_found};
use super::pass::pass_update;
use super::tiers::TierRules;
use crate::access::audit::{self, Audited};
use crate::access::{Actor, Area};
use crate::error::{Error, Result};
use crate::store::{MemberRecord, MemberUpdate, PointsEntry, PointsOutcome, now_ms};

/// What a change may do to a balance below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Floor {
    /// Anything goes (PASSERELLE_POINTS_ALLOW_NEGATIVE).
    None,
    /// A change that would end below zero is refused (422 on `delta`).
    Refuse,
    /// A take-back stops at zero (a return never fails for want of points).
    StopAtZero,
}

/// The member with `delta` more points and the tier that follows (a manual tier stays).
pub fn with_points(rules: &TierRules, current: &MemberRecord, delta: i64, floor: Floor) -> Result<MemberRecord> {
    let mut points = current
        .points
        .checked_add(delta)
        .ok_or_else(|| Error::unprocessable("delta takes the balance out of range", "delta"))?;
    if points < 0 && delta < 0 {
        match floor {
            Floor::None => {}
            Floor::Refuse => {
                return Err(Error::unprocessable(
                    format!("delta {delta} would take the balance of {} points below zero", current.points),
                    "delta",
                ));
            }
            // A balance already below zero (allowed once) is left where it is.
            Floor::StopAtZero => points = current.points.min(0),
        }
    }
    let mut m = current.clone();
    m.points = points;
    m.tier = rules.effective(points, m.tier_manual.as_deref());
    m.updated_at = now_ms();
    Ok(m)
}

/// Adds `entry.delta` points (atomic, idempotent on the key, never below zero unless
/// `PASSERELLE_POINTS_ALLOW_NEGATIVE`); the pass shows the new balance and tier. Any till
/// credits any member, in its own store's name; for a member of another home store, audited.
pub async fn add_points(loyalty: &Loyalty, actor: &Actor, id: &str, entry: PointsEntry) -> Result<PointsOutcome> {
    let store_id = text(entry.store_id, "store_id")?;
    let store_id = actor.store_for_write(Area::Points, store_id.as_deref(), "store_id")?;
    if let Some(store_id) = &store_id {
        crate::shops::require_known(loyalty.passes.store.as_ref(), store_id, "store_id").await?;
    }
    let entry = PointsEntry {
        delta: entry.delta,
        reason: text(entry.reason, "reason")?,
        store_id,
        idempotency_key: text(entry.idempotency_key, "idempotency_key")?,
    };
    let (rules, allow_negative, delta) = (loyalty.tiers.clone(), loyalty.points_allow_negative, entry.delta);
    let apply: MemberUpdate = Box::new(move |current: &MemberRecord| {
        let floor = if allow_negative { Floor::None } else { Floor::Refuse };
        with_points(&rules, current, delta, floor)
    });
    let outcome =
        loyalty.passes.store.add_points(id, &entry, apply, pass_update(loyalty)).await?.ok_or_else(|| not_found(id))?;
    if outcome.replayed && outcome.entry.delta != delta {
        return Err(Error::conflict(
            format!("idempotency_key was already used for a change of {} points", outcome.entry.delta),
            "idempotency_key",
        ));
    }
    // Head office's hand adjustments (a goodwill gesture, a correction) are overrides.
    if actor.is_hq() && !actor.is_flow() && !outcome.replayed {
        let what = Audited {
            action: "points.adjusted",
            object_kind: "member",
            object_id: id,
            store_id: outcome.entry.store_id.as_deref(),
            detail: serde_json::json!({"delta": delta, "reason": outcome.entry.reason, "ledger_id": outcome.entry.id}),
        };
        audit::record(loyalty.passes.store.as_ref(), actor, what).await?;
    }
    if let Some(own) = actor.own_store()
        && !outcome.replayed
    {
        let member = get(loyalty, id).await?;
        if member.home_store_id.as_deref().is_some_and(|home| home != own) {
            let what = Audited {
                action: "points.other_store_member",
                object_kind: "member",
                object_id: id,
                store_id: Some(own),
                detail: serde_json::json!({"delta": delta, "home_store_id": member.home_store_id,
                    "ledger_id": outcome.entry.id}),
            };
            audit::record(loyalty.passes.store.as_ref(), actor, what).await?;
        }
    }
    Ok(outcome)
}
