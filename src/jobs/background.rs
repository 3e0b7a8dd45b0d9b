//! Every background loop of a process, started by one function from the settings, for
//! `passerelle serve` (unless `PASSERELLE_BACKGROUND=off`) and `passerelle worker` alike:
//! `PASSERELLE_PUSH_WORKERS` push loops, the Google sync loop (when Google is on), the webhook
//! loop (when a URL is set), the campaign fan-out (with Google class messages) and the
//! click-and-collect order expiry.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::google::GoogleHandler;
use super::push::PushHandler;
use super::runner::{Handler, Runner};
use super::webhook::WebhookHandler;
use crate::app::{AppState, PushParts};
use crate::campaigns::worker::CampaignWorker;
use crate::config::Config;
use crate::store::Store;

/// Starts every background loop of this process; they stop when `shutdown` turns true.
pub fn start(state: &Arc<AppState>, shutdown: &watch::Receiver<bool>) -> Result<Vec<JoinHandle<()>>> {
    let config = &state.config;
    let store = &state.store;
    let mut loops = push_loops(config, store, &state.push, shutdown);
    let mut spawn_runner = |handler: Arc<dyn Handler>, settings| {
        let runner = Runner { store: store.clone(), handler, settings };
        loops.push(tokio::spawn(runner.run(shutdown.clone())));
    };
    if let Some(google) = &state.google {
        let handler =
            GoogleHandler { service: google.clone(), store: store.clone(), templates: state.templates.clone() };
        spawn_runner(Arc::new(handler), config.google_worker_settings());
    }
    if let Some(handler) = WebhookHandler::from_config(config)? {
        spawn_runner(Arc::new(handler), config.webhook_worker_settings());
    }
    let campaigns = CampaignWorker::new(config, store.clone(), state.templates.clone(), state.google.clone())?;
    loops.push(tokio::spawn(campaigns.run(shutdown.clone())));
    let expiry = Duration::from_secs(config.order_expiry_interval_secs);
    loops.push(tokio::spawn(crate::orders::run_expiry(state.clone(), expiry, shutdown.clone())));
    tracing::info!(
        push_loops = config.push_workers,
        google = state.google.is_some(),
        webhooks = config.webhook_url.is_some(),
        "background work running"
    );
    Ok(loops)
}

/// The `PASSERELLE_PUSH_WORKERS` push loops alone (also used by the push and campaign benchmarks).
pub fn push_loops(
    config: &Config,
    store: &Arc<dyn Store>,
    push: &PushParts,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let handler: Arc<dyn Handler> = Arc::new(PushHandler {
        sender: push.sender.clone(),
        health: push.health.clone(),
        pause: config.worker_settings().pause,
    });
    (0..config.push_workers)
        .map(|_| {
            let runner = Runner { store: store.clone(), handler: handler.clone(), settings: config.worker_settings() };
            tokio::spawn(runner.run(shutdown.clone()))
        })
        .collect()
}
