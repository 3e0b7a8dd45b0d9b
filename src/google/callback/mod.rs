//! Google Wallet save/delete callbacks: verification of the `ECv2SigningOnly` signed messages that Google POSTs
//! to a class's `callbackOptions.url` (Tink's `PaymentMethodTokenRecipient` protocol, sender id `GooglePayPasses`),
//! and a cache of Google's root signing keys (`https://pay.google.com/gp/m/issuer/keys`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::sign::Verifier;
use serde_json::{Map, Value};

/// Where Google publishes the root keys that sign callback intermediate keys.
pub const GOOGLE_ROOT_KEYS_URL: &str = "https://pay.google.com/gp/m/issuer/keys";
/// The sender id Google uses for pass callbacks.
pub const SENDER_ID: &str = "GooglePayPasses";
/// The only protocol version accepted.
pub const PROTOCOL_VERSION: &str = "ECv2SigningOnly";
/// The DoS guard: at most one root-key fetch per this interval, whatever happens.
pub const MIN_REFETCH: Duration = Duration::from_secs(60);
/// Intermediate signatures examined at most (each costs one ECDSA verification per root key).
const MAX_SIGNATURES: usize = 16;
/// Longest base64 text decoded (keys and signatures are far shorter).
const MAX_BASE64: usize = 8192;

/// One of Google's root signing keys.
#[derive(Debug, Clone)]
pub struct RootKey {
    pub key: PKey<Public>,
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventType {
    /// `"save"`: a user saved the object.
    Save,
    /// `"del"`: a user removed the object.
    Delete,
}

/// The verified content of a callback's `signedMessage`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackMessage {
    pub class_id: String,
    pub object_id: String,
    pub event_type: EventType,
    pub exp_time_millis: i64,
    /// Absent in the message → 0.
    pub count: i64,
    /// Google retries, so duplicates arrive: de-duplicate on this.
    pub nonce: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("malformed callback: {0}")]
    Malformed(String),
    #[error("bad callback signature: {0}")]
    BadSignature(String),
    #[error("expired: {0}")]
    Expired(String),
    #[error("no usable Google root signing keys")]
    NoRootKeys,
    #[error("fetching Google root signing keys: {0}")]
    Fetch(String),
}

fn malformed(what: impl Into<String>) -> CallbackError {
    CallbackError::Malformed(what.into())
}

/// Parses the root keys document `{"keys":[{"keyValue","protocolVersion","keyExpiration"?}]}`, keeping the
/// `ECv2SigningOnly` P-256 keys that have not expired at `now_ms`. Unreadable entries are skipped.
pub fn parse_root_keys(json: &[u8], now_ms: i64) -> Result<Vec<RootKey>, CallbackError> {
    let doc: Value = serde_json::from_slice(json).map_err(|e| malformed(format!("root keys: {e}")))?;
    let entries = doc.get("keys").and_then(Value::as_array).ok_or_else(|| malformed("root keys: no \"keys\" array"))?;
    let mut keys = Vec::new();
    for entry in entries {
        if entry.get("protocolVersion").and_then(Value::as_str) != Some(PROTOCOL_VERSION) {
            continue;
        }
        let expires_at_ms = match entry.get("keyExpiration") {
            None | Some(Value::Null) => None,
            Some(v) => match as_ms(v) {
                Some(ms) => Some(ms),
                None => continue,
            },
        };
        if expires_at_ms.is_some_and(|exp| exp <= now_ms) {
            continue;
        }
        match entry.get("keyValue").and_then(Value::as_str).map(p256_key) {
            Some(Ok(key)) => keys.push(RootKey { key, expires_at_ms }),
            _ => tracing::warn!("skipping an unreadable Google root signing key"),
        }
    }
    Ok(keys)
}

