//! Webhook events in SQL (see `store/webhooks.rs`): queued as jobs of kind `webhook`.

use anyhow::Result;
use async_trait::async_trait;

use super::{SqlStore, jobs};
use crate::store::webhooks::{WebhookEvent, WebhooksStore};

#[async_trait]
impl WebhooksStore for SqlStore {
    fn webhooks_enabled(&self) -> bool {
        self.settings.webhooks_enabled
    }

    async fn queue_webhook(&self, event: &WebhookEvent) -> Result<()> {
        if !self.settings.webhooks_enabled {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        jobs::enqueue_webhook(&mut tx, &event.event_id, &event.body).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pass_device_count(&self, serial: &str) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM registrations WHERE serial_number = $1";
        Ok(sqlx::query_scalar(sql).bind(serial).fetch_one(&self.pool).await?)
    }
}
