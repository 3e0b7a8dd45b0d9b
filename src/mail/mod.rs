//! Outgoing e-mail (cards, verification links): SMTP when configured, otherwise a local
//! outbox folder, so the demo works offline.

mod smtp;

use std::path::PathBuf;

use anyhow::{Context, Result};
use async_trait::async_trait;

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// Plain-text body (always sent).
    pub text: String,
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, mail: Mail) -> Result<()>;
}

/// Writes each message as an `.eml` file in a folder and logs where (no SMTP configured).
pub struct FolderMailer {
    pub dir: PathBuf,
    pub from: String,
}

#[async_trait]
impl Mailer for FolderMailer {
    async fn send(&self, mail: Mail) -> Result<()> {
        tokio::fs::create_dir_all(&self.dir).await.with_context(|| format!("creating {}", self.dir.display()))?;
        let name = format!("{}-{}.eml", crate::store::now_ms(), crate::tokens::random_hex(4));
        let path = self.dir.join(name);
        let body = format!(
            "From: {}\r\nTo: {}\r\nSubject: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
            self.from, mail.to, mail.subject, mail.text
        );
        tokio::fs::write(&path, body).await.with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(path = %path.display(), "no SMTP configured: e-mail written to the outbox folder");
        Ok(())
    }
}

pub use smtp::SmtpMailer;

/// The configured mailer: SMTP when `PASSERELLE_SMTP_URL` is set (recording into `health`),
/// else the outbox folder.
pub fn from_config(
    mail: &crate::config::Mail,
    health: std::sync::Arc<crate::dependencies::DependencyHealth>,
) -> Result<std::sync::Arc<dyn Mailer>> {
    match &mail.smtp_url {
        Some(url) => Ok(std::sync::Arc::new(SmtpMailer::new(url, &mail.from)?.with_health(health))),
        None => {
            tracing::info!(dir = %mail.dir.display(), "PASSERELLE_SMTP_URL is unset: e-mails go to the outbox folder");
            Ok(std::sync::Arc::new(FolderMailer { dir: mail.dir.clone(), from: mail.from.clone() }))
        }
    }
}
