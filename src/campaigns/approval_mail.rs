//! The e-mail head office gets when a store's campaign (or offer) waits for approval: one to
//! each active HQ console user, with the approvals page's link. The campaign's name and store
//! are the retailer's own staff's words, sent to the retailer's own staff.

use anyhow::Result;

use crate::loyalty::Loyalty;
use crate::mail::Mail;

/// Mails every active hq_admin and hq_marketer about campaign `id`, if it still waits.
pub async fn send(loyalty: &Loyalty, id: &str) -> Result<()> {
    let store = loyalty.passes.store.as_ref();
    let Some(campaign) = store.campaign(id).await?.filter(|c| c.status == "pending_approval") else {
        return Ok(());
    };
    let scope = campaign.scope.strip_prefix("store:").unwrap_or(&campaign.scope).to_owned();
    let name = campaign.name;
    mail_hq(loyalty, |french, link| {
        if french {
            (
                format!("Campagne à valider : {name} ({scope})"),
                format!("Bonjour,\n\nLe magasin {scope} a soumis la campagne « {name} », qui attend votre validation :\n\n{link}\n"),
            )
        } else {
            (
                format!("Campaign waiting for approval: {name} ({scope})"),
                format!("Hello,\n\nStore {scope} submitted the campaign \"{name}\", which waits for your approval:\n\n{link}\n"),
            )
        }
    })
    .await
}

/// Mails every active hq_admin and hq_marketer about offer `id`, if it still waits.
pub async fn send_offer(loyalty: &Loyalty, id: &str) -> Result<()> {
    let store = loyalty.passes.store.as_ref();
    let Some(offer) = store.offer(id).await?.filter(|o| o.status == "pending_approval") else {
        return Ok(());
    };
    let scope = offer.store_id.clone().unwrap_or_default();
    let title = |lang: &str| {
        let t = &offer.title;
        t.get(lang)
            .or_else(|| t.as_object().and_then(|m| m.values().next()))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let (fr, en) = (title("fr"), title("en"));
    let api = format!("/api/v1/offers/{id}/approve");
    mail_hq(loyalty, |french, _| {
        if french {
            (
                format!("Offre à valider : {fr} ({scope})"),
                format!("Bonjour,\n\nLe magasin {scope} a proposé l'offre « {fr} » ({id}), qui attend votre validation ({api}).\n"),
            )
        } else {
            (
                format!("Offer waiting for approval: {en} ({scope})"),
                format!("Hello,\n\nStore {scope} proposed the offer \"{en}\" ({id}), which waits for your approval ({api}).\n"),
            )
        }
    })
    .await
}

/// Mails every active head-office console user `texts(french, approvals link)`.
async fn mail_hq(loyalty: &Loyalty, texts: impl Fn(bool, &str) -> (String, String)) -> Result<()> {
    let link = format!("{}/console/approvals", loyalty.passes.public_url);
    for user in loyalty.passes.store.list_users().await? {
        if user.disabled_at.is_some() || !matches!(user.role.as_str(), "hq_admin" | "hq_marketer") {
            continue;
        }
        let (subject, text) = texts(user.language.as_deref() == Some("fr"), &link);
        loyalty.mailer.send(Mail { to: user.email.clone(), subject, text }).await?;
    }
    Ok(())
}
