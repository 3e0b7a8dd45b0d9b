//! Webhook events in SQL (see `store/webhooks.rs`): queued as jobs of kind `webhook`.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::tx::WriteTx;
use super::{SqlStore, jobs};
use crate::store::OrderRecord;
use crate::store::webhooks::{WebhookEvent, WebhooksStore};

/// Queues the event of an order's status change inside the caller's transaction (when on).
pub(crate) async fn queue_order_event(
    tx: &mut WriteTx,
    enabled: bool,
    previous: &OrderRecord,
    next: &OrderRecord,
) -> Result<()> {
    match WebhookEvent::of_order(previous, next) {
        Some(event) if enabled => jobs::enqueue_webhook(tx, &event.event_id, &event.body).await,
        _ => Ok(()),
    }
}

#[async_trait]
impl WebhooksStore for SqlStore {
    fn webhooks_enabled(&self) -> bool {
        self.webhooks_enabled
    }

    async fn queue_webhook(&self, event: &WebhookEvent) -> Result<()> {
        if !self.webhooks_enabled {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        jobs::enqueue_webhook(&mut tx, &event.event_id, &event.body).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pass_device_count(&self, serial: &str) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM registrations WHERE serial_number = $1")
            .bind(serial)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }
}
