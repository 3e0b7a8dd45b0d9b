//! What one client connection is doing, and so when it must be closed: a new connection has
//! the header-read timeout to send a request, a kept-alive one the idle timeout between
//! requests (or the header-read timeout once the next request has begun), and one with a
//! request in flight has no deadline here (its body has its own, see `http::limits`). At the
//! connection cap, one without a request in flight may also be shed for a newcomer.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The connection timeouts (PASSERELLE_HEADER_READ_TIMEOUT_SECS, PASSERELLE_IDLE_TIMEOUT_SECS).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
    pub idle: Duration,
}

#[derive(Debug)]
struct State {
    accepted: Instant,
    in_flight: usize,
    served: u64,
    last_io: Instant,
    /// When the first byte arrived since the last answer (a new request's headers are coming).
    request_begun: Option<Instant>,
}

/// Shared by the connection's socket (bytes read and written), its requests, and its watchdog.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    changed: Notify,
    timeouts: Timeouts,
    shed: AtomicBool,
}

impl Activity {
    pub fn new(timeouts: Timeouts) -> Arc<Self> {
        let now = Instant::now();
        let state = State { accepted: now, in_flight: 0, served: 0, last_io: now, request_begun: None };
        Arc::new(Self { state: Mutex::new(state), changed: Notify::new(), timeouts, shed: AtomicBool::new(false) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) {
        let mut s = self.state();
        s.last_io = Instant::now();
        if s.in_flight == 0 && s.request_begun.is_none() {
            s.request_begun = Some(s.last_io);
        }
    }

    fn wrote(&self) {
        self.state().last_io = Instant::now();
    }

    /// A request reached the router; the connection has no deadline until it is answered.
    pub fn request(self: &Arc<Self>) -> InFlight {
        let mut s = self.state();
        s.in_flight += 1;
        s.request_begun = None;
        InFlight(self.clone())
    }

    /// When it last did something, if it may be shed: no request in flight, not already shed.
    pub fn sheddable_since(&self) -> Option<Instant> {
        let s = self.state();
        (s.in_flight == 0 && !self.shed.load(Ordering::Relaxed)).then_some(s.last_io)
    }

    /// Closes the connection (unless a request reached the router meanwhile).
    pub fn shed(&self) {
        self.shed.store(true, Ordering::Relaxed);
        self.changed.notify_one();
    }

    /// When the connection must be closed if nothing changes; `None` while a request is in flight.
    fn deadline(&self) -> Option<Instant> {
        let s = self.state();
        let t = self.timeouts;
        match (s.in_flight, s.served, s.request_begun) {
            (1.., _, _) => None,
            (0, 0, _) => Some(s.accepted + t.header_read),
            (0, _, Some(begun)) => Some(begun + t.header_read),
            (0, _, None) => Some(s.last_io + t.idle),
        }
    }

    /// Completes when a deadline passes: the caller then drops (closes) the connection.
    pub async fn expired(&self) -> &'static str {
        loop {
            let changed = self.changed.notified();
            if self.shed.load(Ordering::Relaxed) && self.state().in_flight == 0 {
                return "shed for a new connection at the cap";
            }
            match self.deadline() {
                None => changed.await,
                Some(deadline) if Instant::now() >= deadline => {
                    let s = self.state();
                    return if s.served == 0 || s.request_begun.is_some() { "header read timeout" } else { "idle" };
                }
                // Reads and writes move the deadline without waking us: check again when it passes.
                Some(deadline) => tokio::select! {
                    () = tokio::time::sleep_until(deadline) => {}
                    () = changed => {}
                },
            }
        }
    }
}

/// A request being answered; dropped when its answer's head is ready (or the client left).
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.state();
        s.in_flight -= 1;
        s.served += 1;
        s.last_io = Instant::now();
        s.request_begun = None;
        drop(s);
        self.0.changed.notify_one();
    }
}

/// A socket that tells its [`Activity`] about every byte read or written.
pub struct Tracked<T> {
    pub inner: T,
    pub activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
