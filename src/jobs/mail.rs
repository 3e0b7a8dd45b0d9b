//! The mail handler: sends the e-mails queued by the API (`verify_email`: a member's
//! verification link; `approval_waiting`, `offer_waiting`: head office told a store's campaign or offer waits), so an SMTP server that is down delays a mail instead of failing the
//! request. The payload names what to send; the link's token is drawn when the mail goes out,
//! so no usable link ever sits in the queue.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::queue::{Job, JobKind};
use super::runner::{Attempt, Handler};
use crate::loyalty::Loyalty;

/// What a mail job sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mail", rename_all = "snake_case")]
pub enum MailJob {
    /// The one-time link that verifies the member's current e-mail address.
    VerifyEmail { member_id: String },
    /// Head office's console users told that a store's campaign waits for their decision.
    ApprovalWaiting { campaign_id: String },
    /// Head office's console users told that a store's offer waits for their decision.
    OfferWaiting { offer_id: String },
    /// A console user's one-time link to choose a new password.
    PasswordReset { user_id: String },
}

impl MailJob {
    /// The job's key: one waiting job per mail and member.
    pub fn key(&self) -> String {
        match self {
            Self::VerifyEmail { member_id } => format!("verify_email:{member_id}"),
            Self::ApprovalWaiting { campaign_id } => format!("approval_waiting:{campaign_id}"),
            Self::PasswordReset { user_id } => format!("password_reset:{user_id}"),
            Self::OfferWaiting { offer_id } => format!("offer_waiting:{offer_id}"),
        }
    }
}

pub struct MailHandler {
    pub loyalty: Arc<Loyalty>,
}

impl MailHandler {
    async fn send(&self, job: &MailJob) -> Result<(), (String, bool)> {
        match job {
            MailJob::VerifyEmail { member_id } => {
                let member = self.loyalty.passes.store.member(member_id).await.map_err(|e| (e.to_string(), true))?;
                // Erased since, or no address left: nothing to send.
                let Some(member) = member.filter(|m| m.email.is_some()) else { return Ok(()) };
                crate::loyalty::verification::send_verification(&self.loyalty, &member)
                    .await
                    .map_err(|e| (e.to_string(), true))
            }
            MailJob::PasswordReset { user_id } => {
                let (store, passes) = (self.loyalty.passes.store.as_ref(), &self.loyalty.passes);
                crate::users::reset::send(store, self.loyalty.mailer.as_ref(), &passes.public_url, user_id)
                    .await
                    .map_err(|e| (e.to_string(), true))
            }
            MailJob::OfferWaiting { offer_id } => crate::campaigns::approval_mail::send_offer(&self.loyalty, offer_id)
                .await
                .map_err(|e| (e.to_string(), true)),
            MailJob::ApprovalWaiting { campaign_id } => {
                crate::campaigns::approval_mail::send(&self.loyalty, campaign_id)
                    .await
                    .map_err(|e| (e.to_string(), true))
            }
        }
    }
}

#[async_trait]
impl Handler for MailHandler {
    fn kind(&self) -> JobKind {
        JobKind::Mail
    }

    async fn attempt(&self, job: &Job) -> Attempt {
        let parsed = serde_json::from_str::<MailJob>(job.payload.as_deref().unwrap_or_default());
        let outcome = match parsed {
            Ok(mail) => self.send(&mail).await,
            Err(e) => Err((format!("unreadable mail job: {e}"), false)),
        };
        match outcome {
            Ok(()) => Attempt::Done { effect: None, counter: None },
            Err((error, retryable)) => Attempt::Failed { error, retryable, final_counter: None },
        }
    }
}
