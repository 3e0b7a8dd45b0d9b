//! Sending through an SMTP server (`PASSERELLE_SMTP_URL`), with lettre over rustls (ring).
//! The URL holds the server's password: it is never logged, nor put in error messages.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Mail, Mailer};
use crate::dependencies::DependencyHealth;
use crate::secret::Secret;

/// How long one SMTP exchange may take before the send fails.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    health: Arc<DependencyHealth>,
}

impl SmtpMailer {
    /// `smtps://` is TLS from the first byte, `smtp://…?tls=required` STARTTLS, plain `smtp://` neither
    /// (a local relay); user and password in the URL log in.
    pub fn new(url: &Secret, from: &str) -> Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            // The error of a bad URL never repeats the URL (and its password).
            .map_err(|e| anyhow!("PASSERELLE_SMTP_URL is not a valid SMTP URL: {e}"))?
            .timeout(Some(TIMEOUT))
            .build();
        let from =
            from.parse::<Mailbox>().with_context(|| format!("PASSERELLE_MAIL_FROM {from:?} is not an address"))?;
        Ok(Self { transport, from, health: Arc::new(DependencyHealth::new("smtp")) })
    }

    /// Records each send's outcome in `health` (the process's, reported by `/readyz`).
    pub fn with_health(self, health: Arc<DependencyHealth>) -> Self {
        Self { health, ..self }
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<()> {
        let to = mail.to.parse::<Mailbox>().with_context(|| format!("{:?} is not an e-mail address", mail.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text)
            .context("building the e-mail")?;
        if let Err(e) = self.transport.send(message).await {
            // lettre's errors name the server and the failure, never the URL's password.
            self.health.failure(&format!("{e}"));
            return Err(e).context("sending the e-mail through SMTP");
        }
        self.health.success();
        tracing::info!(to = %mail.to, "e-mail sent through SMTP");
        Ok(())
    }
}
