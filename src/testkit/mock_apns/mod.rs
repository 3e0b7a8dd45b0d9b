//! A mock of Apple's push service (`https://api.push.apple.com`) that stands in for APNs in tests and benchmarks.
//!
//! It speaks HTTP/2 over TLS (ALPN `h2`, TLS 1.2+) and requires a client certificate chained to the demo root CA,
//! like APNs requires a Pass Type ID certificate. It validates pass pushes as APNs does (`POST /3/device/{token}`,
//! `apns-topic` equal to the certificate's UID, `apns-push-type: background`, `apns-priority: 5`, body `{}`), records
//! what it accepted, and can be scripted to fail: error answers, dropped connections, slow answers.
//!
//! This file holds the server: startup and TLS setup, the accept loop, the per-connection task, request bookkeeping
//! and scripted failures, and the public API. What APNs checks and answers is in `check.rs`.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use openssl::nid::Nid;
use openssl::x509::X509;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

use check::{error_response, random_apns_id, validate};

mod check;
#[cfg(test)]
mod tests;

/// Settings of a [`MockApns`].
#[derive(Debug, Clone)]
pub struct MockApnsConfig {
    /// HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS` advertised on every connection (default 1000, like APNs).
    pub max_concurrent_streams: u32,
    /// Delay before every answer (default 0). Can be changed later with [`MockApns::set_response_delay`].
    pub response_delay: Duration,
    /// Keep every accepted push for [`MockApns::received`] (default); benchmarks only count them,
    /// so their memory figures are the server's, not the mock's log.
    pub keep_received: bool,
}

impl Default for MockApnsConfig {
    fn default() -> Self {
        MockApnsConfig { max_concurrent_streams: 1000, response_delay: Duration::ZERO, keep_received: true }
    }
}

/// A push the mock accepted (answered 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Device token from the path, as sent (hex).
    pub token: String,
    /// `apns-topic` header.
    pub topic: String,
    /// `apns-push-type` header.
    pub push_type: String,
    /// `apns-priority` header.
    pub priority: String,
    /// Request body.
    pub body: Vec<u8>,
    /// UID (OID 0.9.2342.19200300.100.1.1) in the subject of the client's leaf certificate.
    pub client_uid: String,
}

/// A running mock APNs server. It stops when dropped or [shut down](MockApns::shutdown).
pub struct MockApns {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// State shared by the server handle, the accept loop and every request.
#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// Whether `received` logs every push (or only `received_count` counts them).
    skip_log: AtomicBool,
    received_count: AtomicUsize,
    requests_total: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    max_in_flight_per_connection: AtomicUsize,
    connections: AtomicUsize,
    rejected_handshakes: AtomicUsize,
    /// True while `script` may hold something, so that unscripted requests skip its lock.
    scripted: AtomicBool,
    script: Mutex<Script>,
    drop_next: AtomicBool,
    delay_nanos: AtomicU64,
}

/// Scripted answers: per token (sticky), then queued (consumed in order).
#[derive(Default)]
struct Script {
    tokens: HashMap<String, (StatusCode, String)>,
    next: VecDeque<(usize, StatusCode, String)>,
}

/// One TLS connection.
struct Conn {
    uid: Option<String>,
    in_flight: AtomicUsize,
    kill: Notify,
}

impl MockApns {
    /// Starts on `127.0.0.1:0` with the mock-apns certificate. `cert_dir` is `certs-example`: it must hold
    /// `mock-apns-cert.pem`, `mock-apns-key.pem` and `root-ca.pem`. Every client must present a certificate chained to
    /// `root-ca.pem` (the demo root CA; the client sends its leaf + the WWDR intermediate), or its handshake fails.
    pub async fn start(cert_dir: &Path, config: MockApnsConfig) -> anyhow::Result<MockApns> {
        let acceptor = TlsAcceptor::from(Arc::new(tls_config(cert_dir)?));
        let listener = TcpListener::bind("127.0.0.1:0").await.context("mock APNs: bind")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        shared.delay_nanos.store(duration_nanos(config.response_delay), Relaxed);
        shared.skip_log.store(!config.keep_received, Relaxed);
        let task = tokio::spawn(accept_loop(listener, acceptor, shared.clone(), config.max_concurrent_streams));
        Ok(MockApns { addr, shared, task })
    }

