//! Webhooks out: events for the order system at `PASSERELLE_WEBHOOK_URL` (`order.ready`,
//! `order.collected`, `pass.added`, `pass.removed`): the signature and the device events.
//! Events are queued as jobs and delivered by `jobs::webhook`; `config` checks the settings.

use anyhow::Result;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde_json::json;

use crate::store::{PassRecord, Store, WebhookEvent};

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
pub async fn pass_registration(store: &dyn Store, pass: &PassRecord, added: bool) {
    if !store.webhooks_enabled() {
        return;
    }
    let result = async {
        let count = store.pass_device_count(&pass.serial_number).await?;
        let (wanted, event_type) = if added { (1, "pass.added") } else { (0, "pass.removed") };
        if count == wanted {
            let data = json!({"serial_number": pass.serial_number, "template": pass.template});
            store.queue_webhook(&WebhookEvent::new(event_type, data)).await?;
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(serial = %pass.serial_number, "queueing a webhook event: {e:#}");
    }
}
