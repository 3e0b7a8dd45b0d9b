//! The webhook handler: `POST` of the event's exact body to `PASSERELLE_WEBHOOK_URL` with
//! `X-Passerelle-Event` and `X-Passerelle-Signature: sha256=<hex HMAC-SHA256 of the body with
//! PASSERELLE_WEBHOOK_SECRET>`; any answer but 2xx, a timeout or a connection error is retried
//! up to `PASSERELLE_WEBHOOK_MAX_ATTEMPTS`, then kept as dead. Events go out in order.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::queue::{Job, JobKind};
use super::runner::{Attempt, Handler};
use crate::secret::Secret;
use crate::webhooks::signature;

/// Timeout of one delivery (connection, request and answer).
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct WebhookHandler {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: hyper::Uri,
    secret: Secret,
}

impl WebhookHandler {
    /// The handler of these settings (checked by `Config::validate`); `None` when no webhook URL is set.
    pub fn new(webhooks: &crate::config::Webhooks) -> Result<Option<Self>> {
        let (Some(url), Some(secret)) = (&webhooks.url, &webhooks.secret) else { return Ok(None) };
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
            client: Client::builder(TokioExecutor::new()).build(connector),
            url: url.parse()?,
            secret: secret.clone(),
        }))
    }

    async fn deliver(&self, body: &str) -> Result<(), String> {
        let event_type = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["type"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let signature = signature(self.secret.expose().as_bytes(), body.as_bytes()).map_err(|e| e.to_string())?;
        let request = hyper::Request::post(self.url.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, concat!("Passerelle/", env!("CARGO_PKG_VERSION")))
            .header("X-Passerelle-Event", event_type)
            .header("X-Passerelle-Signature", signature)
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| format!("bad request: {e}"))?;
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| "timeout".to_owned())?
            .map_err(|e| format!("POST: {e}"))?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(format!("HTTP {status}")) }
    }
}

#[async_trait]
impl Handler for WebhookHandler {
    fn kind(&self) -> JobKind {
        JobKind::Webhook
    }

    async fn attempt(&self, job: &Job) -> Attempt {
        match self.deliver(job.payload.as_deref().unwrap_or_default()).await {
            Ok(()) => {
                metrics::counter!("passerelle_webhooks_delivered_total").increment(1);
                Attempt::Done { effect: None, counter: None }
            }
            Err(error) => {
                metrics::counter!("passerelle_webhooks_failed_total").increment(1);
                Attempt::Failed { error, retryable: true, final_counter: None }
            }
        }
    }
}
