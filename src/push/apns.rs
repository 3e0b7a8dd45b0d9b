//! The APNs client for pass updates: HTTP/2 over TLS with the Pass Type ID certificate as
//! client certificate, one long-lived connection multiplexing many streams.
//!
//! Apple (Wallet Passes, "Updating a pass"): topic = pass type identifier, an empty JSON
//! dictionary as payload, production gateway only. `apns-push-type: background` with
//! priority 5, since priority 10 without an alert is refused.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;

use crate::apple::SigningIdentity;

/// What became of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushResult {
    Delivered,
    /// 410 Unregistered, 400 BadDeviceToken / DeviceTokenNotForTopic: the pass left that phone.
    DeviceGone(String),
    /// 429, 5xx, timeouts, dropped connections, other rejections: try again later.
    Retry(String),
    /// 403 or a refused TLS handshake: the certificate is the problem; retrying burns jobs.
    CertificateRefused(String),
}

impl PushResult {
    /// A short label for metrics.
    pub fn reason(&self) -> &str {
        match self {
            Self::Delivered => "delivered",
            Self::DeviceGone(r) | Self::Retry(r) | Self::CertificateRefused(r) => r,
        }
    }
}

/// Something that delivers a pass push to a device token (the real client, or a test fake).
#[async_trait]
pub trait PushSender: Send + Sync + 'static {
    async fn push(&self, token: &str) -> PushResult;
}

/// Where and how to reach APNs.
#[derive(Debug, Clone)]
pub struct ApnsSettings {
    /// `https://api.push.apple.com`, or a test server.
    pub url: String,
    /// PEM roots trusted besides the public ones (for test servers).
    pub extra_ca_file: Option<std::path::PathBuf>,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
}

impl From<&crate::config::Apns> for ApnsSettings {
    fn from(apns: &crate::config::Apns) -> Self {
        ApnsSettings {
            url: apns.url.clone(),
            extra_ca_file: apns.ca_file.clone(),
            request_timeout: Duration::from_millis(apns.timeout_ms),
            connect_timeout: Duration::from_millis(apns.connect_timeout_ms),
        }
    }
}

/// Times a refused (unprocessed) stream is sent again before counting as a failure.
const MAX_REFUSED_STREAM_RETRIES: usize = 5;

/// One try of a push: its result, or a stream the server refused unprocessed.
enum Attempt {
    Done(PushResult),
    Refused,
}

struct Connection {
    sender: SendRequest<Full<Bytes>>,
    id: u64,
}

/// New connections in a row that APNs closed before answering anything: then the refusal is
/// ours (TLS 1.3 reports a refused client certificate after the handshake, and a write may
/// fail before the server's alert is read), not a passing outage.
const REFUSED_FRESH_CONNECTIONS: u32 = 3;

pub struct ApnsClient {
    connector: TlsConnector,
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    topic: String,
    settings: ApnsSettings,
    connection: Mutex<Option<Connection>>,
    next_id: std::sync::atomic::AtomicU64,
    /// The id of the last connection that got an answer.
    answered: std::sync::atomic::AtomicU64,
    /// Connections closed in a row before their first answer (each counted once).
    silent_failures: std::sync::atomic::AtomicU32,
    last_silent: std::sync::atomic::AtomicU64,
}

