//! Configuration: command-line flags and `PASSERELLE_*` environment variables (clap derive).
//!
//! `--help` is the reference; `.env.example` and the README list the same variables. The command line itself
//! (`Cli` and its subcommands) lives in `commands.rs`.

mod commands;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser};

#[cfg(feature = "testkit")]
pub use self::commands::BenchCommand;
pub use self::commands::{Cli, Command, KeysCommand, PassCommand, TemplatesCommand};
use crate::secret::Secret;

/// Where the demo certificates live, used when no real certificate is configured.
pub const DEMO_CERT: &str = "certs-example/pass-cert.pem";
pub const DEMO_KEY: &str = "certs-example/pass-key.pem";
pub const DEMO_WWDR: &str = "certs-example/wwdr.pem";

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Folder holding one sub-folder per pass template.
    #[arg(long, env = "PASSERELLE_TEMPLATES_DIR", default_value = "pass-templates", global = true)]
    pub templates_dir: PathBuf,

    /// Pass Type ID certificate: a PEM file, or a .p12/.pfx holding certificate and key.
    /// Defaults to the demo certificate in certs-example/ (passes that no real iPhone accepts).
    #[arg(long, env = "PASSERELLE_APPLE_CERT", global = true)]
    pub apple_cert: Option<PathBuf>,

    /// Private key of the Pass Type ID certificate (PEM); not needed with a .p12.
    #[arg(long, env = "PASSERELLE_APPLE_KEY", global = true)]
    pub apple_key: Option<PathBuf>,

    /// Password of an encrypted PEM key or of the .p12 file.
    #[arg(long, env = "PASSERELLE_APPLE_KEY_PASSWORD", hide_env_values = true, global = true)]
    pub apple_key_password: Option<Secret>,

    /// Apple WWDR intermediate certificate (PEM) that issued the pass certificate (G4 since 2022).
    #[arg(long, env = "PASSERELLE_APPLE_WWDR", global = true)]
    pub apple_wwdr: Option<PathBuf>,

    /// Address the HTTP server listens on.
    #[arg(long, env = "PASSERELLE_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// Externally visible base URL (https in production); passes carry it as webServiceURL.
    /// Defaults to http:// plus the address actually bound.
    #[arg(long, env = "PASSERELLE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Database: sqlite://path/to/file.db (created on first start) or postgres://user:password@host/db.
    #[arg(
        long,
        env = "PASSERELLE_DATABASE_URL",
        default_value = "sqlite://data/passerelle.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Secret,

    /// Most database connections this process opens.
    #[arg(long, env = "PASSERELLE_DATABASE_MAX_CONNECTIONS", default_value_t = 16, global = true)]
    pub database_max_connections: u32,

    /// How long a SQLite write waits for the lock, and a query for a pooled connection (milliseconds).
    #[arg(long, env = "PASSERELLE_DATABASE_BUSY_TIMEOUT_MS", default_value_t = 5000, global = true)]
    pub database_busy_timeout_ms: u64,

    /// Bootstrap admin API key (Authorization: Bearer <token>); more keys with `passerelle keys create`.
    #[arg(long, env = "PASSERELLE_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<Secret>,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "PASSERELLE_MAX_BODY_BYTES", default_value_t = 262_144, global = true)]
    pub max_body_bytes: usize,

    /// Device log lines (POST /v1/log) kept in the database; older ones are deleted.
    #[arg(long, env = "PASSERELLE_DEVICE_LOG_KEEP", default_value_t = 10_000, global = true)]
    pub device_log_keep: i64,

    /// Most log lines stored from one POST /v1/log request; the rest are dropped.
    #[arg(long, env = "PASSERELLE_DEVICE_LOG_MAX_LINES", default_value_t = 50, global = true)]
    pub device_log_max_lines: usize,

    /// APNs base URL. Pass pushes always go to production; point it elsewhere only for tests.
    #[arg(long, env = "PASSERELLE_APNS_URL", default_value = "https://api.push.apple.com", global = true)]
    pub apns_url: String,

    /// Extra root certificate(s) (PEM) to trust for APNs, besides the public roots (test servers).
    #[arg(long, env = "PASSERELLE_APNS_CA_FILE", global = true)]
    pub apns_ca_file: Option<PathBuf>,

    /// Timeout of one push request, in milliseconds.
    #[arg(long, env = "PASSERELLE_APNS_TIMEOUT_MS", default_value_t = 10_000, global = true)]
    pub apns_timeout_ms: u64,

    /// Timeout of connecting to APNs (TCP + TLS), in milliseconds.
    #[arg(long, env = "PASSERELLE_APNS_CONNECT_TIMEOUT_MS", default_value_t = 10_000, global = true)]
    pub apns_connect_timeout_ms: u64,

    /// Whether `serve` also runs the background work (pushes, Google syncs, webhooks, campaign
    /// fan-out, order expiry): `on`, or `off` for a web-only process next to `passerelle worker`.
    #[arg(long, env = "PASSERELLE_BACKGROUND", default_value = "on", value_parser = parse_on_off, global = true)]
    pub background: bool,

    /// Push loops of a process that runs background work (0: this process pushes nothing, and
    /// does every other background job).
    #[arg(long, env = "PASSERELLE_PUSH_WORKERS", default_value_t = 1, global = true)]
    pub push_workers: usize,

    /// A change's push waits this long (milliseconds) so that a burst of changes gives one push per device.
    #[arg(long, env = "PASSERELLE_PUSH_COALESCE_MS", default_value_t = 1_000, global = true)]
    pub push_coalesce_ms: u64,

    /// Jobs a worker claims at once.
    #[arg(long, env = "PASSERELLE_PUSH_BATCH_SIZE", default_value_t = 500, global = true)]
    pub push_batch_size: i64,

    /// Pushes in flight at once per worker (HTTP/2 streams; the server's limit also applies).
    #[arg(long, env = "PASSERELLE_PUSH_CONCURRENCY", default_value_t = 500, global = true)]
    pub push_concurrency: usize,

    /// How long a claimed job stays with its worker before another may take it (seconds).
    #[arg(long, env = "PASSERELLE_PUSH_LEASE_SECS", default_value_t = 60, global = true)]
    pub push_lease_secs: u64,

    /// Attempts before a job is kept as dead.
    #[arg(long, env = "PASSERELLE_PUSH_MAX_ATTEMPTS", default_value_t = 10, global = true)]
    pub push_max_attempts: i64,

    /// First retry delay (milliseconds); doubles per attempt, with jitter.
    #[arg(long, env = "PASSERELLE_PUSH_BACKOFF_BASE_MS", default_value_t = 1_000, global = true)]
    pub push_backoff_base_ms: u64,

    /// Longest retry delay (milliseconds).
    #[arg(long, env = "PASSERELLE_PUSH_BACKOFF_MAX_MS", default_value_t = 600_000, global = true)]
    pub push_backoff_max_ms: u64,

    /// How often an idle worker looks for due jobs (milliseconds); changes made by this process wake it at once.
    #[arg(long, env = "PASSERELLE_PUSH_POLL_MS", default_value_t = 1_000, global = true)]
    pub push_poll_ms: u64,

    /// Pause after APNs refuses the certificate, before trying again (seconds).
    #[arg(long, env = "PASSERELLE_PUSH_PAUSE_SECS", default_value_t = 60, global = true)]
    pub push_pause_secs: u64,

    /// How often `serve` expires click & collect orders past their pickup window (seconds).
    #[arg(long, env = "PASSERELLE_ORDER_EXPIRY_INTERVAL_SECS", default_value_t = 60, global = true)]
    pub order_expiry_interval_secs: u64,

    /// Passes bumped per transaction when a template is published.
    #[arg(long, env = "PASSERELLE_PUBLISH_BATCH_SIZE", default_value_t = 500, global = true)]
    pub publish_batch_size: i64,

    /// Google service-account key (JSON). With PASSERELLE_GOOGLE_ISSUER_ID it turns Google Wallet on.
    #[arg(long, env = "PASSERELLE_GOOGLE_SA_KEY", global = true)]
    pub google_sa_key: Option<PathBuf>,

    /// Google Wallet issuer id (from the Google Pay & Wallet Console).
    #[arg(long, env = "PASSERELLE_GOOGLE_ISSUER_ID", global = true)]
    pub google_issuer_id: Option<String>,

    /// Google Wallet REST base URL.
    #[arg(
        long,
        env = "PASSERELLE_GOOGLE_API_URL",
        default_value = "https://walletobjects.googleapis.com/walletobjects/v1",
        global = true
    )]
    pub google_api_url: String,

    /// Where Google publishes the root keys that sign save/delete callbacks.
    #[arg(
        long,
        env = "PASSERELLE_GOOGLE_CALLBACK_KEYS_URL",
        default_value = "https://pay.google.com/gp/m/issuer/keys",
        global = true
    )]
    pub google_callback_keys_url: String,

    /// Requests per second to Google, shared by every process through the database (Google's quota is per issuer).
    #[arg(long, env = "PASSERELLE_GOOGLE_RATE_PER_SEC", default_value_t = 20, global = true)]
    pub google_rate_per_sec: u32,

    /// Timeout of one Google request, in milliseconds.
    #[arg(long, env = "PASSERELLE_GOOGLE_TIMEOUT_MS", default_value_t = 10_000, global = true)]
    pub google_timeout_ms: u64,

    /// Retries of one Google request on 429, 5xx and connection errors.
    #[arg(long, env = "PASSERELLE_GOOGLE_MAX_RETRIES", default_value_t = 4, global = true)]
    pub google_max_retries: u32,

    /// First delay before retrying a Google request (milliseconds); doubles per retry, with jitter.
    #[arg(long, env = "PASSERELLE_GOOGLE_BACKOFF_BASE_MS", default_value_t = 500, global = true)]
    pub google_backoff_base_ms: u64,

    /// Longest delay between retries of a Google request (milliseconds).
    #[arg(long, env = "PASSERELLE_GOOGLE_BACKOFF_MAX_MS", default_value_t = 30_000, global = true)]
    pub google_backoff_max_ms: u64,

    /// Attempts of a Google sync job before it is kept as dead.
    #[arg(long, env = "PASSERELLE_GOOGLE_MAX_ATTEMPTS", default_value_t = 10, global = true)]
    pub google_max_attempts: i64,

    /// Google sync jobs a worker claims at once.
    #[arg(long, env = "PASSERELLE_GOOGLE_BATCH_SIZE", default_value_t = 50, global = true)]
    pub google_batch_size: i64,

    /// URL that receives signed webhook events (order.ready, order.collected, pass.added, pass.removed). Unset: no webhooks.
    #[arg(long, env = "PASSERELLE_WEBHOOK_URL", global = true)]
    pub webhook_url: Option<String>,

    /// Secret of the webhooks' X-Passerelle-Signature (HMAC-SHA256 of the body); required with PASSERELLE_WEBHOOK_URL.
    #[arg(long, env = "PASSERELLE_WEBHOOK_SECRET", hide_env_values = true, global = true)]
    pub webhook_secret: Option<Secret>,

    /// Attempts of a webhook delivery before it is kept as dead.
    #[arg(long, env = "PASSERELLE_WEBHOOK_MAX_ATTEMPTS", default_value_t = 10, global = true)]
    pub webhook_max_attempts: i64,

    /// Campaign notifications a holder may get in 7 days (a "high" priority campaign may go beyond).
    #[arg(long, env = "PASSERELLE_CAMPAIGN_WEEKLY_CAP", default_value_t = 2, global = true)]
    pub campaign_weekly_cap: i64,

    /// Campaign notifications a holder may get in 24 hours, whatever the priority (Google refuses a 4th).
    #[arg(long, env = "PASSERELLE_CAMPAIGN_DAILY_CAP", default_value_t = 3, global = true)]
    pub campaign_daily_cap: i64,

    /// Local hours (in the holder's home store's timezone) when campaigns wait, HH:MM-HH:MM; "off" for none.
    #[arg(long, env = "PASSERELLE_QUIET_HOURS", default_value = "21:00-09:00", global = true)]
    pub quiet_hours: String,

    /// Timezone of holders without a home store (IANA name, e.g. Europe/Paris).
    #[arg(long, env = "PASSERELLE_CAMPAIGN_DEFAULT_TIMEZONE", default_value = "UTC", global = true)]
    pub campaign_default_timezone: String,

    /// Holders a campaign fan-out handles per transaction.
    #[arg(long, env = "PASSERELLE_CAMPAIGN_BATCH_SIZE", default_value_t = 500, global = true)]
    pub campaign_batch_size: i64,

    /// Longest campaign message, in characters (each language).
    #[arg(long, env = "PASSERELLE_CAMPAIGN_MESSAGE_MAX_CHARS", default_value_t = 300, global = true)]
    pub campaign_message_max_chars: usize,

    /// Loyalty tiers as name:points pairs; a member is in the highest tier whose points they reach.
    #[arg(long, env = "PASSERELLE_TIERS", default_value = "member:0,premium:300,gold:1000", global = true)]
    pub tiers: crate::loyalty::TierRules,

    /// Country whose national format applies to phone numbers written without +country code (ISO 3166, e.g. FR).
    #[arg(long, env = "PASSERELLE_DEFAULT_COUNTRY", default_value = "FR", global = true)]
    pub default_country: crate::loyalty::Country,

    /// Lets a points change take a member's balance below zero.
    #[arg(long, env = "PASSERELLE_POINTS_ALLOW_NEGATIVE", global = true)]
    pub points_allow_negative: bool,

    /// Folder where e-mails are written when no SMTP server is configured.
    #[arg(long, env = "PASSERELLE_MAIL_DIR", default_value = "data/mail", global = true)]
    pub mail_dir: PathBuf,

    /// Sender address of e-mails (cards, verification links).
    #[arg(long, env = "PASSERELLE_MAIL_FROM", default_value = "Passerelle <no-reply@localhost>", global = true)]
    pub mail_from: String,

    /// SMTP server for e-mails, e.g. smtps://user:password@smtp.example.com:465, smtp://localhost:25
    /// (no TLS) or smtp://user:password@host:587?tls=required (STARTTLS). Unset: mails go to PASSERELLE_MAIL_DIR.
    #[arg(long, env = "PASSERELLE_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<Secret>,

    /// Server secret that signs the enrollment forms' CSRF tokens (HMAC-SHA256). Unset: a random
    /// one per process, so forms opened before a restart, or served by another process, are refused.
    #[arg(long, env = "PASSERELLE_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<Secret>,

    /// Sign-up form submissions (POST /join/{code}) allowed per client IP and minute (0: no limit).
    #[arg(long, env = "PASSERELLE_JOIN_RATE_PER_MIN", default_value_t = 10, global = true)]
    pub join_rate_per_min: u32,

    /// Reverse proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For gives the client address.
    #[arg(long, env = "PASSERELLE_TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,

    /// Log filter, in tracing's EnvFilter syntax (e.g. `info`, `passerelle=debug`).
    #[arg(long, env = "PASSERELLE_LOG", default_value = "info", global = true)]
    pub log: String,
}