/// Verifies a callback body for `issuer_id` against `roots` at `now_ms` and returns its message.
pub fn verify(body: &[u8], issuer_id: &str, roots: &[RootKey], now_ms: i64) -> Result<CallbackMessage, CallbackError> {
    let envelope: Value = serde_json::from_slice(body).map_err(|e| malformed(format!("body: {e}")))?;
    let envelope = envelope.as_object().ok_or_else(|| malformed("body is not a JSON object"))?;
    let protocol = str_field(envelope, "protocolVersion")?;
    if protocol != PROTOCOL_VERSION {
        return Err(malformed(format!("protocolVersion {protocol:?}, expected {PROTOCOL_VERSION}")));
    }
    let signature = b64(str_field(envelope, "signature")?)?;
    let signed_message = str_field(envelope, "signedMessage")?;
    let intermediate = envelope
        .get("intermediateSigningKey")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("missing intermediateSigningKey"))?;
    let signed_key = str_field(intermediate, "signedKey")?;
    let signatures = intermediate
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("missing intermediateSigningKey.signatures"))?;
    if signatures.is_empty() || signatures.len() > MAX_SIGNATURES {
        return Err(malformed(format!("{} intermediate signatures", signatures.len())));
    }
    let signatures = signatures
        .iter()
        .map(|s| s.as_str().ok_or_else(|| malformed("an intermediate signature is not a string")).and_then(b64))
        .collect::<Result<Vec<_>, _>>()?;

    // 1–2. Some intermediate signature verifies under some unexpired root key.
    let roots: Vec<&RootKey> = roots.iter().filter(|r| r.expires_at_ms.is_none_or(|exp| exp > now_ms)).collect();
    if roots.is_empty() {
        return Err(CallbackError::NoRootKeys);
    }
    let key_data = signed_data(&[SENDER_ID, PROTOCOL_VERSION, signed_key])?;
    let trusted = signatures.iter().any(|sig| roots.iter().any(|root| ecdsa_verify(&root.key, sig, &key_data)));
    if !trusted {
        return Err(CallbackError::BadSignature("intermediate key not signed by a Google root key".into()));
    }

    // 3. The intermediate key has not expired.
    let signed_key: Value = serde_json::from_str(signed_key).map_err(|e| malformed(format!("signedKey: {e}")))?;
    let signed_key = signed_key.as_object().ok_or_else(|| malformed("signedKey is not a JSON object"))?;
    let key_expiration = ms_field(signed_key, "keyExpiration")?;
    if key_expiration <= now_ms {
        return Err(CallbackError::Expired(format!("intermediate signing key expired at {key_expiration} ms")));
    }
    let intermediate_key = p256_key(str_field(signed_key, "keyValue")?)?;

    // 4. The message is signed by the intermediate key, for this issuer.
    let message_data = signed_data(&[SENDER_ID, issuer_id, PROTOCOL_VERSION, signed_message])?;
    if !ecdsa_verify(&intermediate_key, &signature, &message_data) {
        return Err(CallbackError::BadSignature("message signature does not verify for this issuer".into()));
    }

    // 5. The message has not expired.
    let message: Value = serde_json::from_str(signed_message).map_err(|e| malformed(format!("signedMessage: {e}")))?;
    let message = message.as_object().ok_or_else(|| malformed("signedMessage is not a JSON object"))?;
    let exp_time_millis = ms_field(message, "expTimeMillis")?;
    if exp_time_millis <= now_ms {
        return Err(CallbackError::Expired(format!("message expired at {exp_time_millis} ms")));
    }
    let event_type = match str_field(message, "eventType")? {
        "save" => EventType::Save,
        "del" => EventType::Delete,
        other => return Err(malformed(format!("eventType {other:?}"))),
    };
    let count = match message.get("count") {
        None | Some(Value::Null) => 0,
        Some(v) => as_ms(v).ok_or_else(|| malformed("count is not an integer"))?,
    };
    Ok(CallbackMessage {
        class_id: str_field(message, "classId")?.to_owned(),
        object_id: str_field(message, "objectId")?.to_owned(),
        event_type,
        exp_time_millis,
        count,
        nonce: str_field(message, "nonce")?.to_owned(),
    })
}

/// `LP(p1)‖LP(p2)‖…`, where `LP(x)` is the 4-byte little-endian length of x, then x.
pub(crate) fn signed_data(parts: &[&str]) -> Result<Vec<u8>, CallbackError> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 4).sum());
    for part in parts {
        let len = u32::try_from(part.len()).map_err(|_| malformed("field too long"))?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    Ok(out)
}

fn ecdsa_verify(key: &PKey<Public>, signature: &[u8], data: &[u8]) -> bool {
    Verifier::new(MessageDigest::sha256(), key).and_then(|mut v| v.verify_oneshot(signature, data)).unwrap_or(false)
}

fn b64(text: &str) -> Result<Vec<u8>, CallbackError> {
    if text.len() > MAX_BASE64 {
        return Err(malformed("base64 value too long"));
    }
    match openssl::base64::decode_block(text) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(malformed("bad base64")),
    }
}

/// A base64 DER SubjectPublicKeyInfo holding an EC P-256 key.
fn p256_key(text: &str) -> Result<PKey<Public>, CallbackError> {
    let key = PKey::public_key_from_der(&b64(text)?).map_err(|_| malformed("bad public key"))?;
    let curve = key.ec_key().ok().and_then(|k| k.group().curve_name());
    if curve != Some(Nid::X9_62_PRIME256V1) {
        return Err(malformed("public key is not EC P-256"));
    }
    Ok(key)
}

fn str_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, CallbackError> {
    obj.get(name).and_then(Value::as_str).ok_or_else(|| malformed(format!("missing string {name}")))
}

fn ms_field(obj: &Map<String, Value>, name: &str) -> Result<i64, CallbackError> {
    obj.get(name).and_then(as_ms).ok_or_else(|| malformed(format!("missing integer {name}")))
}

/// An integer given as a JSON number or a numeric string.
fn as_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Fetches the root keys document.
#[async_trait::async_trait]
pub trait KeyFetcher: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String>;
}

