//! Click & collect orders' storage. A status change and the change of the order's reservation
//! pass (new version tag, push jobs, Google sync) commit in one transaction, with the order's
//! row locked, so the pass always shows the order's latest status.

use anyhow::Result;
use async_trait::async_trait;
use serde_json::Value;

use super::{NewPass, PassChange, PassRecord, StoreResult};
use crate::error::Error;

/// One stored order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    pub order_number: String,
    pub store_id: String,
    /// `{"name", "email"?, "phone"?}`.
    pub customer: Value,
    /// `[{"label", "quantity"}]`.
    pub items: Value,
    /// Unix milliseconds: the pickup window.
    pub pickup_from: i64,
    pub pickup_until: i64,
    /// `placed`, `ready`, `collected`, `cancelled` or `expired`.
    pub status: String,
    /// The order's reservation pass.
    pub pass_serial: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The new state of an order, decided from the current one inside the store's transaction
/// (the store writes `status` and `updated_at`).
pub type OrderUpdate = Box<dyn FnOnce(&OrderRecord) -> Result<OrderRecord, Error> + Send>;

/// The change of the order's pass after an order change, decided inside the same transaction;
/// `None` leaves the pass as it is.
pub type OrderPassUpdate =
    std::sync::Arc<dyn Fn(&OrderRecord, &PassRecord) -> Result<Option<PassChange>, Error> + Send + Sync>;

#[async_trait]
pub trait OrdersStore: Send + Sync {
    /// Stores a new order with its pass (which `order.pass_serial` names) in one transaction;
    /// `Conflict` on `order_number` if the number exists (nothing is stored).
    async fn insert_order(&self, order: &OrderRecord, pass: NewPass) -> StoreResult<(OrderRecord, PassRecord)>;
    async fn order(&self, order_number: &str) -> Result<Option<OrderRecord>>;
    /// Applies `update` to the order and `pass` to its pass in one transaction; `None` if there
    /// is no such order.
    async fn update_order(
        &self,
        order_number: &str,
        update: OrderUpdate,
        pass: OrderPassUpdate,
    ) -> StoreResult<Option<(OrderRecord, Option<PassRecord>)>>;
    /// Moves up to `limit` open orders (`placed`, `ready`) whose window ended before `now` to
    /// `expired`, changing each pass with `pass`, in one transaction; returns the expired orders.
    /// On PostgreSQL rows another process holds are skipped (`FOR UPDATE SKIP LOCKED`).
    async fn expire_orders(&self, now: i64, limit: i64, pass: OrderPassUpdate) -> StoreResult<Vec<OrderRecord>>;
}
