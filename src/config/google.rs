//! Google Wallet settings (`PASSERELLE_GOOGLE_*`): credentials, API endpoints, pacing and retries.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Google {
    /// Google service-account key (JSON). With PASSERELLE_GOOGLE_ISSUER_ID it turns Google Wallet on.
    #[arg(
        id = "google_sa_key",
        long = "google-sa-key",
        value_name = "GOOGLE_SA_KEY",
        env = "PASSERELLE_GOOGLE_SA_KEY",
        global = true
    )]
    pub sa_key: Option<PathBuf>,

    /// Google Wallet issuer id (from the Google Pay & Wallet Console).
    #[arg(
        id = "google_issuer_id",
        long = "google-issuer-id",
        value_name = "GOOGLE_ISSUER_ID",
        env = "PASSERELLE_GOOGLE_ISSUER_ID",
        global = true
    )]
    pub issuer_id: Option<String>,

    /// Google Wallet REST base URL.
    #[arg(
        id = "google_api_url",
        long = "google-api-url",
        value_name = "GOOGLE_API_URL",
        env = "PASSERELLE_GOOGLE_API_URL",
        default_value = "https://walletobjects.googleapis.com/walletobjects/v1",
        global = true
    )]
    pub api_url: String,

    /// Where Google publishes the root keys that sign save/delete callbacks.
    #[arg(
        id = "google_callback_keys_url",
        long = "google-callback-keys-url",
        value_name = "GOOGLE_CALLBACK_KEYS_URL",
        env = "PASSERELLE_GOOGLE_CALLBACK_KEYS_URL",
        default_value = "https://pay.google.com/gp/m/issuer/keys",
        global = true
    )]
    pub callback_keys_url: String,

    /// Requests per second to Google, shared by every process through the database (Google's quota is per issuer).
    #[arg(
        id = "google_rate_per_sec",
        long = "google-rate-per-sec",
        value_name = "GOOGLE_RATE_PER_SEC",
        env = "PASSERELLE_GOOGLE_RATE_PER_SEC",
        default_value_t = 20,
        global = true
    )]
    pub rate_per_sec: u32,

    /// Timeout of one Google request, in milliseconds.
    #[arg(
        id = "google_timeout_ms",
        long = "google-timeout-ms",
        value_name = "GOOGLE_TIMEOUT_MS",
        env = "PASSERELLE_GOOGLE_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub timeout_ms: u64,

    /// Retries of one Google request on 429, 5xx and connection errors.
    #[arg(
        id = "google_max_retries",
        long = "google-max-retries",
        value_name = "GOOGLE_MAX_RETRIES",
        env = "PASSERELLE_GOOGLE_MAX_RETRIES",
        default_value_t = 4,
        global = true
    )]
    pub max_retries: u32,

    /// First delay before retrying a Google request (milliseconds); doubles per retry, with jitter.
    #[arg(
        id = "google_backoff_base_ms",
        long = "google-backoff-base-ms",
        value_name = "GOOGLE_BACKOFF_BASE_MS",
        env = "PASSERELLE_GOOGLE_BACKOFF_BASE_MS",
        default_value_t = 500,
        global = true
    )]
    pub backoff_base_ms: u64,

    /// Longest delay between retries of a Google request (milliseconds).
    #[arg(
        id = "google_backoff_max_ms",
        long = "google-backoff-max-ms",
        value_name = "GOOGLE_BACKOFF_MAX_MS",
        env = "PASSERELLE_GOOGLE_BACKOFF_MAX_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub backoff_max_ms: u64,

    /// Attempts of a Google sync job before it is kept as dead.
    #[arg(
        id = "google_max_attempts",
        long = "google-max-attempts",
        value_name = "GOOGLE_MAX_ATTEMPTS",
        env = "PASSERELLE_GOOGLE_MAX_ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub max_attempts: i64,

    /// Google sync jobs a worker claims at once.
    #[arg(
        id = "google_batch_size",
        long = "google-batch-size",
        value_name = "GOOGLE_BATCH_SIZE",
        env = "PASSERELLE_GOOGLE_BATCH_SIZE",
        default_value_t = 50,
        global = true
    )]
    pub batch_size: i64,
}

impl Google {
    /// Google Wallet is on when both the key and the issuer id are set.
    pub fn enabled(&self) -> bool {
        self.sa_key.is_some() && self.issuer_id.is_some()
    }

    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if let (Some(_), Some(issuer)) = (&self.sa_key, &self.issuer_id)
            && (issuer.is_empty() || !issuer.bytes().all(|b| b.is_ascii_digit()))
        {
            anyhow::bail!(
                "PASSERELLE_GOOGLE_ISSUER_ID must be the numeric issuer id of the Google Pay & Wallet Console"
            );
        }
        Ok(())
    }
}
