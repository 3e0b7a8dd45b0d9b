//! The e-mail head office gets when a store's campaign waits for approval: one to each active
//! HQ console user, with the approvals page's link. The campaign's name and store are the
//! retailer's own staff's words, sent to the retailer's own staff.

use anyhow::Result;

use crate::loyalty::Loyalty;
use crate::mail::Mail;

/// Mails every active hq_admin and hq_marketer about campaign `id`, if it still waits.
pub async fn send(loyalty: &Loyalty, id: &str) -> Result<()> {
    let store = loyalty.passes.store.as_ref();
    let Some(campaign) = store.campaign(id).await?.filter(|c| c.status == "pending_approval") else {
        return Ok(());
    };
    let link = format!("{}/console/approvals", loyalty.passes.public_url);
    let scope = campaign.scope.strip_prefix("store:").unwrap_or(&campaign.scope).to_owned();
    for user in store.list_users().await? {
        if user.disabled_at.is_some() || !matches!(user.role.as_str(), "hq_admin" | "hq_marketer") {
            continue;
        }
        let (subject, text) = if user.language.as_deref() == Some("fr") {
            (
                format!("Campagne à valider : {} ({scope})", campaign.name),
                format!(
                    "Bonjour,\n\nLe magasin {scope} a soumis la campagne « {} », qui attend votre validation :\n\n{link}\n",
                    campaign.name
                ),
            )
        } else {
            (
                format!("Campaign waiting for approval: {} ({scope})", campaign.name),
                format!(
                    "Hello,\n\nStore {scope} submitted the campaign \"{}\", which waits for your approval:\n\n{link}\n",
                    campaign.name
                ),
            )
        };
        loyalty.mailer.send(Mail { to: user.email.clone(), subject, text }).await?;
    }
    Ok(())
}
