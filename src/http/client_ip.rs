//! The client's IP address: the socket peer, unless the peer is a reverse proxy listed in
//! `PASSERELLE_TRUSTED_PROXIES`; then the right-most address of `X-Forwarded-For` that is not
//! itself a trusted proxy (entries left of it could have been written by the client).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

pub use crate::config::TrustedProxies;

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
