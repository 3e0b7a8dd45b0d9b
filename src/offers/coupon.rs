//! Each instance's Apple coupon pass (template `offer`, when loaded): made with the instance,
//! marked "Used on …" and voided by a redemption, restored by its reversal. The pass changes
//! in the redemption's transaction, so its devices are pushed with it.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Offers;
use crate::error::Result;
use crate::passes::Passes;
use crate::store::{CouponChange, NewPass, OfferInstanceRecord, OfferRecord, PassChange};
use crate::templates::datetime::rfc3339;

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
        Ok(json!({
            "title": pick(&offer.title),
            "description": pick(&offer.description),
            "terms": pick(&offer.terms),
            "code": instance.code,
            "valid_until": rfc3339(offer.valid_until),
        }))
    }
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
