//! Provisional cards: what a sign-up with a contact already on file gets, so the page says the
//! same to everyone (nothing tells a stranger who is a member). The card is a contactless
//! member record (a till credits it by card number like any card); the member on file is
//! mailed, at most once an hour, a link that merges it into their account (points and receipts
//! move over, the provisional pass is voided); unmerged, it is voided after PASSERELLE_PROVISIONAL_CARD_DAYS.

use crate::access::Actor;
use std::sync::Arc;
use std::time::Duration;

use super::Loyalty;
use super::members::{self, NewMember};
use super::verification::{address, french, organization, token_hash};
use crate::error::Result;
use crate::mail::Mail;
use crate::store::{MemberRecord, PassRecord, PointsEntry, ProvisionalCard, now_ms};
use crate::tokens;

/// The owner is mailed at most once in this period, however many sign-ups use their contact.
const MAIL_PERIOD_MS: i64 = 3600 * 1000;

/// Gives the visitor a card of their own, linked to no member, and tells `owner_id` (the member
/// whose contact was typed) how to merge it.
pub async fn create(
    loyalty: &Loyalty,
    input: NewMember,
    owner_id: &str,
    days: u32,
) -> Result<(MemberRecord, PassRecord)> {
    let (member, pass) = members::create_contactless(loyalty, input).await?;
    let token = tokens::random_hex(16);
    let card = ProvisionalCard {
        member_id: member.id.clone(),
        owner_member_id: owner_id.to_owned(),
        merge_token_hash: token_hash(&token),
        created_at: now_ms(),
        mailed_at: None,
        merged_at: None,
        voided_at: None,
    };
    loyalty.passes.store.insert_provisional_card(&card).await?;
    // The page says the same whether or not the mail could go.
    if let Err(e) = notify_owner(loyalty, owner_id, &member.id, &token, days).await {
        tracing::error!(member = %owner_id, "mailing the merge link of a provisional card: {e:#}");
    }
    Ok((member, pass))
}

/// The public URL of a merge link.
pub fn merge_url(loyalty: &Loyalty, token: &str) -> String {
    format!("{}/merge/{token}", loyalty.passes.public_url)
}

async fn notify_owner(loyalty: &Loyalty, owner_id: &str, card_id: &str, token: &str, days: u32) -> Result<()> {
    let owner = members::get(loyalty, owner_id).await?;
    if owner.email.is_none() {
        tracing::info!(member = %owner.id, "a sign-up used a phone-only member's number: no e-mail to send the merge link to");
        return Ok(());
    }
    let now = now_ms();
    if !loyalty.passes.store.claim_provisional_mail(card_id, now - MAIL_PERIOD_MS, now).await? {
        tracing::info!(member = %owner.id, "merge link already mailed within the hour: not mailed again");
        return Ok(());
    }
    let to = address(&owner)?;
    let merge = merge_url(loyalty, token);
    let card_page = match owner.pass_serial.as_deref() {
        Some(serial) => loyalty.passes.store.pass(serial).await?.map(|p| loyalty.passes.urls(&p).1),
        None => None,
    };
    let org = organization(loyalty);
    // Only our words and our links: nothing the visitor typed reaches the member's inbox.
    let (subject, text) = if french(&owner) {
        let own = card_page
            .map(|p| format!("\n\nVotre propre carte est ici (gardez ce lien pour vous) :\n\n{p}"))
            .unwrap_or_default();
        (
            format!("Une nouvelle carte avec votre adresse – {org}"),
            format!(
                "Bonjour,\n\nQuelqu'un s'est inscrit à notre programme de fidélité avec votre adresse et a reçu une nouvelle carte. Si c'était vous, ouvrez ce lien pour regrouper cette carte (et ses points) avec votre compte ; la nouvelle carte sera alors annulée :\n\n{merge}\n\nSinon, ignorez ce message : la nouvelle carte sera annulée dans {days} jours.{own}\n\n{org}"
            ),
        )
    } else {
        let own = card_page
            .map(|p| format!("\n\nYour own card is here (keep this link to yourself):\n\n{p}"))
            .unwrap_or_default();
        (
            format!("A new card with your address – {org}"),
            format!(
                "Hello,\n\nSomeone joined our loyalty programme with your address and was given a new card. If it was you, open this link to merge that card (and its points) into your account; the new card is then cancelled:\n\n{merge}\n\nIf it was not you, ignore this message: the new card is cancelled in {days} days.{own}\n\n{org}"
            ),
        )
    };
    loyalty.mailer.send(Mail { to, subject, text }).await?;
    Ok(())
}

