//! The loyalty card's "Your offers" (back of the pass): the holder's live offers with a link
//! that adds each coupon to Apple Wallet, so the card alone is enough at the till. Refreshed
//! after an issue, a redemption or its reversal, only when its text changes (each change is a
//! push); a loyalty template without the `your_offers` field is left alone.

use serde_json::{Map, Value, json};

use super::coupon::{localized, reward_text};
use super::instance_status;
use crate::passes::Passes;
use crate::store::{OfferInstanceRecord, OfferRecord, Store, now_ms};

/// The loyalty template fields this writes: the text, and the same with links.
const TEXT_FIELD: &str = "your_offers";
const LINKS_FIELD: &str = "your_offers_links";

/// The member's live offers (redeemable now), newest first.
pub async fn live(store: &dyn Store, member_id: &str) -> anyhow::Result<Vec<(OfferInstanceRecord, OfferRecord)>> {
    let now = now_ms();
    let all = store.member_offers(member_id, Some("live")).await?;
    Ok(all.into_iter().filter(|(i, o)| instance_status(i, o, now) == "live").collect())
}

/// `<`, `>`, `&` and quotes escaped, for the pass's `attributedValue`.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\'', "&#39;").replace('"', "&quot;")
}

/// Rewrites the card's "Your offers" if it changed; failures are logged (the change that
/// caused it stands).
pub async fn refresh(passes: &Passes, member_id: &str) {
    if let Err(e) = try_refresh(passes, member_id).await {
        tracing::warn!(member = %member_id, "refreshing the offers on the loyalty card: {e}");
    }
}

async fn try_refresh(passes: &Passes, member_id: &str) -> crate::error::Result<()> {
    let store = passes.store.as_ref();
    let Some(member) = store.member(member_id).await? else { return Ok(()) };
    let Some(serial) = &member.pass_serial else { return Ok(()) };
    let Some(card) = store.pass(serial).await?.filter(|p| !p.voided) else { return Ok(()) };
    let has_field = passes.templates.get(&card.template).is_some_and(|t| t.definition.fields.contains_key(TEXT_FIELD));
    if !has_field {
        return Ok(());
    }
    let language = member.language.as_deref();
    let (mut lines, mut links) = (Vec::new(), Vec::new());
    for (instance, offer) in live(store, member_id).await? {
        let title = localized(&offer.title, language);
        let until = crate::templates::datetime::rfc3339(offer.valid_until);
        let day = until.get(..10).unwrap_or_default();
        let details =
            format!("{} · {day} · {}", reward_text(&offer.reward, language), instance.code.unwrap_or_default());
        lines.push(format!("{title} · {details}"));
        let pass = match &instance.pass_serial {
            Some(s) => store.pass(s).await?,
            None => None,
        };
        links.push(match pass {
            Some(p) => {
                format!("<a href='{}'>{}</a> · {}", escape(&passes.urls(&p).0), escape(&title), escape(&details))
            }
            None => escape(&format!("{title} · {details}")),
        });
    }
    let (text, html) = (lines.join("\n"), links.join("\n"));
    if card.data.get(TEXT_FIELD).and_then(Value::as_str).unwrap_or_default() == text
        && card.data.get(LINKS_FIELD).and_then(Value::as_str).unwrap_or_default() == html
    {
        return Ok(());
    }
    let mut patch = Map::new();
    patch.insert(TEXT_FIELD.into(), json!(text));
    patch.insert(LINKS_FIELD.into(), json!(html));
    passes.change(serial, Some(patch), None).await?;
    Ok(())
}
