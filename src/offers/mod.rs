//! Offers: a reward with its validity and stores, proposed by head office (approved at once) or
//! by a store (waiting for head office's approval), issued to holders as instances with their
//! own single-use codes, and redeemed once at a till. Issues are in `issue`, redemption and its
//! reversal in `redeem`, head office's decisions in `decisions`.

use std::sync::Arc;

use serde_json::json;

use crate::access::{Actor, Area, Reach};
use crate::error::{Error, Result};
use crate::passes::Passes;
use crate::store::{OfferInstanceRecord, OfferQuery, OfferRecord, Store, now_ms};
use crate::templates::datetime::rfc3339;
use crate::tokens;

pub mod card;
pub mod codes;
pub mod coupon;
mod decisions;
pub mod input;
pub mod issue;
pub mod redeem;

pub use input::OfferRequest;
pub use issue::{IssueRequest, issue_to};

/// Every status an offer can have.
pub const STATUSES: [&str; 3] = ["pending_approval", "approved", "rejected"];

/// What the offer functions work with.
pub struct Offers {
    pub passes: Arc<Passes>,
    /// PASSERELLE_OFFER_REVERSE_MINUTES, in milliseconds.
    pub reverse_window_ms: i64,
}

impl Offers {
    pub fn new(passes: Arc<Passes>, reverse_minutes: u64) -> Self {
        Self { passes, reverse_window_ms: (reverse_minutes as i64).saturating_mul(60_000) }
    }

    pub fn store(&self) -> &dyn Store {
        self.passes.store.as_ref()
    }

    /// Makes an offer: approved at once for head office; for a store, for its own store only
    /// and waiting for head office's approval (head office is mailed).
    pub async fn create(&self, actor: &Actor, req: OfferRequest) -> Result<OfferRecord> {
        actor.require(Area::Offers)?;
        let mut fields = input::fields(req, None)?;
        if let Some(own) = actor.own_store() {
            fields.stores = Some(own_stores(actor, own, fields.stores)?);
        }
        for (i, id) in fields.stores.iter().flatten().enumerate() {
            crate::shops::require_known(self.store(), id, &format!("stores[{i}]")).await?;
        }
        let now = now_ms();
        let status = if actor.is_hq() { "approved" } else { "pending_approval" };
        let offer = OfferRecord {
            id: format!("off_{}", tokens::random_hex(8)),
            status: status.into(),
            store_id: actor.own_store().map(str::to_owned),
            title: fields.title,
            description: fields.description,
            terms: fields.terms,
            reward: fields.reward,
            valid_from: fields.valid_from,
            valid_until: fields.valid_until,
            stores: fields.stores,
            max_per_holder: fields.max_per_holder,
            max_redemptions: fields.max_redemptions,
            redeemed: 0,
            issued: 0,
            first_issued_at: None,
            reject_reason: None,
            created_by: actor.label(),
            created_at: now,
            updated_at: now,
        };
        self.store().insert_offer(&offer).await?;
        if offer.status == "pending_approval" {
            let job = crate::jobs::mail::MailJob::OfferWaiting { offer_id: offer.id.clone() };
            let payload = serde_json::to_string(&job).map_err(anyhow::Error::from)?;
            self.store().queue_mail(&job.key(), &payload).await?;
            self.audit(actor, &offer, "offer.proposed", json!({"title": offer.title})).await?;
        }
        Ok(offer)
    }

    /// The offer, if the actor may see it (a store: its own, and those redeemable there).
    pub async fn get(&self, actor: &Actor, id: &str) -> Result<OfferRecord> {
        actor.require(Area::Offers)?;
        let offer = self.store().offer(id).await?.filter(|o| may_read(actor, o));
        offer.ok_or_else(|| Error::NotFound(format!("no offer {id:?}")))
    }