/// [`KeyFetcher`] over HTTPS (webpki roots; plain HTTP also allowed, for tests), 10 s timeout, 64 KiB body limit.
pub struct HttpKeyFetcher {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl HttpKeyFetcher {
    const TIMEOUT: Duration = Duration::from_secs(10);
    const MAX_BODY: usize = 64 * 1024;

    pub fn new() -> Result<Self, CallbackError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| CallbackError::Fetch(format!("TLS setup: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        Ok(Self { client: Client::builder(TokioExecutor::new()).build(connector) })
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let request = hyper::Request::get(url)
            .header(hyper::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|e| format!("bad URL {url:?}: {e}"))?;
        let response = self.client.request(request).await.map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", response.status()));
        }
        let body = Limited::new(response.into_body(), Self::MAX_BODY).collect().await;
        Ok(body.map_err(|e| format!("GET {url}: body: {e}"))?.to_bytes().to_vec())
    }
}

#[async_trait::async_trait]
impl KeyFetcher for HttpKeyFetcher {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        tokio::time::timeout(Self::TIMEOUT, self.get(url)).await.unwrap_or_else(|_| Err(format!("GET {url}: timeout")))
    }
}

/// Google's root keys, fetched on demand and kept until `max_age` or the earliest key expiry.
pub struct RootKeyCache {
    url: String,
    max_age: Duration,
    fetch: Arc<dyn KeyFetcher>,
    /// Held across a fetch, so concurrent callers share one fetch.
    state: tokio::sync::Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    keys: Option<Arc<Vec<RootKey>>>,
    fetched_at_ms: i64,
    last_attempt_ms: Option<i64>,
}

impl CacheState {
    fn fresh(&self, now_ms: i64, max_age: Duration) -> Option<Arc<Vec<RootKey>>> {
        let keys = self.keys.as_ref()?;
        let young = now_ms.saturating_sub(self.fetched_at_ms) < i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let earliest = keys.iter().filter_map(|k| k.expires_at_ms).min();
        (young && earliest.is_none_or(|exp| exp > now_ms)).then(|| keys.clone())
    }

    /// The cached keys still unexpired at `now_ms` (served when a refresh is impossible).
    fn usable(&self, now_ms: i64) -> Option<Arc<Vec<RootKey>>> {
        let keys = self.keys.as_ref()?;
        let live: Vec<RootKey> = keys.iter().filter(|k| k.expires_at_ms.is_none_or(|e| e > now_ms)).cloned().collect();
        (!live.is_empty()).then(|| if live.len() == keys.len() { keys.clone() } else { Arc::new(live) })
    }
}

impl RootKeyCache {
    pub fn new(url: String, max_age: Duration, fetch: Arc<dyn KeyFetcher>) -> Self {
        Self { url, max_age, fetch, state: tokio::sync::Mutex::new(CacheState::default()) }
    }

    /// Cached keys; fetched when absent, older than max_age, or past the earliest key expiry. A failed verification
    /// does NOT trigger a re-fetch (DoS guard: at most one fetch per [`MIN_REFETCH`] even when asked). When a
    /// refresh fails or is held back, the cached keys that have not expired are served.
    pub async fn keys(&self, now_ms: i64) -> Result<Arc<Vec<RootKey>>, CallbackError> {
        let mut state = self.state.lock().await;
        if let Some(keys) = state.fresh(now_ms, self.max_age) {
            return Ok(keys);
        }
        self.refetch(&mut state, now_ms).await
    }

    /// Asks for a re-fetch now (e.g. after a root-key rotation is suspected); still at most one fetch per
    /// [`MIN_REFETCH`].
    pub async fn refresh(&self, now_ms: i64) -> Result<Arc<Vec<RootKey>>, CallbackError> {
        let mut state = self.state.lock().await;
        self.refetch(&mut state, now_ms).await
    }

    async fn refetch(&self, state: &mut CacheState, now_ms: i64) -> Result<Arc<Vec<RootKey>>, CallbackError> {
        let min = i64::try_from(MIN_REFETCH.as_millis()).unwrap_or(i64::MAX);
        if state.last_attempt_ms.is_some_and(|last| now_ms.saturating_sub(last) < min) {
            return state.usable(now_ms).ok_or_else(|| match state.keys {
                Some(_) => CallbackError::NoRootKeys,
                None => CallbackError::Fetch("last fetch failed; next attempt held back".into()),
            });
        }
        state.last_attempt_ms = Some(now_ms);
        let result = match self.fetch.fetch(&self.url).await {
            Ok(doc) => parse_root_keys(&doc, now_ms),
            Err(e) => Err(CallbackError::Fetch(e)),
        };
        match result {
            Ok(keys) if !keys.is_empty() => {
                let keys = Arc::new(keys);
                state.keys = Some(keys.clone());
                state.fetched_at_ms = now_ms;
                Ok(keys)
            }
            Ok(_) => state.usable(now_ms).ok_or(CallbackError::NoRootKeys),
            Err(e) => {
                tracing::warn!(error = %e, "refreshing Google root signing keys failed");
                state.usable(now_ms).ok_or(e)
            }
        }
    }
}

#[cfg(test)]
mod tests;
