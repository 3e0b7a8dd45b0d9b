//! The Google Wallet REST client (walletobjects v1): insert-or-patch of classes and objects, reads, and messages.
//!
//! Authentication is a service-account OAuth token from yup-oauth2 (cached by yup; one forced refresh on a 401).
//! Every request to Google waits for a slot of the [`RateLimiter`], has the configured timeout, and is retried with
//! jittered exponential backoff on 429, 5xx and transport errors only. 400/403/404/409 are never retried: 409 on
//! insert becomes a PATCH, 404 on PATCH becomes an insert, and 403 `quotaExceeded` on a `TEXT_AND_NOTIFY` message
//! becomes a `TEXT` message (google.md §2, §4).

use std::error::Error as StdError;
use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use yup_oauth2::authenticator::Authenticator;

use crate::dependencies::DependencyHealth;

/// The only OAuth scope of the Google Wallet API.
pub const SCOPE: &str = "https://www.googleapis.com/auth/wallet_object.issuer";

/// Google's production base URL.
pub const DEFAULT_API_URL: &str = "https://walletobjects.googleapis.com/walletobjects/v1";

/// Where and how to reach Google.
#[derive(Debug, Clone)]
pub struct GoogleSettings {
    /// Base of the walletobjects API, without trailing slash (default [`DEFAULT_API_URL`]; tests use a mock).
    pub api_url: String,
    /// Limit for each HTTP request (sending and reading the answer), and for each token request.
    pub timeout: Duration,
    /// Retries after the first try, on retryable errors only (429, 5xx, transport).
    pub max_retries: u32,
    /// First backoff; doubled on every retry, capped at `backoff_max`, then jittered to 50–100 %.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl From<&crate::config::Google> for GoogleSettings {
    fn from(google: &crate::config::Google) -> Self {
        GoogleSettings {
            api_url: google.api_url.trim_end_matches('/').to_owned(),
            timeout: Duration::from_millis(google.timeout_ms),
            max_retries: google.max_retries,
            backoff_base: Duration::from_millis(google.backoff_base_ms),
            backoff_max: Duration::from_millis(google.backoff_max_ms.max(google.backoff_base_ms)),
        }
    }
}

impl Default for GoogleSettings {
    fn default() -> Self {
        GoogleSettings {
            api_url: DEFAULT_API_URL.to_owned(),
            timeout: Duration::from_secs(30),
            max_retries: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// Google answered with an error status. `reason` is `error.errors[0].reason` (else `error.status`, else the HTTP
    /// reason phrase); `message` is `error.message` (else the start of the body).
    #[error("Google answered {status} {reason}: {message}")]
    Api { status: u16, reason: String, message: String },
    /// No answer: connection failure, timeout, unreadable answer, or the token endpoint unreachable.
    #[error("Google unreachable: {0}")]
    Transport(String),
    /// The token endpoint refused the service account (bad key, revoked account, …).
    #[error("OAuth token: {0}")]
    Token(String),
    /// A resource or id with characters outside `[A-Za-z0-9._-]`, or a body whose `id` differs; nothing was sent.
    #[error("invalid Google Wallet id: {0}")]
    InvalidId(String),
}

impl GoogleError {
    /// Worth trying again later: 429, 5xx and transport errors.
    pub fn retryable(&self) -> bool {
        match self {
            GoogleError::Api { status, .. } => *status == 429 || (500..600).contains(status),
            GoogleError::Transport(_) => true,
            GoogleError::Token(_) | GoogleError::InvalidId(_) => false,
        }
    }

    /// The HTTP status Google answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GoogleError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn is(&self, want_status: u16, want_reason: &str) -> bool {
        matches!(self, GoogleError::Api { status, reason, .. }
            if *status == want_status && (want_reason.is_empty() || reason.eq_ignore_ascii_case(want_reason)))
    }
}

/// Waits for a slot of the per-issuer rate limit (shared by every process through the database; the lead implements it).
#[async_trait]
pub trait RateLimiter: Send + Sync {
    async fn acquire(&self);
}

/// No rate limit (tests, single-shot CLI).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRateLimit;

#[async_trait]
impl RateLimiter for NoRateLimit {
    async fn acquire(&self) {}
}

/// The Google Wallet operations the rest of the server needs (the real client, or a test fake).
#[async_trait]
pub trait WalletApi: Send + Sync {
    /// Insert, or patch when it exists (409 on insert → PATCH). `resource` is e.g. "loyaltyClass".
    async fn upsert(&self, resource: &str, id: &str, body: &Value) -> Result<(), GoogleError>;
    /// Patch, or insert when missing (404 on PATCH → insert).
    async fn patch_or_insert(&self, resource: &str, id: &str, body: &Value) -> Result<(), GoogleError>;
    /// The resource, or `None` on 404.
    async fn get(&self, resource: &str, id: &str) -> Result<Option<Value>, GoogleError>;
    /// addMessage; a TEXT_AND_NOTIFY refused with 403 quotaExceeded is sent again as TEXT. Returns the message type
    /// that went out (`TEXT` when the message has no `messageType`, Google's default).
    async fn add_message(&self, resource: &str, id: &str, message: &Value) -> Result<String, GoogleError>;
}

type Https = HttpsConnector<HttpConnector>;

/// The real client. Cheap to share behind an `Arc`; the HTTP connection pool and the token cache live inside.
pub struct GoogleClient {
    http: Client<Https, Full<Bytes>>,
    auth: Authenticator<Https>,
    client_email: String,
    settings: GoogleSettings,
    limiter: Arc<dyn RateLimiter>,
    health: Arc<DependencyHealth>,
}

impl fmt::Debug for GoogleClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No key, no token.
        f.debug_struct("GoogleClient")
            .field("client_email", &self.client_email)
            .field("settings", &self.settings)
            .finish()
    }
}

