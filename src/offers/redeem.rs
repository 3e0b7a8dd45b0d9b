//! Redemption at the till, atomic and single-use: by code, or by the holder's card and the
//! offer; alone (`POST /api/v1/offers/redeem`) or in a receipt's own transaction. The rules
//! are checked on the rows as locked (see `store::offers`), so of 50 tills redeeming one code
//! at once exactly one succeeds. A reversal (a sale cancelled at the till) re-activates the
//! instance within PASSERELLE_OFFER_REVERSE_MINUTES, at the store that redeemed it.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Offers, card, codes, coupon};
use crate::access::{Actor, Area};
use crate::error::{Error, Result};
use crate::passes::Passes;
use crate::store::{PassRecord, Redeem, RedeemCheck, RedeemState, RedeemTarget, RedemptionRecord, now_ms};
use crate::templates::datetime::rfc3339;
use crate::tokens;

/// Longest code, card number, offer id or receipt number a till may send.
const MAX_TEXT: usize = 100;

/// The body of `POST /api/v1/offers/redeem`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    pub code: Option<String>,
    pub card_number: Option<String>,
    pub offer_id: Option<String>,
    pub store_id: Option<String>,
    pub receipt_number: Option<String>,
}

/// What a redemption did: the redemption and the coupon pass it voided.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub redemption: RedemptionRecord,
    pub pass: Option<PassRecord>,
}

fn text(value: Option<&str>, field: &str) -> Result<Option<String>> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    match value {
        Some(v) if v.chars().count() > MAX_TEXT || v.chars().any(char::is_control) => {
            Err(Error::unprocessable(format!("{field} must be 1-{MAX_TEXT} printable characters"), field))
        }
        v => Ok(v.map(str::to_owned)),
    }
}

/// What a till names: a code, or a card number and an offer id. `field` prefixes the fields
/// named in errors (`offers[2]` in a receipt); a code whose check symbol fails matches nothing.
pub fn target(code: Option<&str>, card: Option<&str>, offer_id: Option<&str>, field: &str) -> Result<RedeemTarget> {
    let name = |f: &str| if field.is_empty() { f.to_owned() } else { format!("{field}.{f}") };
    match (text(code, &name("code"))?, text(card, &name("card_number"))?, text(offer_id, &name("offer_id"))?) {
        (Some(code), None, None) => {
            // A mistyped code fails its check: it is no one's, and the message says why.
            let normal = codes::normalise(&code).ok_or_else(|| {
                Error::NotFound(format!(
                    "{}: {code:?} is no offer code (its check symbol does not match: mistyped?)",
                    name("code")
                ))
            })?;
            Ok(RedeemTarget::Code(normal))
        }
        (None, Some(card_number), Some(offer_id)) => Ok(RedeemTarget::Card { card_number, offer_id }),
        _ => Err(Error::unprocessable(
            format!("give {} alone, or {} with {}", name("code"), name("card_number"), name("offer_id")),
            if field.is_empty() { "code".to_owned() } else { field.to_owned() },
        )),
    }
}

/// The rules of a redemption at `store_id`, checked on the locked rows. `field` is what errors
/// name (`code`, or `offers[i]` in a receipt).
fn check(target: &RedeemTarget, store_id: &str, field: &str, store_field: &str, now: i64) -> RedeemCheck {
    let named = match target {
        RedeemTarget::Code(code) => format!("code {code}"),
        RedeemTarget::Card { card_number, offer_id } => format!("card {card_number} (offer {offer_id})"),
    };
    let (store_id, field, store_field) = (store_id.to_owned(), field.to_owned(), store_field.to_owned());
    Box::new(move |state: Option<RedeemState<'_>>| {
        let Some(RedeemState { offer, instance, last }) = state else {
            return Err(Error::NotFound(format!("{field}: {named} holds no offer")));
        };
        if instance.state != "live" {
            let when =
                last.map(|l| format!(" on {} at store {}", rfc3339(l.redeemed_at), l.store_id)).unwrap_or_default();
            return Err(Error::conflict(format!("{field}: {named} was already used{when}"), field));
        }
        if offer.status != "approved" {
            return Err(Error::conflict(format!("{field}: offer {} is {}", offer.id, offer.status), field));
        }
        let dates = format!("valid from {} until {}", rfc3339(offer.valid_from), rfc3339(offer.valid_until));
        if now < offer.valid_from {
            return Err(Error::unprocessable(format!("{field}: {named} is not valid yet ({dates})"), field));
        }
        if now >= offer.valid_until {
            return Err(Error::unprocessable(format!("{field}: {named} has expired ({dates})"), field));
        }
        if !offer.covers(&store_id) {
            let stores = offer.stores.clone().unwrap_or_default().join(", ");
            return Err(Error::unprocessable(
                format!("{field}: offer {} is not valid in store {store_id} (only in {stores})", offer.id),
                store_field,
            ));
        }
        if let Some(max) = offer.max_redemptions
            && offer.redeemed >= max
        {
            return Err(Error::conflict(
                format!("{field}: offer {} has been redeemed {max} times, its max_redemptions", offer.id),
                field,
            ));
        }
        Ok(())
    })
}

