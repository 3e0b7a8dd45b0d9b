//! Links mailed to members: the one-time link that verifies their e-mail address and the
//! consent withdrawal link on the back of their loyalty pass.
//!
//! Tokens are 128 random bits; only their SHA-256 is stored.

use super::Loyalty;
use super::pass::pass_update;
use crate::error::{Error, Result};
use crate::mail::Mail;
use crate::store::{MemberRecord, MemberTokenRecord, MemberUpdate, StoreError, TokenPurpose, now_ms};
use crate::tokens;

/// How long a verification link works.
pub const VERIFY_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// The template field of the loyalty pass that carries the consent withdrawal link.
pub const CONSENT_URL_FIELD: &str = "consent_url";

/// The SHA-256 (hex) under which a token is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(openssl::sha::sha256(token.as_bytes()))
}

/// A fresh token (to put in a link) and the record to store for it.
pub fn new_token(purpose: TokenPurpose, member_id: &str, email: Option<String>) -> (String, MemberTokenRecord) {
    let token = tokens::random_hex(16);
    let record = MemberTokenRecord {
        token_hash: token_hash(&token),
        member_id: member_id.to_owned(),
        purpose,
        email,
        created_at: now_ms(),
        used_at: None,
    };
    (token, record)
}

/// The public URL of the consent withdrawal page of a token.
pub fn consent_url(loyalty: &Loyalty, token: &str) -> String {
    format!("{}/consent/{token}", loyalty.passes.public_url)
}

pub(super) fn french(member: &MemberRecord) -> bool {
    member.language.as_deref().is_some_and(|l| l.to_ascii_lowercase().starts_with("fr"))
}

pub(super) fn address(member: &MemberRecord) -> Result<String> {
    member
        .email
        .clone()
        .ok_or_else(|| Error::unprocessable(format!("member {} has no e-mail address", member.id), "email"))
}

/// Queues the verification e-mail (the job queue sends it, and retries while the mail server
/// is unreachable); 422 `email` when the member has no address.
pub async fn queue_verification(loyalty: &Loyalty, member: &MemberRecord) -> Result<()> {
    address(member)?;
    let job = crate::jobs::mail::MailJob::VerifyEmail { member_id: member.id.clone() };
    let payload = serde_json::to_string(&job).map_err(anyhow::Error::from)?;
    loyalty.passes.store.queue_mail(&job.key(), &payload).await?;
    Ok(())
}

/// Mails the member a one-time link that marks their current e-mail address as verified. The
/// address is not verified yet: nothing a visitor typed (their name) goes into the mail.
pub async fn send_verification(loyalty: &Loyalty, member: &MemberRecord) -> Result<()> {
    let to = address(member)?;
    let (token, record) = new_token(TokenPurpose::VerifyEmail, &member.id, Some(to.clone()));
    loyalty.passes.store.insert_member_token(&record).await?;
    let url = format!("{}/verify/{token}", loyalty.passes.public_url);
    let org = organization(loyalty);
    let (subject, text) = if french(member) {
        (
            format!("Confirmez votre adresse e-mail – {org}"),
            format!(
                "Bonjour,\n\nPour confirmer votre adresse e-mail, ouvrez ce lien (valable 7 jours, une seule fois) :\n\n{url}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n\n{org}"
            ),
        )
    } else {
        (
            format!("Confirm your e-mail address – {org}"),
            format!(
                "Hello,\n\nTo confirm your e-mail address, open this link (it works once, for 7 days):\n\n{url}\n\nIf you did not ask for this, ignore this message.\n\n{org}"
            ),
        )
    };
    loyalty.mailer.send(Mail { to, subject, text }).await.map_err(|e| {
        tracing::error!(member = %member.id, "sending the verification e-mail: {e:#}");
        Error::Unavailable(
            "the mail server could not be reached, so the verification e-mail was not sent: try again later".into(),
        )
    })?;
    Ok(())
}

/// The retailer's name, as its loyalty template shows it (or "Passerelle").
pub fn organization(loyalty: &Loyalty) -> String {
    loyalty
        .passes
        .templates
        .get(super::pass::LOYALTY_TEMPLATE)
        .and_then(|t| t.render(&serde_json::Map::new()).get("organizationName")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "Passerelle".into())
}

