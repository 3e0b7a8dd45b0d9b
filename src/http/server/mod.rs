//! The accept loop: HTTP/1.1 and HTTP/2 (h2c) on one listener, as `axum::serve` did, plus what
//! it lacked: a cap on open connections (`slots`), deadlines for silent, slow and idle
//! connections (`activity`), accept errors that back off instead of spinning, and a graceful
//! drain.
//!
//! At the cap, an idle connection makes room for a newcomer; when none is idle the loop stops
//! accepting until one closes: waiting clients sit in the kernel's listen queue, holding no file
//! descriptor of ours, and are served in turn (or refused by the kernel once that queue is
//! full). Accepting and closing at once would spend a descriptor and a handshake per refusal,
//! and turn a short wait into an error.

mod activity;
mod fd_limit;
mod slots;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

pub use self::activity::Timeouts;
use self::activity::{Activity, Tracked};
use self::slots::Slots;
use crate::telemetry::LogLimiter;

/// How the accept loop treats connections (from `config::Http`).
#[derive(Debug, Clone, Copy)]
pub struct ServerSettings {
    pub timeouts: Timeouts,
    /// PASSERELLE_MAX_CONNECTIONS, before fitting it to the open-file limit.
    pub max_connections: usize,
}

impl From<&crate::config::Http> for ServerSettings {
    fn from(http: &crate::config::Http) -> Self {
        Self {
            timeouts: Timeouts {
                header_read: Duration::from_secs(http.header_read_timeout_secs),
                idle: Duration::from_secs(http.idle_timeout_secs),
            },
            max_connections: http.max_connections,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()> + Send,
) {
    let cap = fd_limit::fit(settings.max_connections);
    let slots = Slots::new(cap);
    let graceful = GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    let mut backoff = Backoff::default();
    let cap_log = LogLimiter::new(Duration::from_secs(60));
    tokio::pin!(shutdown);
    loop {
        if slots.full()
            && let Some(held) = cap_log.allow()
        {
            tracing::warn!(
                cap,
                held_back = held,
                "connection cap reached (PASSERELLE_MAX_CONNECTIONS): idle connections make room, or new clients wait"
            );
        }
        tokio::select! {
            () = slots.ready() => {}
            () = &mut shutdown => break,
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    backoff.after(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        backoff.reset();
        let _ = stream.set_nodelay(true);
        let activity = Activity::new(settings.timeouts);
        let slot = tokio::select! {
            slot = slots.take(activity.clone()) => slot,
            () = &mut shutdown => break,
        };
        let io = TokioIo::new(Tracked { inner: stream, activity: activity.clone() });
        let service = PeerService { router: router.clone(), peer, activity: activity.clone() };
        let connection = graceful.watch(builder.serve_connection(io, service).into_owned());
        metrics::gauge!("passerelle_http_connections_open").increment(1.0);
        tokio::spawn(async move {
            tokio::select! {
                served = connection => if let Err(e) = served {
                    tracing::debug!(%peer, "connection ended: {e}");
                },
                // Dropping the connection closes the socket.
                why = activity.expired() => tracing::debug!(%peer, "connection closed: {why}"),
            }
            metrics::gauge!("passerelle_http_connections_open").decrement(1.0);
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The router, with the peer's address in each request (`ConnectInfo`, as axum's
/// `into_make_service_with_connect_info` gave) and each request counted as in flight.
#[derive(Clone)]
struct PeerService {
    router: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<Request<Incoming>> for PeerService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let in_flight = self.activity.request();
        let mut router = self.router.clone();
        Box::pin(async move {
            let response = tower_service::Service::call(&mut router, request.map(Body::new)).await;
            drop(in_flight);
            response
        })
    }
}

/// After an accept error: out of file descriptors (EMFILE, ENFILE) or memory, the next accept
/// would fail the same way at once, so wait 10 ms, doubling up to 1 s, and log once a minute.
struct Backoff {
    delay: Duration,
    log: LogLimiter,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { delay: Self::FIRST, log: LogLimiter::new(Duration::from_secs(60)) }
    }
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    async fn after(&mut self, e: &std::io::Error) {
        use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
        metrics::counter!("passerelle_http_accept_errors_total").increment(1);
        // A client that left before we accepted it: nothing is wrong with us.
        if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
            return;
        }
        if let Some(held) = self.log.allow() {
            tracing::warn!(
                held_back = held,
                "accept error: {e}; accepting again in {:?}, backing off up to 1 s",
                self.delay
            );
        }
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(Self::MAX);
    }

    fn reset(&mut self) {
        self.delay = Self::FIRST;
    }
}
