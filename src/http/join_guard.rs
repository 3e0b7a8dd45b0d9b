//! What guards the public sign-up form: single-use, expiring form tokens bound to the
//! visitor's cookie, and a per-IP flood limit.
//!
//! CSRF (double submit, signed): each visitor gets a random nonce in a `SameSite=Strict;
//! HttpOnly` cookie, and each form carries a token `id.issued.mac`, where `mac` is
//! HMAC-SHA256 of the nonce, a random id and the issue time under the form-token key derived
//! from PASSERELLE_SECRET_KEY. A POST must bring both and they must match: another site can
//! neither read the cookie nor compute a token. A token expires after
//! PASSERELLE_JOIN_FORM_TOKEN_MINUTES, and its id is recorded in the database when used, so
//! one token makes one submission on whichever process receives it.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;

use super::extract::secrets_equal;
use super::rate_limit::{Limited, PerIpLimit};
use crate::tokens;

/// The cookie holding the visitor's nonce.
pub const COOKIE_NAME: &str = "passerelle_join";
/// The sign-up page's visitor cookie: a random id, counted once a day per flyer (unique scans).
pub const VISITOR_COOKIE: &str = "passerelle_visitor";
/// How long the nonce cookie lives (a form left open overnight still works).
const COOKIE_MAX_AGE_SECS: u64 = 86_400;

pub struct JoinGuard {
    key: PKey<Private>,
    limiter: PerIpLimit,
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// How long a form token works.
    pub ttl: Duration,
    /// `Secure` cookies when the public URL is https.
    secure: bool,
    /// The visitor cookie's `Max-Age` (`None`: a browser-session cookie).
    visitor_max_age: Option<u64>,
}

/// A form token whose signature and age are good: its id still has to be used once.
#[derive(Debug, Clone, PartialEq)]
pub struct FormToken {
    pub id: String,
    /// Unix seconds when it stops working.
    pub expires_at: i64,
}

fn now_secs() -> i64 {
    crate::store::now_ms() / 1000
}

impl JoinGuard {
    /// `key` is the `FormToken` key derived from PASSERELLE_SECRET_KEY.
    pub fn new(config: &crate::config::Http, public_url: &str, key: &[u8]) -> anyhow::Result<Self> {
        Ok(Self {
            key: PKey::hmac(key)?,
            limiter: PerIpLimit::per_minute(config.join_rate_per_min),
            trusted_proxies: config.trusted_proxies.clone(),
            ttl: Duration::from_secs(u64::from(config.join_form_token_minutes) * 60),
            secure: public_url.starts_with("https://"),
            visitor_max_age: (config.join_visitor_days > 0).then(|| u64::from(config.join_visitor_days) * 86_400),
        })
    }

    fn mac(&self, nonce: &str, id: &str, issued: i64) -> String {
        let sign = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
            let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
            signer.update(format!("passerelle join form\0{nonce}\0{id}\0{issued}").as_bytes())?;
            signer.sign_to_vec()
        };
        hex::encode(sign().expect("HMAC-SHA256 with OpenSSL"))
    }

    /// A fresh form token for a nonce, issued now.
    pub fn token(&self, nonce: &str) -> String {
        self.token_at(nonce, now_secs())
    }

    fn token_at(&self, nonce: &str, issued: i64) -> String {
        let id = tokens::random_hex(16);
        format!("{id}.{issued}.{}", self.mac(nonce, &id, issued))
    }

    /// The token, if it was issued for the nonce in the request's cookie and has not expired.
    pub fn verify(&self, headers: &HeaderMap, token: Option<&str>) -> Option<FormToken> {
        let (nonce, token) = (nonce_of(headers)?, token?);
        let mut parts = token.splitn(3, '.');
        let (id, issued, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let issued: i64 = issued.parse().ok()?;
        if !secrets_equal(&self.mac(&nonce, id, issued), mac) {
            return None;
        }
        let expires_at = issued.checked_add(self.ttl.as_secs() as i64)?;
        let now = now_secs();
        (issued <= now + 60 && now < expires_at).then(|| FormToken { id: id.to_owned(), expires_at })
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

    /// Who views the page, for unique scans: the SHA-256 of their visitor cookie (the id itself
    /// is never stored) and, for a new visitor, the `Set-Cookie` giving them one.
    pub fn visitor(&self, headers: &HeaderMap) -> (String, Option<String>) {
        let known = crate::http::cookies::get(headers, VISITOR_COOKIE)
            .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()));
        let (id, cookie) = match known {
            Some(id) => (id.to_owned(), None),
            None => {
                let id = tokens::random_hex(16);
                let cookie =
                    crate::http::cookies::set(VISITOR_COOKIE, &id, "/join", self.visitor_max_age, "Lax", self.secure);
                (id, Some(cookie))
            }
        };
        (hex::encode(openssl::sha::sha256(id.as_bytes())), cookie)
    }

    /// Takes one POST from `ip` out of its allowance.
    pub fn check_rate(&self, ip: std::net::IpAddr) -> Result<(), Limited> {
        self.limiter.check(ip)
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

    fn guard(key: &[u8]) -> JoinGuard {
        let mut config = crate::config::Config::defaults();
        config.http.join_form_token_minutes = 60;
        JoinGuard::new(&config.http, "https://passes.example.com", key).unwrap()
    }

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, value.parse().unwrap());
        h
    }

    #[test]
    fn tokens_bind_the_cookie_to_the_key_and_expire() {
        let g = guard(&[7; 32]);
        let (nonce, set_cookie) = g.nonce(&HeaderMap::new());
        let set_cookie = set_cookie.unwrap();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
        assert!(set_cookie.contains("; Secure"), "https public URL");
        let headers = with_cookie(&format!("other=1; {COOKIE_NAME}={nonce}"));
        assert_eq!(g.nonce(&headers), (nonce.clone(), None), "a returning visitor keeps the nonce");
        let token = g.token(&nonce);
        let checked = g.verify(&headers, Some(&token)).expect("a fresh token");
        assert_eq!(checked.id, token.split('.').next().unwrap());
        assert_ne!(g.token(&nonce), token, "every form gets its own token");
        assert!(g.verify(&headers, None).is_none());
        assert!(g.verify(&HeaderMap::new(), Some(&token)).is_none(), "no cookie");
        assert!(g.verify(&headers, Some(&g.token(&tokens::random_hex(16)))).is_none(), "another nonce's token");
        assert!(guard(&[8; 32]).verify(&headers, Some(&token)).is_none(), "another key");
        assert!(guard(&[7; 32]).verify(&headers, Some(&token)).is_some(), "the same key on another process");
        let old = g.token_at(&nonce, now_secs() - 3601);
        assert!(g.verify(&headers, Some(&old)).is_none(), "expired");
        let future = g.token_at(&nonce, now_secs() + 3600);
        assert!(g.verify(&headers, Some(&future)).is_none(), "issued in the future");
        let forged = token.replacen('.', ".1", 1);
        assert!(g.verify(&headers, Some(&forged)).is_none(), "another issue time, the same mac");
    }
}
