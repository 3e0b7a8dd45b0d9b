//! Database settings (`PASSERELLE_DATABASE_*`); `store` turns them into its connection settings.

use clap::Args;

use crate::secret::Secret;

#[derive(Debug, Clone, Args)]
pub struct Database {
    /// Database: sqlite://path/to/file.db (created on first start) or postgres://user:password@host/db.
    #[arg(
        id = "database_url",
        long = "database-url",
        value_name = "DATABASE_URL",
        env = "PASSERELLE_DATABASE_URL",
        default_value = "sqlite://data/passerelle.db",
        hide_env_values = true,
        global = true
    )]
    pub url: Secret,

    /// Most database connections this process opens.
    #[arg(
        id = "database_max_connections",
        long = "database-max-connections",
        value_name = "DATABASE_MAX_CONNECTIONS",
        env = "PASSERELLE_DATABASE_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub max_connections: u32,

    /// How long a SQLite write waits for the lock, and a query for a pooled connection (milliseconds).
    #[arg(
        id = "database_busy_timeout_ms",
        long = "database-busy-timeout-ms",
        value_name = "DATABASE_BUSY_TIMEOUT_MS",
        env = "PASSERELLE_DATABASE_BUSY_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub busy_timeout_ms: u64,
}