    /// Offers the actor may see, newest first, optionally of one status; before the cursor id.
    pub async fn list(
        &self,
        actor: &Actor,
        status: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OfferRecord>> {
        actor.require(Area::Offers)?;
        if let Some(status) = status
            && !STATUSES.contains(&status)
        {
            return Err(Error::bad_request(format!("status must be one of {}", STATUSES.join(", ")), "status"));
        }
        let query = OfferQuery {
            status: status.map(str::to_owned),
            visible_to_store: actor.own_store().map(str::to_owned),
            before: before.map(str::to_owned),
            limit,
        };
        Ok(self.store().list_offers(&query).await?)
    }

    /// Changes an offer not yet issued (409 afterwards: holders hold what it said); a store
    /// changes its own offers only, still for its own store.
    pub async fn change(&self, actor: &Actor, id: &str, req: OfferRequest) -> Result<OfferRecord> {
        let current = self.get(actor, id).await?;
        if !may_manage(actor, &current) {
            return Err(Error::Forbidden(format!("a {} may only change its own store's offers", actor.role)));
        }
        let mut fields = input::fields(req, Some(&current))?;
        if let Some(own) = actor.own_store() {
            fields.stores = Some(own_stores(actor, own, fields.stores)?);
        }
        for (i, id) in fields.stores.iter().flatten().enumerate() {
            crate::shops::require_known(self.store(), id, &format!("stores[{i}]")).await?;
        }
        let updated = self
            .store()
            .update_offer(
                id,
                Box::new(move |o: &OfferRecord| {
                    if let Some(at) = o.first_issued_at {
                        return Err(Error::conflict(
                            format!("offer {} was issued on {}: it can no longer change", o.id, rfc3339(at)),
                            "status",
                        ));
                    }
                    Ok(OfferRecord {
                        title: fields.title,
                        description: fields.description,
                        terms: fields.terms,
                        reward: fields.reward,
                        valid_from: fields.valid_from,
                        valid_until: fields.valid_until,
                        stores: fields.stores,
                        max_per_holder: fields.max_per_holder,
                        max_redemptions: fields.max_redemptions,
                        updated_at: now_ms(),
                        ..o.clone()
                    })
                }),
            )
            .await?;
        updated.ok_or_else(|| Error::NotFound(format!("no offer {id:?}")))
    }
}

/// A store's offer is for its own store: `stores` absent means it, another store is 403.
fn own_stores(actor: &Actor, own: &str, asked: Option<Vec<String>>) -> Result<Vec<String>> {
    match asked {
        None => Ok(vec![own.to_owned()]),
        Some(list) if list.iter().all(|s| s == own) => Ok(vec![own.to_owned()]),
        Some(list) => {
            let other = list.into_iter().find(|s| s != own).unwrap_or_default();
            Err(Error::Forbidden(format!(
                "stores names {other:?}: a {} makes offers for its own store ({own:?}) only",
                actor.role
            )))
        }
    }
}

/// Whether the actor may see the offer: head office all; a store its own and those it redeems.
pub fn may_read(actor: &Actor, offer: &OfferRecord) -> bool {
    match actor.reach(Area::Offers) {
        Reach::All => true,
        Reach::OwnStore => {
            actor.own_store().is_some_and(|own| offer.store_id.as_deref() == Some(own) || offer.covers(own))
        }
        Reach::None => false,
    }
}

/// Whether the actor may change or issue the offer: head office any; a store its own offers.
pub fn may_manage(actor: &Actor, offer: &OfferRecord) -> bool {
    actor.is_hq() || (actor.own_store().is_some() && offer.store_id.as_deref() == actor.own_store())
}

/// What a holder's instance is now: `live` (redeemable), `upcoming`, `expired` or `redeemed`.
pub fn instance_status(instance: &OfferInstanceRecord, offer: &OfferRecord, now: i64) -> &'static str {
    match instance.state.as_str() {
        "redeemed" => "redeemed",
        _ if now < offer.valid_from => "upcoming",
        _ if now >= offer.valid_until => "expired",
        _ => "live",
    }
}

/// The statuses `Offers::of_member` filters on.
pub const INSTANCE_STATUSES: [&str; 4] = ["live", "upcoming", "expired", "redeemed"];

impl Offers {
    /// A holder's instances (holdout rows never), newest first, of one status if given; a
    /// store's till sees those it may redeem (offers covering its store).
    pub async fn of_member(
        &self,
        actor: &Actor,
        member_id: &str,
        status: Option<&str>,
    ) -> Result<Vec<(OfferInstanceRecord, OfferRecord)>> {
        actor.require(Area::Offers)?;
        if let Some(s) = status
            && !INSTANCE_STATUSES.contains(&s)
        {
            return Err(Error::bad_request(
                format!("status must be one of {}", INSTANCE_STATUSES.join(", ")),
                "status",
            ));
        }
        let now = now_ms();
        let state = if status == Some("redeemed") {
            Some("redeemed")
        } else if status.is_some() {
            Some("live")
        } else {
            None
        };
        let all = self.store().member_offers(member_id, state).await?;
        Ok(all
            .into_iter()
            .filter(|(i, o)| i.state != "holdout" && actor.own_store().is_none_or(|own| o.covers(own)))
            .filter(|(i, o)| status.is_none_or(|s| instance_status(i, o, now) == s))
            .collect())
    }
}
