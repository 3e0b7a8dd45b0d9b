//! E-mail settings: SMTP, or the outbox folder used without it (`PASSERELLE_MAIL_*`, `PASSERELLE_SMTP_URL`).

use std::net::IpAddr;
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
    /// A password over plain smtp:// (or tls=opportunistic) is refused unless the host is this machine.
    #[arg(long, env = "PASSERELLE_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<Secret>,
}

impl Mail {
    /// A password may only travel encrypted: over `smtps://` or `smtp://…?tls=required`, or
    /// to a relay on this machine. `tls=opportunistic` falls back to plain text when the server
    /// offers no STARTTLS, so it counts as plain. The error never repeats the URL.
    pub fn validate(&self) -> anyhow::Result<()> {
        let Some(secret) = &self.smtp_url else { return Ok(()) };
        let Ok(url) = url::Url::parse(secret.expose()) else {
            anyhow::bail!("PASSERELLE_SMTP_URL is not a URL (e.g. smtps://user:password@smtp.example.com:465)");
        };
        let tls_required = url.query_pairs().any(|(k, v)| k == "tls" && v == "required");
        let encrypted = url.scheme() == "smtps" || tls_required;
        if url.password().is_none() || encrypted || is_loopback(url.host()) {
            return Ok(());
        }
        let host = url.host_str().unwrap_or_default();
        anyhow::bail!(
            "PASSERELLE_SMTP_URL would send the SMTP password in clear text to {host}: use smtps://…:465 or \
             smtp://…:587?tls=required (STARTTLS), or a relay on this machine"
        )
    }
}

/// `localhost`, 127.0.0.0/8 or ::1: a password sent there does not cross the network.
fn is_loopback(host: Option<url::Host<&str>>) -> bool {
    match host {
        // smtp:// is not a scheme the URL standard knows: its IPv4 hosts come as names.
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).to_canonical().is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<(), String> {
        let mail = Mail { dir: "mail".into(), from: "a@b.c".into(), smtp_url: Some(Secret::new(url)) };
        mail.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn a_password_never_travels_in_clear_text_over_the_network() {
        for url in [
            "smtp://user:s3cret@smtp.example.com:587",
            "smtp://user:s3cret@smtp.example.com:587?tls=opportunistic",
            "smtp://user:s3cret@192.0.2.7",
            "smtp://user:s3cret@[2001:db8::1]:25",
            "smtp://user:s3cret@127.0.0.1.example.com:25",
        ] {
            let e = check(url).unwrap_err();
            assert!(e.contains("PASSERELLE_SMTP_URL") && !e.contains("s3cret"), "{url}: {e}");
        }
        for url in [
            "smtps://user:s3cret@smtp.example.com:465",
            "smtp://user:s3cret@smtp.example.com:587?tls=required",
            "smtp://user:s3cret@localhost:25",
            "smtp://user:s3cret@127.0.0.2:25",
            "smtp://user:s3cret@[::1]:25",
            "smtp://smtp.example.com:25",
        ] {
            assert_eq!(check(url), Ok(()), "{url}");
        }
        let e = check("not a url with s3cret").unwrap_err();
        assert!(e.contains("PASSERELLE_SMTP_URL") && !e.contains("s3cret"), "{e}");
    }
}
