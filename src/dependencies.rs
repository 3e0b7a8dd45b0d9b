//! The services this process calls (APNs, Google Wallet, SMTP): whether the last call worked,
//! when one last did and when and why one last failed, for `/readyz` and `/metrics`; and a
//! warning in the log when a call fails, at most once a minute per service, with the count of
//! the failures it did not repeat. Their outages never make this process unready: it keeps
//! serving what it can, and the job queues keep what it cannot send.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::store::now_ms;
use crate::telemetry::LogLimiter;

#[derive(Debug, Default)]
struct Record {
    last_success_ms: Option<i64>,
    last_error: Option<(i64, String)>,
    consecutive_failures: u64,
}

/// One service's health, recorded by its client.
#[derive(Debug)]
pub struct DependencyHealth {
    name: &'static str,
    /// False when the service is not configured (no Google account, no SMTP server).
    configured: bool,
    record: Mutex<Record>,
    log: LogLimiter,
}

impl DependencyHealth {
    pub fn new(name: &'static str) -> Self {
        Self { name, configured: true, record: Mutex::default(), log: LogLimiter::new(Duration::from_secs(60)) }
    }

    /// A service this process does not use.
    pub fn off(name: &'static str) -> Self {
        Self { configured: false, ..Self::new(name) }
    }

    fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The service answered as a working service does.
    pub fn success(&self) {
        let now = now_ms();
        let recovered = {
            let mut r = self.record();
            r.last_success_ms = Some(now);
            std::mem::take(&mut r.consecutive_failures)
        };
        if recovered > 0 {
            tracing::info!(dependency = self.name, after_failures = recovered, "{} answers again", self.name);
        }
        let dependency = self.name;
        metrics::gauge!("passerelle_dependency_up", "dependency" => dependency).set(1.0);
        metrics::gauge!("passerelle_dependency_last_success_timestamp_seconds", "dependency" => dependency)
            .set(now as f64 / 1000.0);
    }

    /// The service could not be reached or refused us; `error` must hold no secret.
    pub fn failure(&self, error: &str) {
        let now = now_ms();
        let failures = {
            let mut r = self.record();
            r.last_error = Some((now, error.to_owned()));
            r.consecutive_failures += 1;
            r.consecutive_failures
        };
        if let Some(held) = self.log.allow() {
            tracing::warn!(
                dependency = self.name,
                consecutive_failures = failures,
                not_logged_since_last = held,
                "{} call failed: {error}",
                self.name
            );
        }
        let dependency = self.name;
        metrics::gauge!("passerelle_dependency_up", "dependency" => dependency).set(0.0);
        metrics::gauge!("passerelle_dependency_last_error_timestamp_seconds", "dependency" => dependency)
            .set(now as f64 / 1000.0);
        metrics::counter!("passerelle_dependency_failures_total", "dependency" => dependency).increment(1);
    }

    /// What `/readyz` reports.
    pub fn snapshot(&self) -> Snapshot {
        let r = self.record();
        let state = match (self.configured, r.consecutive_failures, r.last_success_ms) {
            (false, _, _) => "off",
            (true, 1.., _) => "failing",
            (true, 0, Some(_)) => "ok",
            (true, 0, None) => "unknown",
        };
        Snapshot {
            state,
            last_success_ms: r.last_success_ms,
            last_error: r.last_error.clone(),
            consecutive_failures: r.consecutive_failures,
        }
    }
}

/// A service's health at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// `ok` (the last call worked), `failing`, `unknown` (not called yet) or `off` (not configured).
    pub state: &'static str,
    pub last_success_ms: Option<i64>,
    /// When (Unix ms) and why the last call failed, even if calls work again since.
    pub last_error: Option<(i64, String)>,
    pub consecutive_failures: u64,
}

/// Every service this process calls.
#[derive(Debug, Clone)]
pub struct Dependencies {
    pub apns: Arc<DependencyHealth>,
    pub google: Arc<DependencyHealth>,
    pub smtp: Arc<DependencyHealth>,
}

impl Dependencies {
    /// Each service's name and health, in a stable order.
    pub fn all(&self) -> [(&'static str, Snapshot); 3] {
        [("apns", self.apns.snapshot()), ("google", self.google.snapshot()), ("smtp", self.smtp.snapshot())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_last_call() {
        let apns = DependencyHealth::new("apns");
        assert_eq!(apns.snapshot().state, "unknown");
        apns.failure("connect: connection refused");
        apns.failure("connect: connection refused");
        let s = apns.snapshot();
        assert_eq!((s.state, s.consecutive_failures, s.last_success_ms), ("failing", 2, None));
        assert_eq!(s.last_error.unwrap().1, "connect: connection refused");
        apns.success();
        let s = apns.snapshot();
        assert_eq!((s.state, s.consecutive_failures), ("ok", 0));
        assert!(s.last_success_ms.is_some() && s.last_error.is_some(), "the last error stays visible: {s:?}");
        assert_eq!(DependencyHealth::off("smtp").snapshot().state, "off");
    }
}