/// Which certificate files to load, after applying the demo defaults.
#[derive(Debug, Clone)]
pub struct AppleCertPaths {
    pub cert: PathBuf,
    pub key: Option<PathBuf>,
    pub wwdr: Option<PathBuf>,
    pub password: Option<Secret>,
    pub demo: bool,
}

impl Config {
    /// The certificate files to use: the configured ones, or the demo set when none is set.
    pub fn apple_cert_paths(&self) -> AppleCertPaths {
        match &self.apple_cert {
            Some(cert) => AppleCertPaths {
                cert: cert.clone(),
                key: self.apple_key.clone(),
                wwdr: self.apple_wwdr.clone(),
                password: self.apple_key_password.clone(),
                demo: false,
            },
            None => AppleCertPaths {
                cert: DEMO_CERT.into(),
                key: Some(self.apple_key.clone().unwrap_or_else(|| DEMO_KEY.into())),
                wwdr: Some(self.apple_wwdr.clone().unwrap_or_else(|| DEMO_WWDR.into())),
                password: self.apple_key_password.clone(),
                demo: true,
            },
        }
    }

    /// The public base URL without a trailing slash; `bound` is used when none is configured.
    pub fn public_url_or(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    pub fn db_settings(&self) -> crate::store::DbSettings {
        crate::store::DbSettings {
            url: self.database_url.clone(),
            max_connections: self.database_max_connections.max(1),
            busy_timeout: std::time::Duration::from_millis(self.database_busy_timeout_ms),
            push_coalesce_ms: self.push_coalesce_ms as i64,
            google_enabled: self.google_enabled(),
            google_first_sync_delay_ms: self.google_timeout_ms as i64,
            webhooks_enabled: self.webhook_url.is_some(),
        }
    }

    pub fn apns_settings(&self) -> crate::push::apns::ApnsSettings {
        crate::push::apns::ApnsSettings {
            url: self.apns_url.clone(),
            extra_ca_file: self.apns_ca_file.clone(),
            request_timeout: std::time::Duration::from_millis(self.apns_timeout_ms),
            connect_timeout: std::time::Duration::from_millis(self.apns_connect_timeout_ms),
        }
    }

    /// The push loops' settings (the other kinds start from these).
    pub fn worker_settings(&self) -> crate::jobs::QueueSettings {
        use std::time::Duration;
        crate::jobs::QueueSettings {
            batch_size: self.push_batch_size.max(1),
            concurrency: self.push_concurrency.max(1),
            lease: Duration::from_secs(self.push_lease_secs.max(1)),
            max_attempts: self.push_max_attempts.max(1),
            backoff_base: Duration::from_millis(self.push_backoff_base_ms),
            backoff_max: Duration::from_millis(self.push_backoff_max_ms.max(self.push_backoff_base_ms)),
            poll_interval: Duration::from_millis(self.push_poll_ms.max(10)),
            pause: Duration::from_secs(self.push_pause_secs.max(1)),
        }
    }

    pub fn google_settings(&self) -> crate::google::client::GoogleSettings {
        use std::time::Duration;
        crate::google::client::GoogleSettings {
            api_url: self.google_api_url.trim_end_matches('/').to_owned(),
            timeout: Duration::from_millis(self.google_timeout_ms),
            max_retries: self.google_max_retries,
            backoff_base: Duration::from_millis(self.google_backoff_base_ms),
            backoff_max: Duration::from_millis(self.google_backoff_max_ms.max(self.google_backoff_base_ms)),
        }
    }

    /// The Google loop's settings (lease, poll and backoff as for pushes; one sync at a time,
    /// paced by the shared rate limit).
    pub fn google_worker_settings(&self) -> crate::jobs::QueueSettings {
        let mut s = self.worker_settings();
        s.batch_size = self.google_batch_size.max(1);
        s.concurrency = 1;
        s.max_attempts = self.google_max_attempts.max(1);
        s
    }

    /// The webhook loop's settings (poll and backoff as for pushes; one event at a time, in order).
    pub fn webhook_worker_settings(&self) -> crate::jobs::QueueSettings {
        let mut s = self.worker_settings();
        s.max_attempts = self.webhook_max_attempts.max(1);
        s.concurrency = 1;
        s.lease = s.lease.max(crate::jobs::webhook::TIMEOUT * 2);
        s
    }

    /// The campaign pressure rules; errors name the setting.
    pub fn pressure(&self) -> anyhow::Result<crate::campaigns::pressure::Pressure> {
        use crate::campaigns::pressure::{Pressure, QuietHours};
        let quiet = QuietHours::parse(&self.quiet_hours).map_err(|e| anyhow::anyhow!("PASSERELLE_QUIET_HOURS: {e}"))?;
        let default_timezone = jiff::tz::TimeZone::get(&self.campaign_default_timezone).map_err(|_| {
            anyhow::anyhow!(
                "PASSERELLE_CAMPAIGN_DEFAULT_TIMEZONE: {:?} is not an IANA timezone",
                self.campaign_default_timezone
            )
        })?;
        Ok(Pressure {
            weekly_cap: self.campaign_weekly_cap.max(0),
            daily_cap: self.campaign_daily_cap.max(0),
            quiet,
            default_timezone,
        })
    }

    /// Google Wallet is on when both the key and the issuer id are set.
    pub fn google_enabled(&self) -> bool {
        self.google_sa_key.is_some() && self.google_issuer_id.is_some()
    }

    /// A configuration with every default, for tests and embedding.
    pub fn defaults() -> Self {
        Cli::parse_from(["passerelle", "serve"]).config
    }
}

/// `on`/`off` (also `true`/`false`, `1`/`0`).
fn parse_on_off(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        other => Err(format!("{other:?} is not on or off")),
    }
}