impl ApnsClient {
    pub fn new(identity: &SigningIdentity, settings: ApnsSettings) -> Result<Self> {
        let uri: Uri = settings.url.parse().context("PASSERELLE_APNS_URL is not a URL")?;
        if uri.scheme_str() != Some("https") {
            bail!("PASSERELLE_APNS_URL must be https:// (APNs speaks HTTP/2 over TLS only)");
        }
        let host = uri.host().context("PASSERELLE_APNS_URL has no host")?.trim_matches(['[', ']']).to_owned();
        let port = uri.port_u16().unwrap_or(443);
        let server_name = ServerName::try_from(host.clone()).context("PASSERELLE_APNS_URL host")?;

        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &settings.extra_ca_file {
            let pem =
                std::fs::read(path).with_context(|| format!("reading PASSERELLE_APNS_CA_FILE {}", path.display()))?;
            for cert in openssl::x509::X509::stack_from_pem(&pem).context("PASSERELLE_APNS_CA_FILE is not PEM")? {
                roots.add(CertificateDer::from(cert.to_der()?)).context("PASSERELLE_APNS_CA_FILE certificate")?;
            }
        }
        // The same certificate and key that sign the passes, with the WWDR intermediate.
        let mut chain = vec![CertificateDer::from(identity.cert.to_der()?)];
        for c in &identity.chain {
            chain.push(CertificateDer::from(c.to_der()?));
        }
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.private_key_to_pkcs8()?));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .context("the pass certificate cannot authenticate to APNs")?;
        tls.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Self {
            connector: TlsConnector::from(Arc::new(tls)),
            host,
            port,
            server_name,
            topic: identity.pass_type_identifier.clone(),
            settings,
            connection: Mutex::new(None),
            next_id: std::sync::atomic::AtomicU64::new(1),
            answered: std::sync::atomic::AtomicU64::new(0),
            silent_failures: std::sync::atomic::AtomicU32::new(0),
            last_silent: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The live connection, or a new one (only one caller connects at a time).
    async fn sender(&self) -> Result<(SendRequest<Full<Bytes>>, u64), PushResult> {
        let mut slot = self.connection.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.sender.is_closed()) {
            return Ok((c.sender.clone(), c.id));
        }
        let sender = tokio::time::timeout(self.settings.connect_timeout, self.connect())
            .await
            .unwrap_or_else(|_| Err(PushResult::Retry("connect timeout".into())))?;
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *slot = Some(Connection { sender: sender.clone(), id });
        Ok((sender, id))
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, PushResult> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| PushResult::Retry(format!("connect: {e}")))?;
        let _ = tcp.set_nodelay(true);
        // A handshake the server refuses is a certificate problem, not a passing outage.
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| PushResult::CertificateRefused(format!("TLS handshake with APNs failed: {e}")))?;
        let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(hyper_util::rt::TokioTimer::new())
            .keep_alive_interval(Duration::from_secs(60))
            .handshake(TokioIo::new(tls))
            .await
            .map_err(|e| PushResult::Retry(format!("HTTP/2 handshake: {e}")))?;
        tokio::spawn(async move {
            // Ends on GOAWAY or error; the next push sees a closed sender and reconnects.
            if let Err(e) = conn.await {
                tracing::debug!("APNs connection ended: {e}");
            }
        });
        Ok(sender)
    }

    /// Forgets connection `id` after an error, so the next push reconnects.
    async fn drop_connection(&self, id: u64) {
        let mut slot = self.connection.lock().await;
        if slot.as_ref().is_some_and(|c| c.id == id) {
            *slot = None;
        }
    }

    async fn send(&self, token: &str) -> PushResult {
        // A stream the server refused (REFUSED_STREAM: over its stream limit before our client
        // learned it) was never processed, so sending it again is safe.
        for _ in 0..MAX_REFUSED_STREAM_RETRIES {
            if let Attempt::Done(result) = self.send_once(token).await {
                return result;
            }
        }
        PushResult::Retry("stream refused repeatedly".into())
    }

    async fn send_once(&self, token: &str) -> Attempt {
        let (mut sender, id) = match self.sender().await {
            Ok(s) => s,
            Err(result) => return Attempt::Done(result),
        };
        let request = Request::post(format!("https://{}:{}/3/device/{token}", self.host, self.port))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "background")
            .header("apns-priority", "5")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(b"{}")));
        let request = match request {
            Ok(r) => r,
            Err(e) => return Attempt::Done(PushResult::DeviceGone(format!("unusable push token: {e}"))),
        };
        let exchange = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        };
        Attempt::Done(match tokio::time::timeout(self.settings.request_timeout, exchange).await {
            Err(_) => {
                self.drop_connection(id).await;
                PushResult::Retry("timeout".into())
            }
            Ok(Err(e)) if error_text(&e).contains("refused stream") => return Attempt::Refused,
            Ok(Err(e)) => {
                self.drop_connection(id).await;
                match classify_error(&e) {
                    PushResult::Retry(reason) if self.answered.load(Ordering::Relaxed) != id => {
                        let first_for_this_connection = self.last_silent.swap(id, Ordering::Relaxed) != id;
                        let silent =
                            self.silent_failures.fetch_add(u32::from(first_for_this_connection), Ordering::Relaxed)
                                + u32::from(first_for_this_connection);
                        if silent >= REFUSED_FRESH_CONNECTIONS {
                            PushResult::CertificateRefused(format!(
                                "APNs closed {silent} new connections before answering (is the pass certificate accepted?): {reason}"
                            ))
                        } else {
                            PushResult::Retry(reason)
                        }
                    }
                    other => other,
                }
            }
            Ok(Ok((status, body))) => {
                self.answered.store(id, Ordering::Relaxed);
                self.silent_failures.store(0, Ordering::Relaxed);
                classify_response(status, &body)
            }
        })
    }
}

#[async_trait]
impl PushSender for ApnsClient {
    async fn push(&self, token: &str) -> PushResult {
        self.send(token).await
    }
}

/// APNs answers errors as `{"reason": "..."}`.
fn classify_response(status: StatusCode, body: &[u8]) -> PushResult {
    let reason = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
        .unwrap_or_else(|| status.as_u16().to_string());
    match status.as_u16() {
        200 => PushResult::Delivered,
        410 => PushResult::DeviceGone(reason),
        400 if reason == "BadDeviceToken" || reason == "DeviceTokenNotForTopic" => PushResult::DeviceGone(reason),
        403 => PushResult::CertificateRefused(reason),
        _ => PushResult::Retry(reason),
    }
}

/// A fatal TLS alert from the server means it refused our certificate (TLS 1.3 reports a
/// refused client certificate after the handshake, on the first read).
fn classify_error(e: &hyper::Error) -> PushResult {
    let text = error_text(e);
    if text.contains("fatal alert") || text.contains("CertificateRequired") || text.contains("BadCertificate") {
        PushResult::CertificateRefused(format!("APNs refused the certificate: {text}"))
    } else {
        PushResult::Retry(format!("connection: {text}"))
    }
}

/// The error with its sources, for classification and logs.
fn error_text(e: &hyper::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl std::fmt::Debug for ApnsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsClient").field("url", &self.settings.url).field("topic", &self.topic).finish()
    }
}