    /// Base URL, `https://127.0.0.1:<port>` (the certificate has `IP:127.0.0.1` and `DNS:localhost`).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Every request that got 200, in the order they were answered.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
    }

    /// Number of requests that got 200 (an atomic read, cheap enough to poll in benchmarks).
    pub fn received_count(&self) -> usize {
        self.shared.received_count.load(Relaxed)
    }

    /// Every request seen, whatever the answer (dropped ones included).
    pub fn requests_total(&self) -> usize {
        self.shared.requests_total.load(Relaxed)
    }

    /// Highest number of concurrently open requests seen, across all connections.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Relaxed)
    }

    /// Highest number of concurrently open requests seen on a single connection (compare it with
    /// [`MockApnsConfig::max_concurrent_streams`]).
    pub fn max_in_flight_per_connection(&self) -> usize {
        self.shared.max_in_flight_per_connection.load(Relaxed)
    }

    /// TLS connections accepted so far (successful handshakes).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Relaxed)
    }

    /// TLS handshakes that failed, e.g. because the client certificate is missing or not chained to the root CA.
    pub fn rejected_handshakes(&self) -> usize {
        self.shared.rejected_handshakes.load(Relaxed)
    }

    /// The next `n` requests (any token) get `status` with body `{"reason": reason}` (e.g. 410 "Unregistered",
    /// 429 "TooManyRequests", 500 "InternalServerError", 400 "BadDeviceToken", 403 "BadCertificate"). Queued scripts
    /// are consumed in order. Only requests that pass validation and have no [per-token answer](Self::answer_token)
    /// consume them. A scripted 200 accepts the push. Panics if `status` is not a valid HTTP status code.
    pub fn answer_next(&self, n: usize, status: u16, reason: &str) {
        let status = StatusCode::from_u16(status).expect("valid HTTP status");
        if n > 0 {
            self.script().next.push_back((n, status, reason.to_owned()));
        }
    }

    /// Requests for this device token always get `status`/`reason` (until [cleared](Self::clear_answers)), once they
    /// pass validation. Panics if `status` is not a valid HTTP status code.
    pub fn answer_token(&self, token: &str, status: u16, reason: &str) {
        let status = StatusCode::from_u16(status).expect("valid HTTP status");
        self.script().tokens.insert(token.to_owned(), (status, reason.to_owned()));
    }

    /// Forgets every scripted answer, queued and per-token.
    pub fn clear_answers(&self) {
        let mut script = self.script();
        script.tokens.clear();
        script.next.clear();
    }

    /// The next request's connection is dropped (TCP closed, no response): the client must reconnect. Other requests
    /// open on that connection fail too.
    pub fn drop_next_connection(&self) {
        self.shared.drop_next.store(true, Relaxed);
    }

    /// Delay before every answer from now on.
    pub fn set_response_delay(&self, d: Duration) {
        self.shared.delay_nanos.store(duration_nanos(d), Relaxed);
    }

    /// Stops accepting and closes every connection. Dropping the server does the same without waiting.
    pub async fn shutdown(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }

    fn script(&self) -> MutexGuard<'_, Script> {
        self.shared.scripted.store(true, Relaxed);
        lock(&self.shared.script)
    }
}