/// What following a merge link did.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeOutcome {
    /// The card's points moved to this member and the card was voided.
    Merged(Box<MemberRecord>),
    /// Merged already, or voided (expired).
    Closed,
    /// No such link.
    Unknown,
}

/// Whether a merge link opens an open card (for the confirmation page; changes nothing).
pub async fn merge_open(loyalty: &Loyalty, token: &str) -> Result<Option<bool>> {
    let card = loyalty.passes.store.provisional_card_by_token(&token_hash(token)).await?;
    Ok(card.map(|c| c.merged_at.is_none() && c.voided_at.is_none()))
}

/// Merges the link's card into its owner's account: its points move over (idempotent ledger
/// entries on both) and its receipts too, then its pass is voided (devices holding it are pushed).
pub async fn merge(loyalty: &Loyalty, token: &str) -> Result<MergeOutcome> {
    let store = &loyalty.passes.store;
    let Some(card) = store.provisional_card_by_token(&token_hash(token)).await? else {
        return Ok(MergeOutcome::Unknown);
    };
    // Claimed first: of two clicks, one merges.
    if !store.claim_provisional_merge(&card.member_id, now_ms()).await? {
        return Ok(MergeOutcome::Closed);
    }
    let provisional = members::get(loyalty, &card.member_id).await?;
    let mut owner = members::get(loyalty, &card.owner_member_id).await?;
    let points = provisional.points;
    if points != 0 {
        let entry = |delta: i64| PointsEntry {
            delta,
            reason: Some(format!("card {} merged", provisional.card_number)),
            store_id: None,
            idempotency_key: Some(format!("merge:{}", provisional.id)),
        };
        let moved = members::add_points(loyalty, &Actor::flow("merge"), &owner.id, entry(points)).await?;
        members::add_points(loyalty, &Actor::flow("merge"), &provisional.id, entry(-points)).await?;
        owner.points = moved.entry.balance_after;
    }
    // Receipts a till linked to the provisional card (by its number) follow it.
    let receipts = crate::receipts::move_to(&loyalty.receipts, &provisional.id, &owner).await?;
    if let Some(serial) = &provisional.pass_serial {
        loyalty.passes.void(serial).await?;
    }
    tracing::info!(member = %owner.id, card = %provisional.id, points, receipts, "provisional card merged");
    Ok(MergeOutcome::Merged(Box::new(owner)))
}

/// Voids the provisional cards older than `days` that nobody merged; returns how many.
pub async fn void_expired(loyalty: &Loyalty, days: u32, now: i64) -> Result<usize> {
    let before = now - i64::from(days) * 86_400_000;
    let voided = loyalty.passes.store.void_provisional_cards(before, now).await?;
    for id in &voided {
        let serial = loyalty.passes.store.member(id).await?.and_then(|m| m.pass_serial);
        if let Some(serial) = serial
            && let Err(e) = loyalty.passes.void(&serial).await
        {
            tracing::error!(card = %id, "voiding an expired provisional card's pass: {e}");
        }
    }
    Ok(voided.len())
}

/// Voids expired provisional cards until `stopped`: every hour, or more often for a lifetime
/// shorter than a day (a 24th of it, at least every second).
pub async fn run_sweep(loyalty: Arc<Loyalty>, days: u32, stopped: tokio::sync::watch::Receiver<bool>) {
    let interval = Duration::from_secs(u64::from(days) * 3600).min(Duration::from_secs(3600));
    let sweep = || {
        let loyalty = loyalty.clone();
        async move {
            match void_expired(&loyalty, days, now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(cards = n, "voided provisional cards nobody merged"),
                Err(e) => tracing::error!("voiding expired provisional cards: {e}"),
            }
        }
    };
    crate::jobs::background::every(interval, stopped, sweep).await;
}
