//! The client's IP address: the socket peer, unless the peer is a reverse proxy listed in
//! `PASSERELLE_TRUSTED_PROXIES`; then the right-most address of `X-Forwarded-For` that is not
//! itself a trusted proxy (entries left of it could have been written by the client).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

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

/// The reverse proxies whose `X-Forwarded-For` is believed (none by default).
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

/// One `X-Forwarded-For` entry: an address, maybe with a port (`[::1]:80`, `1.2.3.4:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim().trim_matches('"');
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    entry.parse::<SocketAddr>().ok().map(|s| s.ip().to_canonical())
}

/// The client's address for a request from `peer` carrying `headers`.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    // Every X-Forwarded-For header, in order, as one list; walk it from the right.
    let entries: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).collect();
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            // Garbage from the hop we trust least: stop at the last address we could believe.
            None => break,
            Some(ip) => {
                client = ip;
                if !trusted.contains(ip) {
                    break;
                }
            }
        }
    }
    client
}

/// The client's address of a request (see `resolve`); the unspecified address when the server
/// was started without connection info (never the case for `passerelle serve`).
pub fn of_request(parts: &Parts, trusted: &TrustedProxies) -> IpAddr {
    match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(peer)) => resolve(peer.ip(), &parts.headers, trusted),
        None => {
            tracing::error!("no peer address on the request: serve with into_make_service_with_connect_info");
            IpAddr::from([0, 0, 0, 0])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

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

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let lb: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let h = headers(&["203.0.113.9"]);
        assert_eq!(resolve(ip("198.51.100.1"), &h, &none), ip("198.51.100.1"), "untrusted peer: header ignored");
        assert_eq!(resolve(ip("198.51.100.1"), &h, &lb), ip("198.51.100.1"), "peer outside the list");
        assert_eq!(resolve(ip("10.0.0.2"), &h, &lb), ip("203.0.113.9"));
        // The client may write anything on the left: the right-most untrusted entry wins.
        let h = headers(&["1.1.1.1, 203.0.113.9, 10.0.0.5"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &lb), ip("203.0.113.9"));
        let h = headers(&["1.1.1.1", "203.0.113.9:4711"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &lb), ip("203.0.113.9"), "several headers, a port");
        let h = headers(&["1.1.1.1, garbage, 10.0.0.9"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &lb), ip("10.0.0.9"), "stops at garbage");
        assert_eq!(resolve(ip("10.0.0.2"), &headers(&[]), &lb), ip("10.0.0.2"), "no header: the proxy itself");
    }
}
