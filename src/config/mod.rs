//! Configuration: command-line flags and `PASSERELLE_*` environment variables (clap derive).
//!
//! `--help` is the reference; `.env.example` and the README list the same variables. `Config` is
//! made of one flattened group per concern (`config.database`, `config.google`, …), and this
//! module imports nothing from the rest of the crate but `secret`: the modules that use a group
//! take it and build their own settings from it, so no domain type has to exist for the command
//! line to parse. [`Config::validate`] is the one check of the settings' values at start. The
//! command line itself (`Cli` and its subcommands) lives in `commands.rs`.
//!
//! A field named without its group's prefix (`google.timeout_ms`) spells out its `id`, `long`
//! and `value_name`: the flags and `--help` stay those of the variable, and clap needs ids unique
//! across the flattened groups (`apns.timeout_ms` is another argument).

mod apple;
mod campaigns;
mod commands;
mod console;
mod database;
mod google;
mod http;
mod jobs;
mod loyalty;
mod mail;
mod offers;
mod webhooks;

use std::path::PathBuf;

use clap::{Args, Parser};

pub use self::apple::{Apns, Apple};
pub use self::campaigns::{Campaigns, QuietHours};
#[cfg(feature = "testkit")]
pub use self::commands::BenchCommand;
pub use self::commands::{Cli, Command, KeysCommand, PassCommand, TemplatesCommand, UsersCommand};
pub use self::console::Console;
pub use self::database::Database;
pub use self::google::Google;
pub use self::http::{Http, TrustedProxies};
pub use self::jobs::Jobs;
pub use self::loyalty::{Country, Currency, Loyalty, PointsRates, TierRules};
pub use self::mail::Mail;
pub use self::offers::Offers;
pub use self::webhooks::Webhooks;

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub templates: Templates,
    #[command(flatten)]
    pub apple: Apple,
    #[command(flatten)]
    pub http: Http,
    #[command(flatten)]
    pub database: Database,
    #[command(flatten)]
    pub apns: Apns,
    #[command(flatten)]
    pub jobs: Jobs,
    #[command(flatten)]
    pub orders: Orders,
    #[command(flatten)]
    pub google: Google,
    #[command(flatten)]
    pub webhooks: Webhooks,
    #[command(flatten)]
    pub campaigns: Campaigns,
    #[command(flatten)]
    pub loyalty: Loyalty,
    #[command(flatten)]
    pub offers: Offers,
    #[command(flatten)]
    pub mail: Mail,
    #[command(flatten)]
    pub console: Console,
    #[command(flatten)]
    pub telemetry: Telemetry,
}

/// Pass templates: where they are, and how a publish is batched.
#[derive(Debug, Clone, Args)]
pub struct Templates {
    /// Folder holding one sub-folder per pass template.
    #[arg(
        id = "templates_dir",
        long = "templates-dir",
        value_name = "TEMPLATES_DIR",
        env = "PASSERELLE_TEMPLATES_DIR",
        default_value = "pass-templates",
        global = true
    )]
    pub dir: PathBuf,

    /// Passes bumped per transaction when a template is published.
    #[arg(long, env = "PASSERELLE_PUBLISH_BATCH_SIZE", default_value_t = 500, global = true)]
    pub publish_batch_size: i64,
}

/// Click & collect orders.
#[derive(Debug, Clone, Args)]
pub struct Orders {
    /// How often `serve` expires click & collect orders past their pickup window (seconds).
    #[arg(
        id = "order_expiry_interval_secs",
        long = "order-expiry-interval-secs",
        value_name = "ORDER_EXPIRY_INTERVAL_SECS",
        env = "PASSERELLE_ORDER_EXPIRY_INTERVAL_SECS",
        default_value_t = 60,
        global = true
    )]
    pub expiry_interval_secs: u64,
}

#[derive(Debug, Clone, Args)]
pub struct Telemetry {
    /// Log filter, in tracing's EnvFilter syntax (e.g. `info`, `passerelle=debug`).
    #[arg(long, env = "PASSERELLE_LOG", default_value = "info", global = true)]
    pub log: String,
}

impl Config {
    /// Checks what clap cannot check alone (settings read as text, settings that go in pairs);
    /// every error names its `PASSERELLE_*` variable. `serve`, `worker` and the benchmarks call it
    /// before starting any work, so a bad setting stops the process instead of a background loop.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.http.validate()?;
        self.mail.validate()?;
        self.google.validate()?;
        self.webhooks.validate()?;
        self.campaigns.validate()?;
        self.console.validate()?;
        Ok(())
    }

    /// A configuration with every default, for tests and embedding.
    pub fn defaults() -> Self {
        Cli::parse_from(["passerelle", "serve"]).config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::defaults().validate().unwrap();
    }

    fn error_of(edit: impl FnOnce(&mut Config)) -> String {
        let mut config = Config::defaults();
        edit(&mut config);
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn validate_names_the_variable() {
        let e = error_of(|c| c.campaigns.quiet_hours = "21h-9h".into());
        assert!(e.contains("PASSERELLE_QUIET_HOURS"), "{e}");
        let e = error_of(|c| c.campaigns.default_timezone = "Mars/Olympus".into());
        assert!(e.contains("PASSERELLE_CAMPAIGN_DEFAULT_TIMEZONE"), "{e}");
        let e = error_of(|c| c.console.chart_days = 0);
        assert!(e.contains("PASSERELLE_CONSOLE_CHART_DAYS"), "{e}");
        let e = error_of(|c| c.webhooks.url = Some("https://orders.example.com/hook".into()));
        assert!(e.contains("PASSERELLE_WEBHOOK_SECRET"), "{e}");
        let e = error_of(|c| c.webhooks.url = Some("ftp://orders.example.com".into()));
        assert!(e.contains("PASSERELLE_WEBHOOK_URL"), "{e}");
        let e = error_of(|c| {
            c.google.sa_key = Some("key.json".into());
            c.google.issuer_id = Some("issuer".into());
        });
        assert!(e.contains("PASSERELLE_GOOGLE_ISSUER_ID"), "{e}");
        let e = error_of(|c| c.http.header_read_timeout_secs = 0);
        assert!(e.contains("PASSERELLE_HEADER_READ_TIMEOUT_SECS"), "{e}");
        let e = error_of(|c| c.mail.smtp_url = Some(crate::secret::Secret::new("smtp://u:pw@mail.example.com")));
        assert!(e.contains("PASSERELLE_SMTP_URL"), "{e}");
        let e = error_of(|c| c.http.public_url = Some("https://passes.example.com".into()));
        assert!(e.contains("PASSERELLE_SECRET_KEY"), "{e}");
    }
}
