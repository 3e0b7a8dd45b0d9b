//! Background work settings: whether this process runs it, and the job loops' pace, lease and
//! retries (`PASSERELLE_BACKGROUND`, `PASSERELLE_PUSH_*`). The Google and webhook loops start
//! from these and override a few (see `jobs::QueueSettings`).

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Jobs {
    /// Whether `serve` also runs the background work (pushes, Google syncs, webhooks, campaign
    /// fan-out, order expiry): `on`, or `off` for a web-only process next to `passerelle worker`.
    #[arg(long, env = "PASSERELLE_BACKGROUND", default_value = "on", value_parser = parse_on_off, global = true)]
    pub background: bool,

    /// Push loops of a process that runs background work (0: this process pushes nothing, and
    /// does every other background job).
    #[arg(long, env = "PASSERELLE_PUSH_WORKERS", default_value_t = 1, global = true)]
    pub push_workers: usize,

    /// A change's push waits this long (milliseconds) so that a burst of changes gives one push per device.
    #[arg(
        id = "push_coalesce_ms",
        long = "push-coalesce-ms",
        value_name = "PUSH_COALESCE_MS",
        env = "PASSERELLE_PUSH_COALESCE_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub coalesce_ms: u64,

    /// Jobs a worker claims at once.
    #[arg(
        id = "push_batch_size",
        long = "push-batch-size",
        value_name = "PUSH_BATCH_SIZE",
        env = "PASSERELLE_PUSH_BATCH_SIZE",
        default_value_t = 500,
        global = true
    )]
    pub batch_size: i64,

    /// Pushes in flight at once per worker (HTTP/2 streams; the server's limit also applies).
    #[arg(
        id = "push_concurrency",
        long = "push-concurrency",
        value_name = "PUSH_CONCURRENCY",
        env = "PASSERELLE_PUSH_CONCURRENCY",
        default_value_t = 500,
        global = true
    )]
    pub concurrency: usize,

    /// How long a claimed job stays with its worker before another may take it (seconds).
    #[arg(
        id = "push_lease_secs",
        long = "push-lease-secs",
        value_name = "PUSH_LEASE_SECS",
        env = "PASSERELLE_PUSH_LEASE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub lease_secs: u64,

    /// Attempts before a job is kept as dead.
    #[arg(
        id = "push_max_attempts",
        long = "push-max-attempts",
        value_name = "PUSH_MAX_ATTEMPTS",
        env = "PASSERELLE_PUSH_MAX_ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub max_attempts: i64,

    /// First retry delay (milliseconds); doubles per attempt, with jitter.
    #[arg(
        id = "push_backoff_base_ms",
        long = "push-backoff-base-ms",
        value_name = "PUSH_BACKOFF_BASE_MS",
        env = "PASSERELLE_PUSH_BACKOFF_BASE_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub backoff_base_ms: u64,

    /// Longest retry delay (milliseconds).
    #[arg(
        id = "push_backoff_max_ms",
        long = "push-backoff-max-ms",
        value_name = "PUSH_BACKOFF_MAX_MS",
        env = "PASSERELLE_PUSH_BACKOFF_MAX_MS",
        default_value_t = 600_000,
        global = true
    )]
    pub backoff_max_ms: u64,

    /// How often an idle worker looks for due jobs (milliseconds); changes made by this process wake it at once.
    #[arg(
        id = "push_poll_ms",
        long = "push-poll-ms",
        value_name = "PUSH_POLL_MS",
        env = "PASSERELLE_PUSH_POLL_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub poll_ms: u64,

    /// Pause after APNs refuses the certificate, before trying again (seconds).
    #[arg(
        id = "push_pause_secs",
        long = "push-pause-secs",
        value_name = "PUSH_PAUSE_SECS",
        env = "PASSERELLE_PUSH_PAUSE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub pause_secs: u64,
}

/// `on`/`off` (also `true`/`false`, `1`/`0`).
fn parse_on_off(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        other => Err(format!("{other:?} is not on or off")),
    }
}