impl GoogleClient {
    /// Reads the service-account key (JSON, PKCS#8 key) and prepares the token flow and the HTTP client. Nothing is
    /// sent yet: a bad key or an unreachable token endpoint shows up on the first call, as [`GoogleError::Token`] or
    /// [`GoogleError::Transport`].
    pub async fn new(
        service_account_json: &Path,
        mut settings: GoogleSettings,
        limiter: Arc<dyn RateLimiter>,
    ) -> anyhow::Result<Self> {
        let key = yup_oauth2::read_service_account_key(service_account_json)
            .await
            .with_context(|| format!("reading Google service-account key {}", service_account_json.display()))?;
        let client_email = key.client_email.clone();
        let auth = yup_oauth2::ServiceAccountAuthenticator::builder(key)
            .with_timeout(settings.timeout)
            .build()
            .await
            .context("preparing the Google OAuth token flow")?;
        settings.api_url = settings.api_url.trim_end_matches('/').to_owned();
        format!("{}/x", settings.api_url)
            .parse::<Uri>()
            .with_context(|| format!("invalid Google API URL {:?}", settings.api_url))?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .context("loading the system's root certificates")?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let http = Client::builder(TokioExecutor::new()).build(https);
        let health = Arc::new(DependencyHealth::new("google"));
        Ok(GoogleClient { http, auth, client_email, settings, limiter, health })
    }

    /// Records each call's outcome in `health` (the process's, reported by `/readyz`).
    pub fn with_health(self, health: Arc<DependencyHealth>) -> Self {
        Self { health, ..self }
    }

    /// Google answered as a working service does (even "not found"), or not: unreachable,
    /// overloaded, or refusing our account.
    fn record<T>(&self, result: &Result<T, GoogleError>) {
        match result {
            Err(e @ (GoogleError::Transport(_) | GoogleError::Token(_))) => self.health.failure(&e.to_string()),
            Err(e @ GoogleError::Api { status: 401 | 403 | 429 | 500.., .. }) => self.health.failure(&e.to_string()),
            Err(GoogleError::InvalidId(_)) => {}
            Ok(_) | Err(GoogleError::Api { .. }) => self.health.success(),
        }
    }

