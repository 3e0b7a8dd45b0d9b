//! The command line: the `Cli` root and its subcommands (`serve`, `migrate`, `worker`, `keys`, `users`, `templates`, `pass`,
//! `bench`, which exists only with the `testkit` feature); the shared settings are [`Config`].

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::Config;

#[derive(Debug, Parser)]
#[command(name = "passerelle", version, about = "Apple Wallet and Google Wallet pass server")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run only the push workers (no HTTP server), e.g. as a separate process.
    Worker,
    /// Manage admin API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage console users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Work with pass templates.
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
    },
    /// Build passes without a server or database.
    Pass {
        #[command(subcommand)]
        command: PassCommand,
    },
    /// Benchmarks that print figures (built with the `testkit` feature).
    #[cfg(feature = "testkit")]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; it is printed once and stored hashed.
    Create {
        /// What the key is for (e.g. "till paris-01"); defaults to its role and store.
        #[arg(long)]
        name: Option<String>,
        /// hq_admin, hq_marketer, store or store_manager (default: hq_admin, or store with --store).
        #[arg(long)]
        role: Option<String>,
        /// The store of a store or store_manager key.
        #[arg(long)]
        store: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a console user; the password is read from PASSERELLE_USER_PASSWORD, or asked on the terminal.
    Create {
        /// The user's e-mail address (their sign-in name).
        #[arg(long)]
        email: String,
        /// hq_admin, hq_marketer or store_manager.
        #[arg(long)]
        role: String,
        /// The store of a store_manager.
        #[arg(long)]
        store: Option<String>,
        /// The new user's password (better in the environment than on the command line).
        #[arg(long, env = "PASSERELLE_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List console users (never their passwords).
    List,
    /// Disable a user by e-mail and end their open sessions.
    Disable { email: String },
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Validate every template; exits non-zero on any problem.
    Check,
    /// Push a template's new design to every pass made from it (when the design changed).
    Publish {
        /// Template id.
        id: String,
        /// Publish even if the design looks unchanged.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PassCommand {
    /// Build and sign one .pkpass from a template and a JSON data file.
    Build {
        /// Template id (a folder of the templates directory).
        #[arg(long)]
        template: String,
        /// JSON file holding the pass data.
        #[arg(long)]
        data: PathBuf,
        /// Where to write the .pkpass.
        #[arg(short, long)]
        output: PathBuf,
        /// Serial number (default: random, 128 bits).
        #[arg(long)]
        serial: Option<String>,
    },
}

#[cfg(feature = "testkit")]
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Passes built and signed per second, on one core and on all cores,
    /// beside `openssl speed rsa2048` measured in the same run.
    Sign {
        /// Template whose images and example data are used.
        #[arg(long, default_value = "loyalty")]
        template: String,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Threads for the all-cores measurement (default: available cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Pushes per second: N registered devices, one pass change, the outbox workers, the real
    /// APNs client and the mock APNs on loopback (a temporary SQLite database unless
    /// PASSERELLE_DATABASE_URL names another).
    Push {
        #[arg(long, default_value_t = 100_000)]
        devices: usize,
    },
    /// A campaign to N seeded holders (one device each): time to enqueue, pushes per second and
    /// peak memory, through the fan-out, the outbox, the real APNs client and the mock APNs
    /// (a temporary SQLite database unless PASSERELLE_DATABASE_URL names another).
    Campaign {
        #[arg(long, default_value_t = 100_000)]
        holders: usize,
    },
    /// A campaign to N seeded holders with a 10% holdout and R linked receipts around its
    /// start: how long its results take, whole and per store (a temporary SQLite database
    /// unless PASSERELLE_DATABASE_URL names another).
    Results {
        #[arg(long, default_value_t = 100_000)]
        holders: usize,
        #[arg(long, default_value_t = 300_000)]
        receipts: usize,
    },
    /// Fill the database (PASSERELLE_DATABASE_URL) with passes and device registrations
    /// for the web-service load test, and write the targets file its wrk script reads.
    SeedWeb {
        #[arg(long, default_value_t = 10_000)]
        passes: usize,
        #[arg(long, default_value_t = 50_000)]
        registrations: usize,
        /// Registrations per device (devices = registrations / this).
        #[arg(long, default_value_t = 5)]
        per_device: usize,
        /// Where to write "serial token device" lines for the load generator.
        #[arg(long)]
        targets: std::path::PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn password_is_redacted_in_debug() {
        let cli = Cli::parse_from([
            "passerelle",
            "--apple-key-password",
            "s3cr3t",
            "--admin-token",
            "adm1n",
            "--database-url",
            "postgres://u:pw0rd@h/db",
            "serve",
        ]);
        let shown = format!("{cli:?}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("adm1n") && !shown.contains("pw0rd"), "{shown}");
    }
}
