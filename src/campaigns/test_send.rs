//! "Send a test": a draft's (or a waiting campaign's) message to one loyalty card's pass, the
//! test card the campaign names, through the same pass change as a real send (Apple push,
//! Google sync) but outside caps and figures: no recipient row, no counters, no pressure.

use serde_json::json;

use super::service::Campaigns;
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::store::{AuditEntry, MemberLookup, MemberRecord, PassRecord};

const FIELD: &str = "test_card_number";

/// Where a test went.
#[derive(Debug, Clone, PartialEq)]
pub struct TestSent {
    pub card_number: String,
    pub serial_number: String,
}

impl Campaigns {
    /// Sends the campaign's text (in the test member's language, as a real send picks it) to
    /// the test card's pass only; recorded in the history as `test_sent`.
    pub async fn send_test(&self, actor: &Actor, id: &str) -> Result<TestSent> {
        let campaign = self.get(actor, id).await?;
        if !matches!(campaign.status.as_str(), "draft" | "pending_approval") {
            let message = format!(
                "campaign {id} is {}: tests go out from a draft or a campaign waiting for approval",
                campaign.status
            );
            return Err(Error::conflict(message, "status"));
        }
        let card = campaign
            .test_card_number
            .clone()
            .ok_or_else(|| Error::unprocessable("the campaign has no test_card_number to send a test to", FIELD))?;
        let (member, serial) = self.test_holder(actor, &card).await?;
        let text = super::pick_message(&campaign.messages, member.language.as_deref()).to_owned();
        let offer_fields = super::worker::offer_fields(&self.templates);
        let change = Box::new(move |pass: &PassRecord| {
            super::plan::campaign_change(pass, &offer_fields, text, None, false).map_err(|rule| match rule {
                super::plan::NO_OFFER_FIELD => {
                    Error::unprocessable("the test card's pass template has no field for campaign messages", FIELD)
                }
                _ => Error::unprocessable("the test card's pass is voided", FIELD),
            })
        });
        let pass = self
            .store
            .update_pass(&serial, change)
            .await?
            .ok_or_else(|| Error::unprocessable("the test card's pass is gone", FIELD))?;
        let entry = AuditEntry {
            actor: actor.label(),
            role: Some(actor.role.as_str().to_owned()),
            action: "test_sent".into(),
            object_kind: "campaign".into(),
            object_id: campaign.id.clone(),
            store_id: super::audience::Audience::parse(&campaign.scope).and_then(|a| a.store_id().map(str::to_owned)),
            detail: json!({"card_number": card, "serial_number": pass.serial_number, "version": pass.version}),
        };
        self.store.insert_audit(&entry).await?;
        Ok(TestSent { card_number: card, serial_number: pass.serial_number })
    }

    /// The member holding test card `card` and their pass's serial: a member with a pass, and
    /// for a store manager one of its own store (a test must not become a way around HQ's
    /// approval to reach anyone's phone). 422 naming `test_card_number` otherwise.
    pub(super) async fn test_holder(&self, actor: &Actor, card: &str) -> Result<(MemberRecord, String)> {
        let lookup = MemberLookup { card_number: Some(card.trim().to_owned()), ..MemberLookup::default() };
        let member = self.store.find_members(&lookup).await?.into_iter().next();
        let Some(member) = member else {
            return Err(Error::unprocessable(format!("no member has card number {card:?}"), FIELD));
        };
        if let Some(own) = actor.own_store()
            && member.home_store_id.as_deref() != Some(own)
        {
            let message = format!("a test card of a {} must belong to a member of store {own:?}", actor.role);
            return Err(Error::unprocessable(message, FIELD));
        }
        let Some(serial) = member.pass_serial.clone() else {
            return Err(Error::unprocessable(format!("card number {card:?} has no pass yet"), FIELD));
        };
        Ok((member, serial))
    }
}
