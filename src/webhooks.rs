//! Webhooks out: events for the order system at `PASSERELLE_WEBHOOK_URL` (`order.ready`,
//! `order.collected`, `pass.added`, `pass.removed`), queued in `webhook_jobs` and delivered by
//! a worker: `POST` of `{"id", "type", "created_at", "data"}` with `X-Passerelle-Event` and
//! `X-Passerelle-Signature: sha256=<hex HMAC-SHA256 of the body with PASSERELLE_WEBHOOK_SECRET>`,
//! retried with the push backoff up to `PASSERELLE_WEBHOOK_MAX_ATTEMPTS`, then kept as dead.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde_json::json;
use tokio::sync::watch;

use crate::app::AppState;
use crate::config::Config;
use crate::push::worker::{WorkerSettings, backoff};
use crate::secret::Secret;
use crate::store::{PassRecord, Store, WebhookEvent, WebhookJob, WebhookOutcome, now_ms};

/// Timeout of one delivery (connection, request and answer).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses a webhook URL without its secret, or a URL that is not http(s).
pub fn check_config(config: &Config) -> Result<()> {
    let Some(url) = &config.webhook_url else { return Ok(()) };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("PASSERELLE_WEBHOOK_URL must be an http:// or https:// URL");
    }
    url.parse::<hyper::Uri>().context("PASSERELLE_WEBHOOK_URL is not a valid URL")?;
    if config.webhook_secret.as_ref().is_none_or(|s| s.expose().is_empty()) {
        bail!("PASSERELLE_WEBHOOK_SECRET is required when PASSERELLE_WEBHOOK_URL is set");
    }
    Ok(())
}

/// `sha256=<hex HMAC-SHA256 of body>`, the `X-Passerelle-Signature` header.
pub fn signature(secret: &[u8], body: &[u8]) -> Result<String> {
    let key = PKey::hmac(secret)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    signer.update(body)?;
    Ok(format!("sha256={}", hex::encode(signer.sign_to_vec()?)))
}

/// Queues `pass.added` for a pass's first device registration, or `pass.removed` once its last
/// device unregistered. Runs after the registration's commit: two devices registering at the
/// same instant may both see themselves as not the first (no event) — rare and harmless.
pub async fn pass_registration(state: &AppState, pass: &PassRecord, added: bool) {
    if !state.store.webhooks_enabled() {
        return;
    }
    let result = async {
        let count = state.store.pass_device_count(&pass.serial_number).await?;
        let (wanted, event_type) = if added { (1, "pass.added") } else { (0, "pass.removed") };
        if count == wanted {
            let data = json!({"serial_number": pass.serial_number, "template": pass.template});
            state.store.queue_webhook(&WebhookEvent::new(event_type, data)).await?;
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(serial = %pass.serial_number, "queueing a webhook event: {e:#}");
    }
}

/// Drains `webhook_jobs` to the configured URL.
pub struct WebhookWorker {
    store: Arc<dyn Store>,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: hyper::Uri,
    secret: Secret,
    settings: WorkerSettings,
}

impl WebhookWorker {
    /// The worker of this configuration; `None` when no webhook URL is set.
    pub fn from_config(config: &Config, store: Arc<dyn Store>) -> Result<Option<Self>> {
        check_config(config)?;
        let (Some(url), Some(secret)) = (&config.webhook_url, &config.webhook_secret) else { return Ok(None) };
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("TLS setup")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        Ok(Some(Self {
            store,
            client: Client::builder(TokioExecutor::new()).build(connector),
            url: url.parse()?,
            secret: secret.clone(),
            settings: config.webhook_worker_settings(),
        }))
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let idle = match self.run_once().await {
                Ok(0) => self.settings.poll_interval,
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!("webhook worker: {e:#}");
                    self.settings.poll_interval
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claims and delivers one batch, in order; returns how many events it claimed.
    pub async fn run_once(&self) -> Result<usize> {
        let lease = self.settings.lease.max(TIMEOUT * 2).as_millis() as i64;
        let jobs = self.store.claim_webhook_jobs(self.settings.batch_size, lease).await?;
        for job in &jobs {
            let outcome = match self.deliver(job).await {
                Ok(()) => {
                    metrics::counter!("passerelle_webhooks_delivered_total").increment(1);
                    WebhookOutcome::Delivered
                }
                Err(error) => {
                    metrics::counter!("passerelle_webhooks_failed_total").increment(1);
                    if job.attempts + 1 < self.settings.max_attempts {
                        let delay = backoff(&self.settings, job.attempts);
                        WebhookOutcome::Retry { run_at: now_ms() + delay.as_millis() as i64, error }
                    } else {
                        tracing::warn!(event = %job.event_id, "webhook delivery failed for good: {error}");
                        WebhookOutcome::Dead { error }
                    }
                }
            };
            self.store.finish_webhook_job(job, &outcome).await?;
        }
        Ok(jobs.len())
    }

    async fn deliver(&self, job: &WebhookJob) -> Result<(), String> {
        let signature = signature(self.secret.expose().as_bytes(), job.body.as_bytes()).map_err(|e| e.to_string())?;
        let request = hyper::Request::post(self.url.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, concat!("Passerelle/", env!("CARGO_PKG_VERSION")))
            .header("X-Passerelle-Event", &job.event_type)
            .header("X-Passerelle-Signature", signature)
            .body(Full::new(Bytes::from(job.body.clone())))
            .map_err(|e| format!("bad request: {e}"))?;
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| "timeout".to_owned())?
            .map_err(|e| format!("POST: {e}"))?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(format!("HTTP {status}")) }
    }
}