/// What following a verification link did.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifyOutcome {
    /// The address is now verified.
    Verified(Box<MemberRecord>),
    /// The link had been followed already.
    AlreadyUsed,
    /// Too old, or the member's address changed since it was sent.
    Expired,
    /// No such link.
    Unknown,
}

/// Follows a verification link: it works once, within `VERIFY_TTL_MS`, for the address it was sent to.
pub async fn verify_email(loyalty: &Loyalty, token: &str) -> Result<VerifyOutcome> {
    let hash = token_hash(token);
    let Some(record) = loyalty.passes.store.member_token(&hash).await? else { return Ok(VerifyOutcome::Unknown) };
    if record.purpose != TokenPurpose::VerifyEmail {
        return Ok(VerifyOutcome::Unknown);
    }
    if record.used_at.is_some() {
        return Ok(VerifyOutcome::AlreadyUsed);
    }
    let now = now_ms();
    if now - record.created_at > VERIFY_TTL_MS {
        return Ok(VerifyOutcome::Expired);
    }
    // Used first: of two concurrent clicks, one verifies and the other is told it was used.
    if !loyalty.passes.store.use_member_token(&hash, now).await? {
        return Ok(VerifyOutcome::AlreadyUsed);
    }
    let sent_to = record.email.clone();
    let update: MemberUpdate = Box::new(move |current: &MemberRecord| {
        if current.email.is_none() || current.email != sent_to {
            return Err(Error::conflict("the member's e-mail address changed since the link was sent", "email"));
        }
        let mut m = current.clone();
        if !m.email_verified {
            m.email_verified = true;
            m.updated_at = now_ms();
        }
        Ok(m)
    });
    match loyalty.passes.store.update_member(&record.member_id, update, pass_update(loyalty)).await {
        Ok(Some((member, _))) => {
            crate::receipts::link_pending_logged(&loyalty.receipts, &member).await;
            Ok(VerifyOutcome::Verified(Box::new(member)))
        }
        Ok(None) => Ok(VerifyOutcome::Unknown),
        Err(StoreError::Refused(Error::Conflict { .. })) => Ok(VerifyOutcome::Expired),
        Err(e) => Err(e.into()),
    }
}

/// The member a consent withdrawal link belongs to; `None` for an unknown link.
pub async fn consent_member(loyalty: &Loyalty, token: &str) -> Result<Option<MemberRecord>> {
    let Some(record) = loyalty.passes.store.member_token(&token_hash(token)).await? else { return Ok(None) };
    if record.purpose != TokenPurpose::WithdrawConsent {
        return Ok(None);
    }
    Ok(loyalty.passes.store.member(&record.member_id).await?)
}

/// Withdraws the marketing consent of the link's member (again and again: nothing changes
/// the second time); `None` for an unknown link.
pub async fn withdraw_consent(loyalty: &Loyalty, token: &str) -> Result<Option<MemberRecord>> {
    let hash = token_hash(token);
    let Some(record) = loyalty.passes.store.member_token(&hash).await? else { return Ok(None) };
    if record.purpose != TokenPurpose::WithdrawConsent {
        return Ok(None);
    }
    let withdrawn = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = withdrawn.clone();
    let update: MemberUpdate = Box::new(move |current: &MemberRecord| {
        let mut m = current.clone();
        seen.store(m.consent_marketing, std::sync::atomic::Ordering::Relaxed);
        if m.consent_marketing {
            let now = now_ms();
            m.consent_marketing = false;
            m.consent_at = Some(now);
            m.updated_at = now;
        }
        Ok(m)
    });
    let Some((member, _)) = loyalty.passes.store.update_member(&record.member_id, update, pass_update(loyalty)).await?
    else {
        return Ok(None);
    };
    // The first use is recorded; the link keeps working.
    loyalty.passes.store.use_member_token(&hash, now_ms()).await?;
    if withdrawn.load(std::sync::atomic::Ordering::Relaxed) {
        let actor = crate::access::Actor::flow("consent link");
        super::consent::record(loyalty.passes.store.as_ref(), &actor, &member).await?;
    }
    Ok(Some(member))
}
