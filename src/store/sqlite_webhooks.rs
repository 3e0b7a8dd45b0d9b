//! The webhook outbox on SQLite (see `webhooks.rs`).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::{Row, SqliteConnection};

use super::sqlite::SqliteStore;
use super::webhooks::{WebhookEvent, WebhookJob, WebhookOutcome, WebhooksStore};
use super::{OrderRecord, now_ms};
use crate::tokens;

async fn insert(conn: &mut SqliteConnection, event: &WebhookEvent) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO webhook_jobs (event_id, event_type, body, run_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?4, ?4)",
    )
    .bind(&event.event_id)
    .bind(&event.event_type)
    .bind(&event.body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues the event of an order's status change inside the caller's transaction (when on).
pub(super) async fn queue_order_event(
    conn: &mut SqliteConnection,
    enabled: bool,
    previous: &OrderRecord,
    next: &OrderRecord,
) -> Result<()> {
    match WebhookEvent::of_order(previous, next) {
        Some(event) if enabled => insert(conn, &event).await,
        _ => Ok(()),
    }
}

#[async_trait]
impl WebhooksStore for SqliteStore {
    fn webhooks_enabled(&self) -> bool {
        self.webhooks_enabled
    }

    async fn queue_webhook(&self, event: &WebhookEvent) -> Result<()> {
        if !self.webhooks_enabled {
            return Ok(());
        }
        insert(&mut *self.pool.acquire().await?, event).await
    }

    async fn pass_device_count(&self, serial: &str) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM registrations WHERE serial_number = ?")
            .bind(serial)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    async fn claim_webhook_jobs(&self, limit: i64, lease_ms: i64) -> Result<Vec<WebhookJob>> {
        let now = now_ms();
        let lease_id = tokens::random_hex(8);
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(
            "UPDATE webhook_jobs SET state = 'leased', lease_id = ?1, run_at = ?2, updated_at = ?3 \
             WHERE id IN (SELECT id FROM webhook_jobs WHERE state IN ('pending', 'leased') AND run_at <= ?3 \
                          ORDER BY id LIMIT ?4) \
             RETURNING id, event_id, event_type, body, attempts",
        )
        .bind(&lease_id)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut jobs = rows
            .iter()
            .map(|r| {
                Ok(WebhookJob {
                    id: r.try_get("id")?,
                    event_id: r.try_get("event_id")?,
                    event_type: r.try_get("event_type")?,
                    body: r.try_get("body")?,
                    attempts: r.try_get("attempts")?,
                    lease_id: lease_id.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    async fn finish_webhook_job(&self, job: &WebhookJob, outcome: &WebhookOutcome) -> Result<()> {
        let now = now_ms();
        let query = match outcome {
            WebhookOutcome::Delivered => {
                sqlx::query("DELETE FROM webhook_jobs WHERE id = ?1 AND lease_id = ?2").bind(job.id).bind(&job.lease_id)
            }
            WebhookOutcome::Retry { run_at, error } => sqlx::query(
                "UPDATE webhook_jobs SET state = 'pending', attempts = attempts + 1, run_at = ?3, last_error = ?4, \
                 lease_id = NULL, updated_at = ?5 WHERE id = ?1 AND lease_id = ?2",
            )
            .bind(job.id)
            .bind(&job.lease_id)
            .bind(run_at)
            .bind(error)
            .bind(now),
            WebhookOutcome::Dead { error } => sqlx::query(
                "UPDATE webhook_jobs SET state = 'dead', attempts = attempts + 1, last_error = ?3, lease_id = NULL, \
                 updated_at = ?4 WHERE id = ?1 AND lease_id = ?2",
            )
            .bind(job.id)
            .bind(&job.lease_id)
            .bind(error)
            .bind(now),
        };
        let mut tx = self.write_tx().await?;
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
