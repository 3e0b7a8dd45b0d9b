//! Orders (see `orders.rs`): every change reads the order with its row locked (`lock_rows!`; on
//! SQLite the `BEGIN IMMEDIATE` write lock), then its pass row, so concurrent status changes
//! never lose one another.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{from_row, json, row_by};
use super::{Conn, DbRow, SqlStore};
use crate::store::orders::{OrderPassUpdate, OrderRecord, OrderUpdate, OrdersStore};
use crate::store::webhooks::WebhookEvent;
use crate::store::{NewPass, PassRecord, StoreError, StoreResult};

/// The columns `order_from_row` reads (`customer` and `items` as JSON text).
macro_rules! order_columns {
    () => {
        concat!(
            "order_number, store_id, ",
            json_text!("customer"),
            ", ",
            json_text!("items"),
            ", pickup_from, pickup_until, status, pass_serial, created_at, updated_at"
        )
    };
}

fn order_from_row(row: &DbRow) -> Result<OrderRecord> {
    Ok(from_row!(row, OrderRecord { order_number, store_id, pickup_from, pickup_until, status, pass_serial,
        created_at, updated_at; customer: json(row, "customer")?, items: json(row, "items")? }))
}

/// Reads an order and locks its row until the transaction ends (on SQLite the write lock does).
async fn lock_order(conn: &mut Conn, number: &str) -> Result<Option<OrderRecord>> {
    let sql = concat!("SELECT ", order_columns!(), " FROM orders WHERE order_number = $1", lock_rows!());
    row_by(conn, sql, number, order_from_row).await
}

/// Writes the order's status; returns the stored order.
async fn write_status(conn: &mut Conn, o: &OrderRecord) -> Result<OrderRecord> {
    let sql =
        concat!("UPDATE orders SET status = $1, updated_at = $2 WHERE order_number = $3 RETURNING ", order_columns!());
    order_from_row(&sqlx::query(sql).bind(&o.status).bind(o.updated_at).bind(&o.order_number).fetch_one(conn).await?)
}

#[async_trait]
impl OrdersStore for SqlStore {
    async fn insert_order(&self, o: &OrderRecord, pass: NewPass) -> StoreResult<(OrderRecord, PassRecord)> {
        let mut tx = self.write_tx().await?;
        let pass = self.write_new_pass(&mut tx, &pass).await?;
        let row = sqlx::query(concat!(
            "INSERT INTO orders (order_number, store_id, customer, items, pickup_from, pickup_until, status, \
             pass_serial, created_at, updated_at) VALUES ($1, $2, ",
            jsonb!("$3"),
            ", ",
            jsonb!("$4"),
            ", $5, $6, $7, $8, $9, $10) RETURNING ",
            order_columns!()
        ))
        .bind(&o.order_number)
        .bind(&o.store_id)
        .bind(o.customer.to_string())
        .bind(o.items.to_string())
        .bind(o.pickup_from)
        .bind(o.pickup_until)
        .bind(&o.status)
        .bind(&o.pass_serial)
        .bind(o.created_at)
        .bind(o.updated_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "order_number", &o.order_number))?;
        tx.commit().await?;
        Ok((order_from_row(&row)?, pass))
    }

    async fn order(&self, number: &str) -> Result<Option<OrderRecord>> {
        let sql = concat!("SELECT ", order_columns!(), " FROM orders WHERE order_number = $1");
        row_by(&self.pool, sql, number, order_from_row).await
    }

    async fn update_order(
        &self,
        number: &str,
        update: OrderUpdate,
        pass: OrderPassUpdate,
    ) -> StoreResult<Option<(OrderRecord, Option<PassRecord>)>> {
        let mut tx = self.write_tx().await?;
        let Some(current) = lock_order(&mut tx, number).await? else { return Ok(None) };
        let next = update(&current).map_err(StoreError::Refused)?;
        let stored = write_status(&mut tx, &next).await?;
        if let Some(event) = WebhookEvent::of_order(&current, &stored).filter(|_| self.settings.webhooks_enabled) {
            super::jobs::enqueue_webhook(&mut tx, &event.event_id, &event.body).await?;
        }
        let pass = self.change_linked_pass(&mut tx, stored.pass_serial.as_deref(), |p| pass(&stored, p)).await?;
        tx.commit().await?;
        Ok(Some((stored, pass)))
    }

    async fn expire_orders(&self, now: i64, limit: i64, pass: OrderPassUpdate) -> StoreResult<Vec<OrderRecord>> {
        let mut tx = self.write_tx().await?;
        // On PostgreSQL another process's claim is skipped; on SQLite the write lock excludes it.
        let rows = sqlx::query(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders WHERE status IN ('placed', 'ready') AND pickup_until < $1 ORDER BY pickup_until LIMIT $2",
            skip_locked!()
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut expired = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut order = order_from_row(row)?;
            order.status = "expired".into();
            order.updated_at = now.max(order.updated_at);
            let order = write_status(&mut tx, &order).await?;
            self.change_linked_pass(&mut tx, order.pass_serial.as_deref(), |p| pass(&order, p)).await?;
            expired.push(order);
        }
        tx.commit().await?;
        Ok(expired)
    }
}
