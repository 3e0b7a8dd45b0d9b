//! Each instance's Apple coupon pass (template `offer`, when loaded): made with the instance,
//! marked "Used on …" and voided by a redemption, restored by its reversal. The pass changes
//! in the redemption's transaction, so its devices are pushed with it.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Offers;
use crate::error::Result;
use crate::passes::Passes;
use crate::receipts::{currency_exponent, format_amount};
use crate::shops::locations_near;
use crate::store::{CouponChange, NewPass, OfferInstanceRecord, OfferRecord, PassChange};
use crate::store::{ShopRecord, Store};
use crate::templates::datetime::{format_w3c, rfc3339};

/// The pass template of offer instances.
pub const OFFER_TEMPLATE: &str = "offer";

impl Offers {
    /// The coupon pass of a new instance, if the `offer` template is loaded.
    pub(super) async fn coupon_pass(
        &self,
        offer: &OfferRecord,
        instance: &OfferInstanceRecord,
    ) -> Result<Option<NewPass>> {
        if self.passes.templates.get(OFFER_TEMPLATE).is_none() {
            return Ok(None);
        }
        let data = self.coupon_data(offer, instance).await?;
        Ok(Some(self.passes.new_pass(OFFER_TEMPLATE, data, None)?))
    }

    async fn coupon_data(&self, offer: &OfferRecord, instance: &OfferInstanceRecord) -> Result<Value> {
        let member = self.store().member(&instance.member_id).await?;
        let language = member.as_ref().and_then(|m| m.language.clone());
        let pick = |texts: &Value| localized(texts, language.as_deref());
        let mut data = json!({
            "title": pick(&offer.title),
            "reward": reward_text(&offer.reward, language.as_deref()),
            "code": instance.code,
            "valid_from": w3c(offer.valid_from),
            "valid_until": w3c(offer.valid_until),
            "description": pick(&offer.description),
            "terms": pick(&offer.terms),
        });
        if let Some(ids) = &offer.stores {
            let mut names = Vec::with_capacity(ids.len());
            for id in ids {
                names.push(self.store().shop(id).await?.map_or_else(|| id.clone(), |s| s.name));
            }
            data["stores"] = json!(names.join(", "));
        }
        Ok(data)
    }
}

/// Unix milliseconds as Wallet's W3C date-time (UTC).
fn w3c(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format_w3c(t.replace_nanosecond(0).unwrap_or(t))
}

/// The reward as the coupon shows it: `10 %`, `5.00 EUR`, `200 points`, `Gift`.
pub fn reward_text(reward: &Value, language: Option<&str>) -> String {
    let value = reward["value"].as_i64().unwrap_or_default();
    let french = language.is_some_and(|l| l.starts_with("fr"));
    match reward["kind"].as_str().unwrap_or_default() {
        "percent" => format!("{value} %"),
        "amount" => {
            let currency = reward["currency"].as_str().unwrap_or_default();
            format!("{} {currency}", format_amount(value, currency_exponent(currency)))
        }
        "points" => format!("{value} points"),
        _ if french => "Cadeau".to_owned(),
        _ => "Gift".to_owned(),
    }
}

/// A coupon's `locations`: up to 10 of the offer's stores (every store when it names none),
/// nearest the holder's home store first, since Wallet ignores a coupon's relevant date.
pub async fn locations(store: &dyn Store, serial: &str) -> Result<Vec<Value>> {
    let Some(instance) = store.offer_instance_by_pass(serial).await? else { return Ok(Vec::new()) };
    let Some(offer) = store.offer(&instance.offer_id).await? else { return Ok(Vec::new()) };
    let home = match store.member(&instance.member_id).await?.and_then(|m| m.home_store_id) {
        Some(id) => store.shop(&id).await?,
        None => None,
    };
    let shops: Vec<ShopRecord> = store.all_shops().await?.into_iter().filter(|s| offer.covers(&s.id)).collect();
    Ok(locations_near(&shops, home.as_ref()))
}

/// The text in `language`, else the first one given.
pub fn localized(texts: &Value, language: Option<&str>) -> String {
    let map = texts.as_object();
    let found = language.and_then(|l| map.and_then(|m| m.get(l))).or_else(|| map.and_then(|m| m.values().next()));
    found.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The coupon pass's change after a redemption ("Used on …", voided) or its reversal (restored).
pub fn on_redemption(passes: Arc<Passes>) -> CouponChange {
    Arc::new(move |_instance, redemption, pass| {
        let mut data = pass.data.as_object().cloned().unwrap_or_default();
        let voided = redemption.reversed_at.is_none();
        if voided {
            data.insert("used".into(), json!(format!("{} · {}", rfc3339(redemption.redeemed_at), redemption.store_id)));
        } else {
            data.remove("used");
        }
        let data = Value::Object(data);
        if let Some(template) = passes.templates.get(&pass.template) {
            template.validate_data(&data)?;
        }
        Ok(Some(PassChange { data, voided, message: None, campaign: None }))
    })
}
