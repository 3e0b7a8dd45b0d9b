//! E-mail settings: SMTP, or the outbox folder used without it (`PASSERELLE_MAIL_*`, `PASSERELLE_SMTP_URL`).

use std::path::PathBuf;

use clap::Args;

use crate::secret::Secret;

#[derive(Debug, Clone, Args)]
pub struct Mail {
    /// Folder where e-mails are written when no SMTP server is configured.
    #[arg(
        id = "mail_dir",
        long = "mail-dir",
        value_name = "MAIL_DIR",
        env = "PASSERELLE_MAIL_DIR",
        default_value = "data/mail",
        global = true
    )]
    pub dir: PathBuf,

    /// Sender address of e-mails (cards, verification links).
    #[arg(
        id = "mail_from",
        long = "mail-from",
        value_name = "MAIL_FROM",
        env = "PASSERELLE_MAIL_FROM",
        default_value = "Passerelle <no-reply@localhost>",
        global = true
    )]
    pub from: String,

    /// SMTP server for e-mails, e.g. smtps://user:password@smtp.example.com:465, smtp://localhost:25
    /// (no TLS) or smtp://user:password@host:587?tls=required (STARTTLS). Unset: mails go to PASSERELLE_MAIL_DIR.
    #[arg(long, env = "PASSERELLE_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<Secret>,
}
