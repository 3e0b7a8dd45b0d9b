//! Forgotten passwords: a one-time link, valid an hour, mailed (through the mail queue) to the
//! address of an active user. Asking reveals nothing: the answer is the same for any address.
//! Using the link sets the new password, ends the user's sessions and unlocks the account.

use anyhow::Result;

use super::password;
use crate::error::Error;
use crate::jobs::mail::MailJob;
use crate::keys::key_hash;
use crate::mail::{Mail, Mailer};
use crate::store::{Store, now_ms};
use crate::tokens;

/// How long a reset link works.
const VALID_MS: i64 = 3_600_000;

/// Queues the reset mail when `email` is an active user's; the same outcome either way.
pub async fn request(store: &dyn Store, email: &str) -> Result<()> {
    let email = email.trim().to_lowercase();
    if let Some(user) = store.user_by_email(&email).await?.filter(|u| u.disabled_at.is_none()) {
        let job = MailJob::PasswordReset { user_id: user.id };
        store.queue_mail(&job.key(), &serde_json::to_string(&job)?).await?;
    }
    Ok(())
}

/// Draws the link and mails it (run by the mail queue; the token never sits in the queue).
pub async fn send(store: &dyn Store, mailer: &dyn Mailer, public_url: &str, user_id: &str) -> Result<()> {
    let Some(user) = store.user(user_id).await?.filter(|u| u.disabled_at.is_none()) else { return Ok(()) };
    let token = tokens::random_hex(32);
    store.insert_password_reset(&key_hash(&token), &user.id, now_ms() + VALID_MS).await?;
    let link = format!("{public_url}/console/password/reset/{token}");
    let (subject, text) = if user.language.as_deref() == Some("fr") {
        (
            "Réinitialiser votre mot de passe – console Passerelle".to_owned(),
            format!(
                "Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable une heure, une seule fois) :\n\n{link}\n\nSi vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.\n"
            ),
        )
    } else {
        (
            "Reset your password – Passerelle console".to_owned(),
            format!(
                "Hello,\n\nTo choose a new password, open this link (valid for an hour, once):\n\n{link}\n\nIf you did not ask for it, ignore this message: your password stays as it is.\n"
            ),
        )
    };
    mailer.send(Mail { to: user.email, subject, text }).await
}

/// Whether a reset link still works.
pub async fn valid(store: &dyn Store, token: &str) -> Result<bool> {
    Ok(store.password_reset_user(&key_hash(token), now_ms()).await?.is_some())
}

/// Uses a reset link: 422 for a weak password; 404 when the link is used, expired or unknown.
pub async fn reset(store: &dyn Store, token: &str, new_password: &str) -> crate::error::Result<()> {
    password::check(new_password)?;
    let hash = password::hash(new_password).await?;
    match store.reset_password(&key_hash(token), &hash, now_ms()).await? {
        Some(user) => {
            tracing::info!(user = %user, "console password reset");
            Ok(())
        }
        None => Err(Error::NotFound("this link was used or has expired".into())),
    }
}