    /// The service account's e-mail (`client_email` of the key); it signs save links as `iss`.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    pub fn settings(&self) -> &GoogleSettings {
        &self.settings
    }

    /// One API call with retries and the 401 refresh: the body of the 2xx answer, or the last error.
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Bytes, GoogleError> {
        let url = format!("{}/{}", self.settings.api_url, path);
        let body = match body {
            Some(b) => Bytes::from(b.to_string()),
            None => Bytes::new(),
        };
        let (mut retries, mut refreshed, mut force_refresh) = (0, false, false);
        loop {
            let result = self.attempt(&method, &url, body.clone(), force_refresh).await;
            force_refresh = false;
            match result {
                Err(e) if e.is(401, "") && !refreshed => {
                    tracing::info!(%method, path, "Google refused the OAuth token; fetching a new one");
                    (refreshed, force_refresh) = (true, true);
                }
                Err(e) if e.retryable() && retries < self.settings.max_retries => {
                    let delay = backoff(&self.settings, retries);
                    retries += 1;
                    tracing::warn!(%method, path, retry = retries, ?delay, error = %e, "Google Wallet call failed; retrying");
                    tokio::time::sleep(delay).await;
                }
                other => {
                    self.record(&other);
                    return other;
                }
            }
        }
    }

    /// One HTTP request (after a rate-limit slot), within the timeout.
    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Bytes,
        force_refresh: bool,
    ) -> Result<Bytes, GoogleError> {
        let token = if force_refresh {
            self.auth.force_refreshed_token(&[SCOPE]).await
        } else {
            self.auth.token(&[SCOPE]).await
        };
        let token = token.map_err(token_error)?;
        let token = token.token().ok_or_else(|| GoogleError::Token("answer without access_token".into()))?;
        let mut bearer = HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|_| GoogleError::Token("access token is not a valid header value".into()))?;
        bearer.set_sensitive(true);
        let mut request = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(AUTHORIZATION, bearer)
            .header(ACCEPT, "application/json");
        if !body.is_empty() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(body)).map_err(|e| GoogleError::Transport(format!("bad request: {e}")))?;

        self.limiter.acquire().await;
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| GoogleError::Transport(chain(&e)))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| GoogleError::Transport(chain(&e)))?.to_bytes();
            Ok::<_, GoogleError>((parts.status, body))
        };
        let (status, body) = tokio::time::timeout(self.settings.timeout, exchange)
            .await
            .map_err(|_| GoogleError::Transport(format!("no answer within {:?}", self.settings.timeout)))??;
        if status.is_success() { Ok(body) } else { Err(api_error(status, &body)) }
    }

    async fn insert(&self, resource: &str, id: &str, body: &Value) -> Result<(), GoogleError> {
        let body = with_id(body, id)?;
        self.call(Method::POST, resource, Some(&body)).await.map(drop)
    }

    async fn patch(&self, resource: &str, id: &str, body: &Value) -> Result<(), GoogleError> {
        self.call(Method::PATCH, &format!("{resource}/{id}"), Some(body)).await.map(drop)
    }
}

#[async_trait]
impl WalletApi for GoogleClient {
    async fn upsert(&self, resource: &str, id: &str, body: &Value) -> Result<(), GoogleError> {
        check_ids(resource, id)?;
        match self.insert(resource, id, body).await {
            Err(e) if e.is(409, "") => {
                tracing::debug!(resource, id, "already at Google; patching");
                self.patch(resource, id, body).await
            }
            other => other,
        }
    }

    async fn patch_or_insert(&self, resource: &str, id: &str, body: &Value) -> Result<(), GoogleError> {
        check_ids(resource, id)?;
        match self.patch(resource, id, body).await {
            Err(e) if e.is(404, "") => {
                tracing::debug!(resource, id, "not at Google yet; inserting");
                match self.insert(resource, id, body).await {
                    // Inserted meanwhile by someone else: patch after all.
                    Err(e) if e.is(409, "") => self.patch(resource, id, body).await,
                    other => other,
                }
            }
            other => other,
        }
    }

