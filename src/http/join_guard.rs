//! What guards the public sign-up form: CSRF tokens and a per-IP flood limit.
//!
//! CSRF (double submit, signed): each visitor gets a random nonce in a `SameSite=Strict;
//! HttpOnly` cookie, and the form carries `HMAC-SHA256(PASSERELLE_SECRET_KEY, nonce)` in a
//! hidden field. A POST must bring both, and they must match: another site can neither read
//! the cookie nor compute the token. Without the secret configured a random one is drawn at
//! start, so forms served before a restart (or by another process) are refused.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;

use super::extract::secrets_equal;
use crate::tokens;

/// The cookie holding the visitor's nonce.
pub const COOKIE_NAME: &str = "passerelle_join";
/// How long the nonce cookie lives (a form left open overnight still works).
const COOKIE_MAX_AGE_SECS: u64 = 86_400;
/// Limiter entries kept before idle ones are dropped.
const MAX_TRACKED_IPS: usize = 10_000;

pub struct JoinGuard {
    key: PKey<Private>,
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// `Secure` cookies when the public URL is https.
    secure: bool,
}

/// A refused POST: too many from this address; retry after this long.
#[derive(Debug, Clone, Copy)]
pub struct Limited(pub Duration);

impl JoinGuard {
    pub fn new(config: &crate::config::Http, public_url: &str) -> anyhow::Result<Self> {
        let secret = match &config.secret_key {
            Some(s) if !s.expose().is_empty() => {
                if s.expose().len() < 32 {
                    tracing::warn!("PASSERELLE_SECRET_KEY is shorter than 32 characters: use a long random value");
                }
                s.expose().as_bytes().to_vec()
            }
            _ => {
                tracing::warn!(
                    "PASSERELLE_SECRET_KEY is unset: a random key was drawn for this process, so sign-up forms \
                     opened before a restart or served by another process will be refused (403); set it, the same \
                     on every process, in production"
                );
                let mut key = vec![0u8; 32];
                openssl::rand::rand_bytes(&mut key)?;
                key
            }
        };
        let limiter =
            NonZeroU32::new(config.join_rate_per_min).map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n)));
        Ok(Self {
            key: PKey::hmac(&secret)?,
            limiter,
            trusted_proxies: config.trusted_proxies.clone(),
            secure: public_url.starts_with("https://"),
        })
    }

    /// The form token of a nonce: hex HMAC-SHA256 under the server secret.
    pub fn token(&self, nonce: &str) -> String {
        let sign = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
            let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
            signer.update(b"passerelle join form\0")?;
            signer.update(nonce.as_bytes())?;
            signer.sign_to_vec()
        };
        hex::encode(sign().expect("HMAC-SHA256 with OpenSSL"))
    }

    /// Whether `token` is the token of the nonce in the request's cookie.
    pub fn verify(&self, headers: &HeaderMap, token: Option<&str>) -> bool {
        match (nonce_of(headers), token) {
            (Some(nonce), Some(token)) => secrets_equal(&self.token(&nonce), token),
            _ => false,
        }
    }

    /// The visitor's nonce (from the cookie) and, for a new visitor, the `Set-Cookie` giving them one.
    pub fn nonce(&self, headers: &HeaderMap) -> (String, Option<String>) {
        if let Some(nonce) = nonce_of(headers) {
            return (nonce, None);
        }
        let nonce = tokens::random_hex(16);
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{COOKIE_NAME}={nonce}; Path=/join; Max-Age={COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Strict{secure}"
        );
        (nonce, Some(cookie))
    }

    /// Takes one POST from `ip` out of its allowance.
    pub fn check_rate(&self, ip: IpAddr) -> Result<(), Limited> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        if limiter.len() > MAX_TRACKED_IPS {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| Limited(not_until.wait_time_from(limiter.clock().now())))
    }
}

/// A well-formed nonce from the request's cookies.
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(secret: Option<&str>, rate: u32) -> JoinGuard {
        let mut config = crate::config::Config::defaults();
        config.http.secret_key = secret.map(crate::secret::Secret::new);
        config.http.join_rate_per_min = rate;
        JoinGuard::new(&config.http, "https://passes.example.com").unwrap()
    }

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, value.parse().unwrap());
        h
    }

    #[test]
    fn tokens_bind_the_cookie_to_the_secret() {
        let g = guard(Some("k".repeat(40).as_str()), 10);
        let (nonce, set_cookie) = g.nonce(&HeaderMap::new());
        let set_cookie = set_cookie.unwrap();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
        assert!(set_cookie.contains("; Secure"), "https public URL");
        let headers = with_cookie(&format!("other=1; {COOKIE_NAME}={nonce}"));
        assert_eq!(g.nonce(&headers), (nonce.clone(), None), "a returning visitor keeps the nonce");
        let token = g.token(&nonce);
        assert!(g.verify(&headers, Some(&token)));
        assert!(!g.verify(&headers, None));
        assert!(!g.verify(&HeaderMap::new(), Some(&token)), "no cookie");
        assert!(!g.verify(&headers, Some(&g.token(&tokens::random_hex(16)))), "another nonce's token");
        let other = guard(Some("x".repeat(40).as_str()), 10);
        assert!(!other.verify(&headers, Some(&token)), "another secret");
        let same = guard(Some("k".repeat(40).as_str()), 10);
        assert!(same.verify(&headers, Some(&token)), "the same secret on another process");
        assert!(!guard(None, 10).verify(&headers, Some(&token)), "a random secret");
    }

    #[test]
    fn rate_limit_per_ip() {
        let g = guard(None, 3);
        let (a, b): (IpAddr, IpAddr) = ("203.0.113.1".parse().unwrap(), "203.0.113.2".parse().unwrap());
        for _ in 0..3 {
            assert!(g.check_rate(a).is_ok());
        }
        let Limited(wait) = g.check_rate(a).unwrap_err();
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(g.check_rate(b).is_ok(), "another address has its own allowance");
        let unlimited = guard(None, 0);
        assert!((0..100).all(|_| unlimited.check_rate(a).is_ok()));
    }
}
