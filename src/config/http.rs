//! HTTP server settings: where it listens and how it is reached, admin access, request limits and
//! connection timeouts, device logs, the sign-up forms' secret and rate, the reverse proxies it
//! believes, and who may read `/metrics`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use clap::Args;

use crate::secret::Secret;

#[derive(Debug, Clone, Args)]
pub struct Http {
    /// Address the HTTP server listens on.
    #[arg(long, env = "PASSERELLE_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// Externally visible base URL (https in production); passes carry it as webServiceURL.
    /// Defaults to http:// plus the address actually bound.
    #[arg(long, env = "PASSERELLE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Bootstrap admin API key (Authorization: Bearer <token>); more keys with `passerelle keys create`.
    #[arg(long, env = "PASSERELLE_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<Secret>,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "PASSERELLE_MAX_BODY_BYTES", default_value_t = 262_144, global = true)]
    pub max_body_bytes: usize,

    /// Seconds a new connection has to send a request's headers (and a kept-alive one, the rest of
    /// them once it has sent a first byte); then it is closed.
    #[arg(long, env = "PASSERELLE_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub header_read_timeout_secs: u64,

    /// Seconds a request's whole body has to arrive in; then the answer is 408.
    #[arg(long, env = "PASSERELLE_BODY_READ_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub body_read_timeout_secs: u64,

    /// Seconds a kept-alive connection may stay silent between requests before it is closed.
    #[arg(long, env = "PASSERELLE_IDLE_TIMEOUT_SECS", default_value_t = 60, global = true)]
    pub idle_timeout_secs: u64,

    /// Most client connections open at once; past it, the connection idle the longest is closed
    /// for a newcomer, or (none idle) newcomers wait in the kernel's queue. Lowered to fit the
    /// process's open-file limit (less a margin) when that is smaller.
    #[arg(long, env = "PASSERELLE_MAX_CONNECTIONS", default_value_t = 8192, global = true)]
    pub max_connections: usize,

    /// A separate address (e.g. 10.0.0.5:9090) serving GET /metrics alone; the main address then
    /// answers 404 there. Unset: the main address serves it (see PASSERELLE_METRICS_TOKEN).
    #[arg(long, env = "PASSERELLE_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// Token that GET /metrics asks for (Authorization: Bearer <token>). Unset, and without
    /// PASSERELLE_METRICS_LISTEN: only clients on this machine (loopback, not proxied) may read it.
    #[arg(long, env = "PASSERELLE_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<Secret>,

    /// Device log lines (POST /v1/log) kept in the database; older ones are deleted.
    #[arg(long, env = "PASSERELLE_DEVICE_LOG_KEEP", default_value_t = 10_000, global = true)]
    pub device_log_keep: i64,

    /// Most log lines stored from one POST /v1/log request; the rest are dropped.
    #[arg(long, env = "PASSERELLE_DEVICE_LOG_MAX_LINES", default_value_t = 50, global = true)]
    pub device_log_max_lines: usize,

    /// Server secret (32+ random characters, the same on every process): a key per purpose is
    /// derived from it (sign-up form tokens, receipt contact lookups). Required when the public
    /// URL is https; unset (development) a random one per process.
    #[arg(long, env = "PASSERELLE_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<Secret>,

    /// Sign-up form submissions (POST /join/{code}) allowed per client IP and minute (0: no limit).
    #[arg(long, env = "PASSERELLE_JOIN_RATE_PER_MIN", default_value_t = 10, global = true)]
    pub join_rate_per_min: u32,

    /// Minutes a sign-up form's token stays valid (each token works for one submission).
    #[arg(long, env = "PASSERELLE_JOIN_FORM_TOKEN_MINUTES", default_value_t = 60, global = true)]
    pub join_form_token_minutes: u32,

    /// Days the sign-up page's visitor cookie lives (a flyer's unique scans count each visitor
    /// once a day by it; 0: a browser-session cookie).
    #[arg(long, env = "PASSERELLE_JOIN_VISITOR_DAYS", default_value_t = 365, global = true)]
    pub join_visitor_days: u32,

    /// Devices registered for one pass at most; a new registration beyond it replaces the device
    /// registered longest ago.
    #[arg(long, env = "PASSERELLE_MAX_DEVICES_PER_PASS", default_value_t = 20, global = true)]
    pub max_devices_per_pass: u32,

    /// POST /v1/log requests allowed per client IP and minute (0: no limit).
    #[arg(long, env = "PASSERELLE_LOG_RATE_PER_MIN", default_value_t = 60, global = true)]
    pub log_rate_per_min: u32,

    /// Reverse proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For gives the client address.
    #[arg(long, env = "PASSERELLE_TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: TrustedProxies,
}

impl Http {
    /// Every timeout at zero would close every connection at once; an https deployment needs
    /// PASSERELLE_SECRET_KEY (a random one per process would orphan waiting receipts and open
    /// forms at every restart, and differ between processes): refuse both at start.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, value) in [
            ("PASSERELLE_HEADER_READ_TIMEOUT_SECS", self.header_read_timeout_secs),
            ("PASSERELLE_BODY_READ_TIMEOUT_SECS", self.body_read_timeout_secs),
            ("PASSERELLE_IDLE_TIMEOUT_SECS", self.idle_timeout_secs),
        ] {
            anyhow::ensure!(value > 0, "{name} must be at least 1 second");
        }
        anyhow::ensure!(self.max_connections > 0, "PASSERELLE_MAX_CONNECTIONS must be at least 1");
        let https = self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        let secret = self.secret_key.as_ref().is_some_and(|s| !s.expose().is_empty());
        if https && !secret {
            anyhow::bail!(
                "PASSERELLE_SECRET_KEY is required when PASSERELLE_PUBLIC_URL is https: set it to a long random \
                 value (e.g. `openssl rand -hex 32`), the same on every process"
            );
        }
        Ok(())
    }

    /// The public base URL without a trailing slash; `bound` is used when none is configured.
    pub fn public_url_or(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }
}

/// One network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (none by default); `http::client_ip` walks the header.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(|n| format!("{}/{}", n.addr, n.prefix)).collect();
        write!(f, "TrustedProxies({})", list.join(","))
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated IPs (`10.0.0.7`, `::1`) or CIDRs (`10.0.0.0/8`, `fd00::/8`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut networks = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let bad = || format!("{item:?} is not an IP address or a CIDR such as 10.0.0.0/8");
            let (addr, prefix) = match item.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (item, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let addr = addr.to_canonical();
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
                None => max,
            };
            networks.push(Network { addr, prefix });
        }
        Ok(Self(networks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_ips_and_cidrs() {
        let t: TrustedProxies = "10.0.0.0/8, 192.168.1.7 ,fd00::/8".parse().unwrap();
        assert!(t.contains(ip("10.200.3.4")));
        assert!(t.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped addresses match their IPv4 network");
        assert!(t.contains(ip("192.168.1.7")) && !t.contains(ip("192.168.1.8")));
        assert!(t.contains(ip("fd12::1")) && !t.contains(ip("fe80::1")));
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        let all: TrustedProxies = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::1")));
        for bad in ["10.0.0.0/33", "example.com", "10.0.0/8", "::/129", "1.2.3.4/x"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
    }
}