impl Drop for MockApns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn tls_config(dir: &Path) -> anyhow::Result<ServerConfig> {
    let read_certs = |name: &str| -> anyhow::Result<Vec<CertificateDer<'static>>> {
        let path = dir.join(name);
        let certs = CertificateDer::pem_file_iter(&path).and_then(|certs| certs.collect::<Result<Vec<_>, _>>());
        certs.with_context(|| format!("mock APNs: reading {}", path.display()))
    };
    let chain = read_certs("mock-apns-cert.pem")?;
    let key_path = dir.join("mock-apns-key.pem");
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .with_context(|| format!("mock APNs: reading {}", key_path.display()))?;
    let mut roots = RootCertStore::empty();
    for ca in read_certs("root-ca.pem")? {
        roots.add(ca).context("mock APNs: root-ca.pem")?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("mock APNs: server certificate")?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>, max_streams: u32) {
    // Owning the connection tasks here means aborting this task closes every connection.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    conns.spawn(serve_connection(tcp, acceptor.clone(), shared.clone(), max_streams));
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve_connection(tcp: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>, max_streams: u32) {
    let Ok(tls) = acceptor.accept(tcp).await else {
        shared.rejected_handshakes.fetch_add(1, Relaxed);
        return;
    };
    shared.connections.fetch_add(1, Relaxed);
    let uid = tls.get_ref().1.peer_certificates().and_then(|chain| chain.first()).and_then(|leaf| leaf_uid(leaf));
    let conn = Arc::new(Conn { uid, in_flight: AtomicUsize::new(0), kill: Notify::new() });
    let service = {
        let conn = conn.clone();
        service_fn(move |req| {
            let (shared, conn) = (shared.clone(), conn.clone());
            async move { Ok::<_, Infallible>(handle(&shared, &conn, req).await) }
        })
    };
    let http = http2::Builder::new(TokioExecutor::new())
        .max_concurrent_streams(max_streams)
        .serve_connection(TokioIo::new(tls), service);
    // Dropping `http` closes the socket; hyper then ends the stream tasks, whose services are dropped.
    tokio::select! {
        _ = http => {}
        () = conn.kill.notified() => {}
    }
}

fn leaf_uid(der: &[u8]) -> Option<String> {
    let cert = X509::from_der(der).ok()?;
    let entry = cert.subject_name().entries_by_nid(Nid::USERID).next()?;
    entry.data().to_string().ok()
}

/// Counts a request as in flight until dropped (answered, or abandoned with its connection).
struct InFlight<'a>(&'a Shared, &'a Conn);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared, conn: &'a Conn) -> Self {
        let total = shared.in_flight.fetch_add(1, Relaxed) + 1;
        shared.max_in_flight.fetch_max(total, Relaxed);
        let here = conn.in_flight.fetch_add(1, Relaxed) + 1;
        shared.max_in_flight_per_connection.fetch_max(here, Relaxed);
        InFlight(shared, conn)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
        self.1.in_flight.fetch_sub(1, Relaxed);
    }
}

/// A refusal: status and APNs `reason` (owned when scripted).
type Failure = (StatusCode, Cow<'static, str>);

async fn handle(shared: &Shared, conn: &Conn, req: Request<Incoming>) -> Response<Full<Bytes>> {
    shared.requests_total.fetch_add(1, Relaxed);
    let _in_flight = InFlight::enter(shared, conn);
    if shared.drop_next.load(Relaxed) && shared.drop_next.swap(false, Relaxed) {
        conn.kill.notify_one();
        return std::future::pending().await;
    }
    let apns_id = req.headers().get("apns-id").cloned().unwrap_or_else(random_apns_id);
    let outcome: Result<Received, Failure> = match validate(conn.uid.as_deref(), req).await {
        Ok(push) => match scripted_answer(shared, &push.token) {
            Some((status, reason)) if status != StatusCode::OK => Err((status, reason.into())),
            _ => Ok(push),
        },
        Err((status, reason)) => Err((status, reason.into())),
    };
    let delay = shared.delay_nanos.load(Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_nanos(delay)).await;
    }
    let mut response = match outcome {
        Ok(push) => {
            if !shared.skip_log.load(Relaxed) {
                lock(&shared.received).push(push);
            }
            shared.received_count.fetch_add(1, Relaxed);
            Response::new(Full::default())
        }
        Err((status, reason)) => error_response(status, &reason),
    };
    response.headers_mut().insert("apns-id", apns_id);
    response
}

fn scripted_answer(shared: &Shared, token: &str) -> Option<(StatusCode, String)> {
    if !shared.scripted.load(Relaxed) {
        return None;
    }
    let mut script = lock(&shared.script);
    if let Some(answer) = script.tokens.get(token) {
        return Some(answer.clone());
    }
    let (left, status, reason) = script.next.front_mut()?;
    *left -= 1;
    let answer = (*status, if *left == 0 { std::mem::take(reason) } else { reason.clone() });
    if *left == 0 {
        script.next.pop_front();
    }
    Some(answer)
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
