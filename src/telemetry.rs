//! Logging set-up: `tracing` to stderr, filtered by `PASSERELLE_LOG`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Keeps a line that could repeat thousands of times a second (an accept error, a dead
/// dependency) to one per period, and counts the lines it held back.
#[derive(Debug)]
pub struct LogLimiter {
    every: std::time::Duration,
    state: std::sync::Mutex<(Option<std::time::Instant>, u64)>,
}

impl LogLimiter {
    pub const fn new(every: std::time::Duration) -> Self {
        Self { every, state: std::sync::Mutex::new((None, 0)) }
    }

    /// `Some(n)`: write the line now, `n` were held back since the last one; `None`: hold it back.
    pub fn allow(&self) -> Option<u64> {
        let now = std::time::Instant::now();
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (last, held) = &mut *state;
        if last.is_some_and(|t| now.duration_since(t) < self.every) {
            *held += 1;
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_period_and_the_count_of_the_rest() {
        let limiter = LogLimiter::new(std::time::Duration::from_millis(200));
        assert_eq!(limiter.allow(), Some(0));
        assert_eq!((limiter.allow(), limiter.allow()), (None, None));
        std::thread::sleep(std::time::Duration::from_millis(250));
        assert_eq!(limiter.allow(), Some(2), "the next line says how many were held back");
    }
}
