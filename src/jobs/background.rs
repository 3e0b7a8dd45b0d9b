//! The loops of the job queue: `PASSERELLE_PUSH_WORKERS` push loops, and one loop for any other
//! kind. `app::start_background` starts them with the campaign fan-out and the order expiry.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::push::PushHandler;
use super::push::PushParts;
use super::runner::{Handler, Runner};
use crate::store::Store;

/// The `PASSERELLE_PUSH_WORKERS` push loops alone (also used by the push and campaign benchmarks).
pub fn push_loops(
    jobs: &crate::config::Jobs,
    store: &Arc<dyn Store>,
    push: &PushParts,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let handler: Arc<dyn Handler> = Arc::new(PushHandler {
        sender: push.sender.clone(),
        health: push.health.clone(),
        pause: super::QueueSettings::push(jobs).pause,
    });
    (0..jobs.push_workers)
        .map(|_| {
            let runner =
                Runner { store: store.clone(), handler: handler.clone(), settings: super::QueueSettings::push(jobs) };
            tokio::spawn(runner.run(shutdown.clone()))
        })
        .collect()
}

/// One loop draining `handler`'s kind of job.
pub fn runner_loop(
    store: &Arc<dyn Store>,
    handler: Arc<dyn Handler>,
    settings: super::QueueSettings,
    shutdown: &watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(Runner { store: store.clone(), handler, settings }.run(shutdown.clone()))
}

/// Runs `sweep` every `interval` (at least a second; the first one interval after start) until
/// `stopped` turns true: the periodic sweeps (order expiry, provisional cards) share it.
pub async fn every<F: std::future::Future<Output = ()>>(
    interval: std::time::Duration,
    mut stopped: watch::Receiver<bool>,
    mut sweep: impl FnMut() -> F,
) {
    let interval = interval.max(std::time::Duration::from_secs(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        sweep().await;
    }
}