    async fn get(&self, resource: &str, id: &str) -> Result<Option<Value>, GoogleError> {
        check_ids(resource, id)?;
        match self.call(Method::GET, &format!("{resource}/{id}"), None).await {
            Ok(body) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| GoogleError::Transport(format!("unreadable answer to GET {resource}/{id}: {e}"))),
            Err(e) if e.is(404, "") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn add_message(&self, resource: &str, id: &str, message: &Value) -> Result<String, GoogleError> {
        check_ids(resource, id)?;
        let kind = message.get("messageType").and_then(Value::as_str).unwrap_or("TEXT").to_owned();
        let path = format!("{resource}/{id}/addMessage");
        match self.call(Method::POST, &path, Some(&json!({ "message": message }))).await {
            Ok(_) => Ok(kind),
            Err(e) if kind == "TEXT_AND_NOTIFY" && e.is(403, "quotaExceeded") => {
                tracing::info!(resource, id, "notification quota exceeded; sending the message as TEXT");
                let mut text = message.clone();
                text["messageType"] = json!("TEXT");
                self.call(Method::POST, &path, Some(&json!({ "message": text }))).await?;
                Ok("TEXT".to_owned())
            }
            Err(e) => Err(e),
        }
    }
}

/// Resource names and ids go into URL paths unencoded, so only `[A-Za-z0-9._-]` is allowed.
fn check_ids(resource: &str, id: &str) -> Result<(), GoogleError> {
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok(resource) || resource.contains('.') {
        return Err(GoogleError::InvalidId(format!("resource {resource:?}")));
    }
    if !ok(id) || id == "." || id == ".." {
        return Err(GoogleError::InvalidId(format!("{id:?} (allowed: A-Z a-z 0-9 . _ -)")));
    }
    Ok(())
}

/// The insert body: `body` with `"id": id` (a different `id` in the body is refused).
fn with_id(body: &Value, id: &str) -> Result<Value, GoogleError> {
    let mut body = body.clone();
    let Some(fields) = body.as_object_mut() else {
        return Err(GoogleError::InvalidId(format!("body for {id:?} is not a JSON object")));
    };
    match fields.get("id") {
        None => {
            fields.insert("id".into(), json!(id));
        }
        Some(Value::String(s)) if s == id => {}
        Some(other) => return Err(GoogleError::InvalidId(format!("body id {other} differs from {id:?}"))),
    }
    Ok(body)
}

/// Google's error shape `{"error":{"code","message","status","errors":[{"domain","reason"}]}}`.
fn api_error(status: StatusCode, body: &[u8]) -> GoogleError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &parsed["error"];
    let reason = error["errors"][0]["reason"]
        .as_str()
        .or_else(|| error["status"].as_str())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"));
    let message = match error["message"].as_str() {
        Some(m) => m.to_owned(),
        None => String::from_utf8_lossy(body).chars().take(300).collect(),
    };
    GoogleError::Api { status: status.as_u16(), reason: reason.to_owned(), message }
}

/// yup-oauth2 errors: unreachable token endpoint → transport (retryable), refusals → token.
fn token_error(e: yup_oauth2::Error) -> GoogleError {
    use yup_oauth2::Error as E;
    match e {
        E::HttpError(_) | E::HttpClientError(_) | E::LowLevelError(_) => {
            GoogleError::Transport(format!("OAuth token endpoint: {}", chain(&e)))
        }
        e => GoogleError::Token(chain(&e)),
    }
}

/// An error and its sources, `a: b: c` (hyper's top-level messages alone say little).
fn chain(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.ends_with(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Delay before retry number `retry + 1`: `base * 2^retry`, capped at `max`, jittered to 50–100 %.
fn backoff(settings: &GoogleSettings, retry: u32) -> Duration {
    let full = settings.backoff_base.saturating_mul(2u32.saturating_pow(retry.min(20))).min(settings.backoff_max);
    let random = RandomState::new().build_hasher().finish();
    let fraction = 0.5 + 0.5 * (random >> 11) as f64 / (1u64 << 53) as f64;
    full.mul_f64(fraction)
}

#[cfg(test)]
mod tests;
