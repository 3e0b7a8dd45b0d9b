//! Issuing an offer: to members named one by one, or to the holders a segment picks (those with
//! a live loyalty pass who accept marketing, as campaigns target them), optionally holding a
//! part of them out (`campaigns::holdout`: recorded as `holdout` instances, no code, no pass)
//! so that what they bought afterwards can be compared. Each other holder gets an instance with
//! its own code, unless they already hold `max_per_holder` of the offer. Written in batches,
//! each in one transaction with the offer's row locked.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use super::{Offers, card, codes, may_manage};
use crate::access::Actor;
use crate::campaigns::audience::Audience;
use crate::campaigns::holdout::{check_percent, held_out};
use crate::campaigns::requests::{check_segment_stores, parse_segment};
use crate::error::{Error, Result};
use crate::store::{IssueCounts, IssueRecord, NewInstance, OfferInstanceRecord, OfferRecord, now_ms};
use crate::templates::datetime::rfc3339;
use crate::tokens;

/// Holders written per transaction.
const BATCH: usize = 500;
/// Most members one issue by `member_ids` names.
const MAX_MEMBER_IDS: usize = 10_000;

/// The body of `POST /api/v1/offers/{id}/issue`: `member_ids`, or `segment` with an optional
/// `holdout_percent` (0 to 50).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub member_ids: Option<Vec<String>>,
    pub segment: Option<String>,
    pub holdout_percent: Option<Value>,
}

/// What an issue did.
#[derive(Debug, Clone)]
pub struct Issued {
    pub issue_id: String,
    pub counts: IssueCounts,
}

impl Offers {
    /// Issues an approved, unexpired offer (a store: its own offers, to its own store's
    /// segment); see the module's comment.
    pub async fn issue(&self, actor: &Actor, id: &str, req: IssueRequest) -> Result<Issued> {
        let offer = self.get(actor, id).await?;
        if !may_manage(actor, &offer) {
            return Err(Error::Forbidden(format!("a {} may only issue its own store's offers", actor.role)));
        }
        let (members, segment, percent) = match (req.member_ids, req.segment) {
            (Some(ids), None) => {
                if req.holdout_percent.is_some() {
                    return Err(Error::unprocessable(
                        "holdout_percent applies to an issue by segment: an issue by member_ids holds no one out",
                        "holdout_percent",
                    ));
                }
                (self.known_members(ids).await?, None, 0)
            }
            (None, Some(text)) => {
                let percent = match req.holdout_percent {
                    None | Some(Value::Null) => 0,
                    Some(v) => v
                        .as_i64()
                        .ok_or_else(|| {
                            Error::unprocessable("holdout_percent must be a whole number", "holdout_percent")
                        })
                        .and_then(|p| check_percent(p).map_err(|e| Error::unprocessable(e, "holdout_percent")))?,
                };
                let parsed = parse_segment(&text)?;
                if let Some(own) = actor.own_store() {
                    check_segment_stores(&Audience::Store(own.to_owned()), &parsed)?;
                }
                (self.store().segment_members(&parsed, actor.own_store()).await?, Some(text), percent)
            }
            _ => {
                return Err(Error::unprocessable(
                    "give member_ids (a list of member ids) or segment (a segment expression), not both",
                    "member_ids",
                ));
            }
        };
        let issue = IssueRecord {
            id: format!("iss_{}", tokens::random_hex(8)),
            offer_id: offer.id.clone(),
            segment,
            holdout_percent: i64::from(percent),
            created_by: actor.label(),
            created_at: now_ms(),
        };
        let counts = self.write_issue(&offer, &issue, &members, percent).await?;
        Ok(Issued { issue_id: issue.id, counts })
    }