/// A redemption to write (alone, or in the transaction of `receipt`: its id and number) of
/// `target` at `store_id`; errors name `field` (and `store_field` for a store not covered).
pub fn prepare(
    passes: &Arc<Passes>,
    target: RedeemTarget,
    store_id: &str,
    receipt: Option<(&str, &str)>,
    field: &str,
    store_field: &str,
) -> Redeem {
    let now = now_ms();
    Redeem {
        check: check(&target, store_id, field, store_field, now),
        target,
        id: format!("red_{}", tokens::random_hex(8)),
        store_id: store_id.to_owned(),
        receipt_id: receipt.map(|(id, _)| id.to_owned()),
        receipt_number: receipt.map(|(_, number)| number.to_owned()),
        now,
        pass: Some(coupon::on_redemption(passes.clone())),
    }
}

impl Offers {
    /// Redeems one instance at the actor's store (a store's key: its own; head office names it).
    pub async fn redeem(&self, actor: &Actor, req: RedeemRequest) -> Result<Redeemed> {
        let asked = text(req.store_id.as_deref(), "store_id")?;
        let store_id = actor
            .store_for_write(Area::Offers, asked.as_deref(), "store_id")?
            .ok_or_else(|| Error::unprocessable("store_id is required", "store_id"))?;
        crate::shops::require_known(self.store(), &store_id, "store_id").await?;
        let target = target(req.code.as_deref(), req.card_number.as_deref(), req.offer_id.as_deref(), "")?;
        let field = match &target {
            RedeemTarget::Code(_) => "code",
            RedeemTarget::Card { .. } => "card_number",
        };
        let number = text(req.receipt_number.as_deref(), "receipt_number")?;
        // The receipt, when the till posted it already; else its number alone is kept.
        let receipt_id = match &number {
            Some(n) => {
                self.store().receipts_by_number(n).await?.into_iter().find(|r| r.store_id == store_id).map(|r| r.id)
            }
            None => None,
        };
        let mut redeem = prepare(&self.passes, target, &store_id, None, field, "store_id");
        (redeem.receipt_id, redeem.receipt_number) = (receipt_id, number);
        let (redemption, pass) = self.store().redeem_offer(redeem).await?;
        tracing::info!(redemption = %redemption.id, offer = %redemption.offer_id, store = %redemption.store_id, "offer redeemed");
        card::refresh(&self.passes, &redemption.member_id).await;
        Ok(Redeemed { redemption, pass })
    }

    /// Reverses a redemption (the sale was cancelled at the till): the instance is live again
    /// and its pass un-voided; only at the store that redeemed it (head office: anywhere), within
    /// PASSERELLE_OFFER_REVERSE_MINUTES. Audited.
    pub async fn reverse(&self, actor: &Actor, id: &str) -> Result<Redeemed> {
        actor.require(Area::Offers)?;
        let not_found = || Error::NotFound(format!("no redemption {id:?}"));
        let current = self.store().redemption(id).await?.ok_or_else(not_found)?;
        if actor.own_store().is_some_and(|own| own != current.store_id) {
            return Err(not_found());
        }
        let (now, window) = (now_ms(), self.reverse_window_ms);
        let check = Box::new(move |r: &RedemptionRecord| {
            if let Some(at) = r.reversed_at {
                return Err(Error::conflict(format!("redemption {} was reversed on {}", r.id, rfc3339(at)), "id"));
            }
            if window == 0 || now - r.redeemed_at > window {
                return Err(Error::conflict(
                    format!(
                        "redemption {} was made on {}: a redemption may be reversed within {} minutes only \
                         (PASSERELLE_OFFER_REVERSE_MINUTES)",
                        r.id,
                        rfc3339(r.redeemed_at),
                        window / 60_000
                    ),
                    "id",
                ));
            }
            Ok(())
        });
        let pass_change = Some(coupon::on_redemption(self.passes.clone()));
        let (redemption, pass) =
            self.store().reverse_redemption(id, now, check, pass_change).await?.ok_or_else(not_found)?;
        let offer = self.store().offer(&redemption.offer_id).await?.ok_or_else(not_found)?;
        let detail = json!({"redemption_id": redemption.id, "instance_id": redemption.instance_id,
            "store_id": redemption.store_id, "redeemed_at": rfc3339(redemption.redeemed_at)});
        self.audit(actor, &offer, "offer.redemption_reversed", detail).await?;
        card::refresh(&self.passes, &redemption.member_id).await;
        Ok(Redeemed { redemption, pass })
    }
}

/// A receipt's `offers[i]`: a code, or `{"card_number", "offer_id"}`.
pub fn receipt_target(value: &Value, i: usize) -> Result<RedeemTarget> {
    let field = format!("offers[{i}]");
    match value {
        Value::String(code) => target(Some(code), None, None, &field),
        Value::Object(map) => {
            if let Some(unknown) = map.keys().find(|k| !matches!(k.as_str(), "card_number" | "offer_id" | "code")) {
                return Err(Error::unprocessable(
                    format!("{field}.{unknown} is not a field of an offer"),
                    format!("{field}.{unknown}"),
                ));
            }
            let get = |k: &str| map.get(k).and_then(Value::as_str);
            target(get("code"), get("card_number"), get("offer_id"), &field)
        }
        _ => Err(Error::unprocessable(format!("{field} must be a code or {{\"card_number\", \"offer_id\"}}"), field)),
    }
}
