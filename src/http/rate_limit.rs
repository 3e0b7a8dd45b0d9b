//! A per-client-IP allowance of requests a minute (GCRA, from `governor`), shared by every
//! public endpoint that a flood could abuse (sign-ups, device logs).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

/// Limiter entries kept before idle ones are dropped.
const MAX_TRACKED_IPS: usize = 10_000;

/// A refused request: too many from this address; retry after this long.
#[derive(Debug, Clone, Copy)]
pub struct Limited(pub Duration);

impl Limited {
    /// Whole seconds to wait, at least one (for `Retry-After`).
    pub fn retry_after_secs(self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }

    /// Sets `Retry-After` on a 429 answer.
    pub fn on(self, mut resp: Response) -> Response {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(self.retry_after_secs()));
        resp
    }
}

/// `per_minute` requests per client IP; 0 is no limit.
pub struct PerIpLimit(Option<DefaultKeyedRateLimiter<IpAddr>>);

impl PerIpLimit {
    pub fn per_minute(per_minute: u32) -> Self {
        Self(NonZeroU32::new(per_minute).map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))))
    }

    /// Takes one request from `ip` out of its allowance.
    pub fn check(&self, ip: IpAddr) -> Result<(), Limited> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        if limiter.len() > MAX_TRACKED_IPS {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| Limited(not_until.wait_time_from(limiter.clock().now())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowance_per_ip() {
        let limit = PerIpLimit::per_minute(3);
        let (a, b): (IpAddr, IpAddr) = ("203.0.113.1".parse().unwrap(), "203.0.113.2".parse().unwrap());
        for _ in 0..3 {
            assert!(limit.check(a).is_ok());
        }
        let Limited(wait) = limit.check(a).unwrap_err();
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limit.check(b).is_ok(), "another address has its own allowance");
        let unlimited = PerIpLimit::per_minute(0);
        assert!((0..100).all(|_| unlimited.check(a).is_ok()));
    }
}