    /// The members named, each once, all known (422 naming `member_ids[i]` otherwise).
    async fn known_members(&self, ids: Vec<String>) -> Result<Vec<String>> {
        if ids.is_empty() || ids.len() > MAX_MEMBER_IDS {
            return Err(Error::unprocessable(
                format!("member_ids must list 1 to {MAX_MEMBER_IDS} members"),
                "member_ids",
            ));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.into_iter().enumerate() {
            if !seen.insert(id.clone()) {
                continue;
            }
            if self.store().member(&id).await?.is_none() {
                return Err(Error::unprocessable(
                    format!("member_ids[{i}] {id:?} is no member"),
                    format!("member_ids[{i}]"),
                ));
            }
            out.push(id);
        }
        Ok(out)
    }

    /// Writes an issue in batches; returns its counts.
    async fn write_issue(
        &self,
        offer: &OfferRecord,
        issue: &IssueRecord,
        members: &[String],
        percent: u8,
    ) -> Result<IssueCounts> {
        let mut total = IssueCounts::default();
        // An issue that reaches no one is still the offer's first issue: it no longer changes.
        let batches: Vec<&[String]> = if members.is_empty() { vec![&[]] } else { members.chunks(BATCH).collect() };
        for batch in batches {
            let mut instances = Vec::with_capacity(batch.len());
            for member_id in batch {
                instances
                    .push(self.new_instance(offer, issue, member_id, held_out(&issue.id, member_id, percent)).await?);
            }
            let check = Box::new(|o: &OfferRecord| issuable(o, now_ms()));
            let counts = self.store().issue_offer(issue, instances, check).await?;
            let counts = counts.ok_or_else(|| Error::NotFound(format!("no offer {:?}", offer.id)))?;
            for member_id in batch.iter().filter(|m| !held_out(&issue.id, m, percent)) {
                card::refresh(&self.passes, member_id).await;
            }
            total.issued += counts.issued;
            total.holdout += counts.holdout;
            total.skipped += counts.skipped;
        }
        tracing::info!(offer = %offer.id, issue = %issue.id, issued = total.issued, holdout = total.holdout,
            skipped = total.skipped, "offer issued");
        Ok(total)
    }

    async fn new_instance(
        &self,
        offer: &OfferRecord,
        issue: &IssueRecord,
        member_id: &str,
        holdout: bool,
    ) -> Result<NewInstance> {
        let now = now_ms();
        let mut instance = OfferInstanceRecord {
            id: format!("ofi_{}", tokens::random_hex(8)),
            offer_id: offer.id.clone(),
            member_id: member_id.to_owned(),
            issue_id: issue.id.clone(),
            code: None,
            state: "holdout".into(),
            pass_serial: None,
            created_at: now,
            updated_at: now,
        };
        if holdout {
            return Ok(NewInstance { instance, pass: None });
        }
        instance.state = "live".into();
        instance.code = Some(codes::new_code());
        let pass = self.coupon_pass(offer, &instance).await?;
        instance.pass_serial = pass.as_ref().map(|p| p.serial_number.clone());
        Ok(NewInstance { instance, pass })
    }
}

/// Whether an offer may be issued now: approved and not yet expired.
fn issuable(offer: &OfferRecord, now: i64) -> Result<()> {
    if offer.status != "approved" {
        return Err(Error::conflict(
            format!("offer {} is {}: only an approved offer is issued", offer.id, offer.status),
            "status",
        ));
    }
    if now >= offer.valid_until {
        return Err(Error::unprocessable(
            format!("offer {} expired on {}: it can no longer be issued", offer.id, rfc3339(offer.valid_until)),
            "valid_until",
        ));
    }
    Ok(())
}

/// Gives each of `member_ids` an instance of `offer_id` under issue `issue_id` (no holdout:
/// the caller drew its own), for flows that decided the audience themselves. A campaign with
/// an `offer_id` calls it at its start for its treated holders (`campaigns::offer`), with its
/// own id as `issue_id`: a retried start gives no holder a second instance of that issue.
pub async fn issue_to(offers: &Offers, offer_id: &str, issue_id: &str, member_ids: &[String]) -> Result<IssueCounts> {
    let offer =
        offers.store().offer(offer_id).await?.ok_or_else(|| Error::NotFound(format!("no offer {offer_id:?}")))?;
    let issue = IssueRecord {
        id: issue_id.to_owned(),
        offer_id: offer.id.clone(),
        segment: None,
        holdout_percent: 0,
        created_by: format!("issue:{issue_id}"),
        created_at: now_ms(),
    };
    offers.write_issue(&offer, &issue, member_ids, 0).await
}
