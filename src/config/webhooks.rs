//! Outgoing webhook settings (`PASSERELLE_WEBHOOK_*`).

use anyhow::{Context, bail};
use clap::Args;

use crate::secret::Secret;

#[derive(Debug, Clone, Args)]
pub struct Webhooks {
    /// URL that receives signed webhook events (order.ready, order.collected, pass.added, pass.removed). Unset: no webhooks.
    #[arg(
        id = "webhook_url",
        long = "webhook-url",
        value_name = "WEBHOOK_URL",
        env = "PASSERELLE_WEBHOOK_URL",
        global = true
    )]
    pub url: Option<String>,

    /// Secret of the webhooks' X-Passerelle-Signature (HMAC-SHA256 of the body); required with PASSERELLE_WEBHOOK_URL.
    #[arg(
        id = "webhook_secret",
        long = "webhook-secret",
        value_name = "WEBHOOK_SECRET",
        env = "PASSERELLE_WEBHOOK_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub secret: Option<Secret>,

    /// Attempts of a webhook delivery before it is kept as dead.
    #[arg(
        id = "webhook_max_attempts",
        long = "webhook-max-attempts",
        value_name = "WEBHOOK_MAX_ATTEMPTS",
        env = "PASSERELLE_WEBHOOK_MAX_ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub max_attempts: i64,
}

impl Webhooks {
    pub fn enabled(&self) -> bool {
        self.url.is_some()
    }

    /// Refuses a URL without its secret (unsigned events could be forged), or one that is not http(s).
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        let Some(url) = &self.url else { return Ok(()) };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("PASSERELLE_WEBHOOK_URL must be an http:// or https:// URL");
        }
        url.parse::<hyper::Uri>().context("PASSERELLE_WEBHOOK_URL is not a valid URL")?;
        if self.secret.as_ref().is_none_or(|s| s.expose().is_empty()) {
            bail!("PASSERELLE_WEBHOOK_SECRET is required when PASSERELLE_WEBHOOK_URL is set");
        }
        Ok(())
    }
}
