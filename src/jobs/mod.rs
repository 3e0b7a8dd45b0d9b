//! The one job queue: its vocabulary (`queue`), the loop every kind of job runs in (`runner`:
//! claim under a lease, attempt, retry with one backoff policy, bury, metrics), the handlers
//! (`push` to APNs, `google` object syncs, `webhook` deliveries, `mail`), and `background`, the one
//! function that starts every background loop of a process. Jobs are written by the store in
//! the transaction of the change that causes them (see `store::sql::jobs`).

pub mod background;
pub mod google;
pub mod mail;
pub mod push;
pub mod queue;
pub mod runner;
pub mod webhook;

use std::time::Duration;

/// One kind's loop settings (`PASSERELLE_PUSH_*`, and the Google and webhook ones).
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Jobs claimed at once.
    pub batch_size: i64,
    /// Jobs attempted at once within a batch (1: in order).
    pub concurrency: usize,
    pub lease: Duration,
    pub max_attempts: i64,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How often an idle loop looks for due jobs (commits of this process wake it at once).
    pub poll_interval: Duration,
    /// How long a paused handler (e.g. APNs refusing the certificate) waits before trying again.
    pub pause: Duration,
}

impl QueueSettings {
    /// The push loops' settings (the other kinds start from these).
    pub fn push(jobs: &crate::config::Jobs) -> Self {
        QueueSettings {
            batch_size: jobs.batch_size.max(1),
            concurrency: jobs.concurrency.max(1),
            lease: Duration::from_secs(jobs.lease_secs.max(1)),
            max_attempts: jobs.max_attempts.max(1),
            backoff_base: Duration::from_millis(jobs.backoff_base_ms),
            backoff_max: Duration::from_millis(jobs.backoff_max_ms.max(jobs.backoff_base_ms)),
            poll_interval: Duration::from_millis(jobs.poll_ms.max(10)),
            pause: Duration::from_secs(jobs.pause_secs.max(1)),
        }
    }

    /// The Google loop's settings (lease, poll and backoff as for pushes; one sync at a time,
    /// paced by the shared rate limit).
    pub fn google(jobs: &crate::config::Jobs, google: &crate::config::Google) -> Self {
        QueueSettings {
            batch_size: google.batch_size.max(1),
            concurrency: 1,
            max_attempts: google.max_attempts.max(1),
            ..Self::push(jobs)
        }
    }

    /// The webhook loop's settings (poll and backoff as for pushes; one event at a time, in order).
    pub fn webhook(jobs: &crate::config::Jobs, webhooks: &crate::config::Webhooks) -> Self {
        let push = Self::push(jobs);
        QueueSettings {
            max_attempts: webhooks.max_attempts.max(1),
            concurrency: 1,
            lease: push.lease.max(webhook::TIMEOUT * 2),
            ..push
        }
    }
}

impl QueueSettings {
    /// The mail loop's settings (those of pushes, one mail at a time).
    pub fn mail(jobs: &crate::config::Jobs) -> Self {
        QueueSettings { concurrency: 1, ..Self::push(jobs) }
    }
}

/// The retry delay after `attempts` failed attempts: `base * 2^attempts`, capped, with "equal
/// jitter" (half fixed, half random) so that retries of a burst spread out.
pub fn backoff(settings: &QueueSettings, attempts: i64) -> Duration {
    let exp = settings.backoff_base.saturating_mul(1u32 << attempts.clamp(0, 20) as u32);
    let capped = exp.min(settings.backoff_max);
    let mut r = [0u8; 4];
    openssl::rand::rand_bytes(&mut r).expect("CSPRNG");
    let fraction = u32::from_le_bytes(r) as f64 / u32::MAX as f64;
    capped / 2 + capped.mul_f64(fraction / 2.0)
}

/// Failure reasons as metric labels: short reasons as they are, or a fixed word (bounded cardinality).
pub fn label(reason: &str) -> String {
    if reason.starts_with("connect") {
        "connection".into()
    } else if reason.len() <= 40 && reason.chars().all(|c| c.is_ascii_alphanumeric()) {
        reason.into()
    } else {
        "other".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> QueueSettings {
        QueueSettings {
            batch_size: 10,
            concurrency: 10,
            lease: Duration::from_secs(60),
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            poll_interval: Duration::from_millis(100),
            pause: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let s = settings();
        for (attempts, lo, hi) in [(0, 500, 1000), (3, 4000, 8000), (10, 30_000, 60_000), (60, 30_000, 60_000)] {
            let d = backoff(&s, attempts).as_millis() as u64;
            assert!((lo..=hi).contains(&d), "attempt {attempts}: {d} ms");
        }
        let spread: std::collections::HashSet<u128> = (0..20).map(|_| backoff(&s, 5).as_millis()).collect();
        assert!(spread.len() > 1, "jitter");
    }

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(label("Unregistered"), "Unregistered");
        assert_eq!(label("connect: Connection refused (os error 111)"), "connection");
        assert_eq!(label("connection: broken pipe"), "connection");
        assert_eq!(label("some long free text with spaces"), "other");
    }
}
