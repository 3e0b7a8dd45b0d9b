//! Offers linked to the loyalty card in Google Wallet: a saved loyalty object lists the offer
//! objects of its holder's instances in `linkedOfferIds` and, up to 50, in `linkedObjectIds`
//! (which shows them in the wallet). Google cannot unlink, so used and expired instances stay
//! listed, their objects COMPLETED or EXPIRED; only objects written at Google are named. The
//! links are written with the loyalty object, and again when a new offer object is written.

use anyhow::Result;
use serde_json::{Value, json};

use super::client::WalletApi;
use super::mapping::{self, GoogleContext};
use crate::store::{MemberLookup, PassRecord, Store};
use crate::templates::Template;

/// Google shows at most this many objects linked to one object.
const MAX_LINKED_OBJECTS: usize = 50;

/// The offer object ids of the member's instances written at Google (and `new_serial`'s,
/// being written), oldest first: the first 50 linked stay the first 50.
async fn offer_object_ids(
    store: &dyn Store,
    ctx: &GoogleContext<'_>,
    member_id: &str,
    new_serial: Option<&str>,
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for (instance, _) in store.member_offers(member_id, None).await?.into_iter().rev() {
        let Some(serial) = instance.pass_serial else { continue };
        let written = store.google_object(&serial).await?.is_some_and(|o| o.synced_version.is_some());
        if written || new_serial == Some(serial.as_str()) {
            ids.push(mapping::object_id(ctx, &serial));
        }
    }
    Ok(ids)
}

fn links(ids: &[String]) -> Value {
    json!({"linkedOfferIds": ids, "linkedObjectIds": ids.iter().take(MAX_LINKED_OBJECTS).collect::<Vec<_>>()})
}

/// Adds the links of the loyalty pass's holder's offers to its object.
pub async fn link(
    store: &dyn Store,
    ctx: &GoogleContext<'_>,
    pass: &PassRecord,
    template: &Template,
    object: &mut Value,
) -> Result<()> {
    let card = template.definition.roles.card_number.as_ref().and_then(|f| pass.data.get(f)).and_then(Value::as_str);
    let Some(card) = card else { return Ok(()) };
    let lookup = MemberLookup { card_number: Some(card.to_owned()), ..Default::default() };
    let Some(member) = store.find_members(&lookup).await?.into_iter().next() else { return Ok(()) };
    let ids = offer_object_ids(store, ctx, &member.id, None).await?;
    if !ids.is_empty()
        && let (Some(target), Value::Object(add)) = (object.as_object_mut(), links(&ids))
    {
        target.extend(add);
    }
    Ok(())
}

/// After the offer object of `serial` is first written: links it to its holder's loyalty
/// object, if the holder saved that one.
pub async fn relink(store: &dyn Store, api: &dyn WalletApi, ctx: &GoogleContext<'_>, serial: &str) -> Result<()> {
    let Some(instance) = store.offer_instance_by_pass(serial).await? else { return Ok(()) };
    let Some(card) = store.member(&instance.member_id).await?.and_then(|m| m.pass_serial) else { return Ok(()) };
    let Some(loyalty) = store.google_object(&card).await?.filter(|o| o.saved) else { return Ok(()) };
    let ids = offer_object_ids(store, ctx, &instance.member_id, Some(serial)).await?;
    api.patch_or_insert("loyaltyObject", &loyalty.object_id, &links(&ids)).await?;
    Ok(())
}
