//! Apple settings: the Pass Type ID certificate files (`PASSERELLE_APPLE_*`) and how to reach
//! APNs (`PASSERELLE_APNS_*`). Which files to load when none is set is `apple::certs`'s business.

use std::path::PathBuf;

use clap::Args;

use crate::secret::Secret;

#[derive(Debug, Clone, Args)]
pub struct Apple {
    /// Pass Type ID certificate: a PEM file, or a .p12/.pfx holding certificate and key.
    /// Defaults to the demo certificate in certs-example/ (passes that no real iPhone accepts).
    #[arg(
        id = "apple_cert",
        long = "apple-cert",
        value_name = "APPLE_CERT",
        env = "PASSERELLE_APPLE_CERT",
        global = true
    )]
    pub cert: Option<PathBuf>,

    /// Private key of the Pass Type ID certificate (PEM); not needed with a .p12.
    #[arg(id = "apple_key", long = "apple-key", value_name = "APPLE_KEY", env = "PASSERELLE_APPLE_KEY", global = true)]
    pub key: Option<PathBuf>,

    /// Password of an encrypted PEM key or of the .p12 file.
    #[arg(
        id = "apple_key_password",
        long = "apple-key-password",
        value_name = "APPLE_KEY_PASSWORD",
        env = "PASSERELLE_APPLE_KEY_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub key_password: Option<Secret>,

    /// Apple WWDR intermediate certificate (PEM) that issued the pass certificate (G4 since 2022).
    #[arg(
        id = "apple_wwdr",
        long = "apple-wwdr",
        value_name = "APPLE_WWDR",
        env = "PASSERELLE_APPLE_WWDR",
        global = true
    )]
    pub wwdr: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct Apns {
    /// APNs base URL. Pass pushes always go to production; point it elsewhere only for tests.
    #[arg(
        id = "apns_url",
        long = "apns-url",
        value_name = "APNS_URL",
        env = "PASSERELLE_APNS_URL",
        default_value = "https://api.push.apple.com",
        global = true
    )]
    pub url: String,

    /// Extra root certificate(s) (PEM) to trust for APNs, besides the public roots (test servers).
    #[arg(
        id = "apns_ca_file",
        long = "apns-ca-file",
        value_name = "APNS_CA_FILE",
        env = "PASSERELLE_APNS_CA_FILE",
        global = true
    )]
    pub ca_file: Option<PathBuf>,

    /// Timeout of one push request, in milliseconds.
    #[arg(
        id = "apns_timeout_ms",
        long = "apns-timeout-ms",
        value_name = "APNS_TIMEOUT_MS",
        env = "PASSERELLE_APNS_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub timeout_ms: u64,

    /// Timeout of connecting to APNs (TCP + TLS), in milliseconds.
    #[arg(
        id = "apns_connect_timeout_ms",
        long = "apns-connect-timeout-ms",
        value_name = "APNS_CONNECT_TIMEOUT_MS",
        env = "PASSERELLE_APNS_CONNECT_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub connect_timeout_ms: u64,
}
