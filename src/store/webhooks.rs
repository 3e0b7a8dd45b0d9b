//! Webhook events for the configured URL (`order.ready`, `order.collected`, `pass.added`,
//! `pass.removed`): each is queued as a job of kind `webhook` holding the exact JSON body sent.

use anyhow::Result;
use async_trait::async_trait;
use serde_json::{Value, json};

/// An event about to be queued: its id and the body every attempt sends.
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    pub event_id: String,
    pub event_type: String,
    pub body: String,
}

impl WebhookEvent {
    /// `{"id", "type", "created_at", "data"}`, with a fresh id and the current time (RFC 3339).
    pub fn new(event_type: &str, data: Value) -> Self {
        let event_id = format!("evt_{}", crate::tokens::random_hex(12));
        let created_at = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default();
        let body = json!({"id": event_id, "type": event_type, "created_at": created_at, "data": data}).to_string();
        Self { event_id, event_type: event_type.into(), body }
    }

    /// The event of an order's status change, if the move is one that webhooks announce.
    pub fn of_order(previous: &super::OrderRecord, next: &super::OrderRecord) -> Option<Self> {
        let event_type = match next.status.as_str() {
            "ready" => "order.ready",
            "collected" => "order.collected",
            _ => return None,
        };
        if previous.status == next.status {
            return None;
        }
        let data = json!({
            "order_number": next.order_number,
            "store_id": next.store_id,
            "status": next.status,
            "pass_serial": next.pass_serial,
        });
        Some(Self::new(event_type, data))
    }
}

#[async_trait]
pub trait WebhooksStore: Send + Sync {
    /// Whether events are queued at all (a webhook URL is configured).
    fn webhooks_enabled(&self) -> bool;
    /// Queues an event, due now (nothing when webhooks are off).
    async fn queue_webhook(&self, event: &WebhookEvent) -> Result<()>;
    async fn pass_device_count(&self, serial: &str) -> Result<i64>;
}
