//! Google Wallet's storage on SQLite (see `google.rs`); claims are atomic under the write lock.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::{Row, SqliteConnection};

use super::google::{DeadGoogleJob, GoogleJob, GoogleObjectRecord, GoogleOutcome, GoogleStore};
use super::now_ms;
use super::sqlite::SqliteStore;
use crate::tokens;

/// A sync to queue: (serial, message, campaign).
pub(crate) type GoogleEnqueue<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

/// Queues a sync of `serial` in the caller's transaction, reusing its waiting job
/// (a new message replaces an older one still waiting).
pub(crate) async fn enqueue_at(
    conn: &mut SqliteConnection,
    serial: &str,
    message: Option<&str>,
    campaign_id: Option<&str>,
    now: i64,
    run_at: i64,
) -> Result<()> {
    enqueue_many(conn, &[(serial, message, campaign_id)], now, run_at).await
}

/// `enqueue_at` for many passes in one statement.
pub(crate) async fn enqueue_many(
    conn: &mut SqliteConnection,
    jobs: &[GoogleEnqueue<'_>],
    now: i64,
    run_at: i64,
) -> Result<()> {
    let list: Vec<serde_json::Value> = jobs.iter().map(|(s, m, c)| serde_json::json!([s, m, c])).collect();
    sqlx::query(
        "INSERT INTO google_jobs (serial_number, message, campaign_id, state, attempts, run_at, created_at, \
         updated_at) \
         SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), \
         'pending', 0, ?3, ?2, ?2 FROM json_each(?1) AS j WHERE 1 \
         ON CONFLICT (serial_number) WHERE state = 'pending' \
         DO UPDATE SET message = COALESCE(excluded.message, google_jobs.message), updated_at = excluded.updated_at, \
         campaign_id = CASE WHEN excluded.message IS NULL THEN google_jobs.campaign_id ELSE excluded.campaign_id END",
    )
    .bind(serde_json::Value::Array(list).to_string())
    .bind(now)
    .bind(run_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the object of `serial` as matching pass version `version` (never going back).
async fn record_synced(conn: &mut SqliteConnection, serial: &str, object_id: &str, version: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO google_objects (serial_number, object_id, synced_version, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (serial_number) DO UPDATE SET object_id = excluded.object_id, \
         synced_version = MAX(COALESCE(google_objects.synced_version, 0), excluded.synced_version), \
         updated_at = excluded.updated_at",
    )
    .bind(serial)
    .bind(object_id)
    .bind(version)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl GoogleStore for SqliteStore {
    async fn reserve_rate_slot(&self, name: &str, interval_ms: i64) -> Result<i64> {
        let now = now_ms();
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO rate_limits (name, next_free_at) VALUES (?1, ?2 + ?3) \
             ON CONFLICT (name) DO UPDATE SET next_free_at = MAX(rate_limits.next_free_at, ?2) + ?3 \
             RETURNING next_free_at",
        )
        .bind(name)
        .bind(now)
        .bind(interval_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(next - interval_ms)
    }

    async fn enqueue_google_sync(&self, serial: &str, message: Option<&str>) -> Result<()> {
        let now = now_ms();
        enqueue_at(&mut *self.pool.acquire().await?, serial, message, None, now, now).await
    }

    async fn claim_google_jobs(&self, limit: i64, lease_ms: i64) -> Result<Vec<GoogleJob>> {
        let now = now_ms();
        let lease_id = tokens::random_hex(8);
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(
            "UPDATE google_jobs SET state = 'leased', lease_id = ?1, run_at = ?2, updated_at = ?3 \
             WHERE id IN (SELECT id FROM google_jobs WHERE state IN ('pending', 'leased') AND run_at <= ?3 \
                          ORDER BY run_at LIMIT ?4) \
             RETURNING id, serial_number, message, campaign_id, attempts",
        )
        .bind(&lease_id)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(GoogleJob {
                    id: r.try_get("id")?,
                    serial_number: r.try_get("serial_number")?,
                    message: r.try_get("message")?,
                    campaign_id: r.try_get("campaign_id")?,
                    attempts: r.try_get("attempts")?,
                    lease_id: lease_id.clone(),
                })
            })
            .collect()
    }

    async fn finish_google_job(&self, job: &GoogleJob, outcome: &GoogleOutcome) -> Result<()> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        match outcome {
            GoogleOutcome::Synced { object_id, version } => {
                sqlx::query("DELETE FROM google_jobs WHERE id = ? AND lease_id = ?")
                    .bind(job.id)
                    .bind(&job.lease_id)
                    .execute(&mut *tx)
                    .await?;
                record_synced(&mut tx, &job.serial_number, object_id, *version).await?;
            }
            GoogleOutcome::Retry { run_at, error } => {
                // A newer waiting job for the pass supersedes this one.
                let dropped = sqlx::query(
                    "DELETE FROM google_jobs WHERE id = ?1 AND lease_id = ?2 AND EXISTS \
                     (SELECT 1 FROM google_jobs WHERE serial_number = ?3 AND state = 'pending')",
                )
                .bind(job.id)
                .bind(&job.lease_id)
                .bind(&job.serial_number)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if dropped == 0 {
                    sqlx::query(
                        "UPDATE google_jobs SET state = 'pending', attempts = attempts + 1, run_at = ?, last_error = ?, \
                         lease_id = NULL, updated_at = ? WHERE id = ? AND lease_id = ?",
                    )
                    .bind(run_at)
                    .bind(error)
                    .bind(now)
                    .bind(job.id)
                    .bind(&job.lease_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            GoogleOutcome::Dead { error } => {
                sqlx::query(
                    "UPDATE google_jobs SET state = 'dead', attempts = attempts + 1, last_error = ?, lease_id = NULL, \
                     updated_at = ? WHERE id = ? AND lease_id = ?",
                )
                .bind(error)
                .bind(now)
                .bind(job.id)
                .bind(&job.lease_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        super::sqlite::add_counters(&mut tx, &super::campaigns::google_counters(job, outcome)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_google_synced(&self, serial: &str, object_id: &str, version: i64) -> Result<()> {
        record_synced(&mut *self.pool.acquire().await?, serial, object_id, version).await
    }

    async fn google_object(&self, serial: &str) -> Result<Option<GoogleObjectRecord>> {
        let row = sqlx::query("SELECT object_id, synced_version, saved FROM google_objects WHERE serial_number = ?")
            .bind(serial)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(GoogleObjectRecord {
                object_id: r.try_get("object_id")?,
                synced_version: r.try_get("synced_version")?,
                saved: r.try_get("saved")?,
            })
        })
        .transpose()
    }

    async fn record_google_callback(&self, nonce: &str, object_id: &str, saved: bool) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let fresh =
            sqlx::query("INSERT INTO google_callback_nonces (nonce, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
                .bind(nonce)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if fresh {
            let sql = if saved {
                "UPDATE google_objects SET saved = 1, saved_at = ?1, updated_at = ?1 WHERE object_id = ?2"
            } else {
                "UPDATE google_objects SET saved = 0, removed_at = ?1, updated_at = ?1 WHERE object_id = ?2"
            };
            sqlx::query(sql).bind(now).bind(object_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(fresh)
    }

    async fn dead_google_jobs(&self, after_id: Option<i64>, limit: i64) -> Result<Vec<DeadGoogleJob>> {
        let rows = sqlx::query(
            "SELECT id, serial_number, attempts, last_error, created_at, updated_at FROM google_jobs \
             WHERE state = 'dead' AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(after_id.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadGoogleJob {
                    id: r.try_get("id")?,
                    serial_number: r.try_get("serial_number")?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    async fn retry_dead_google_jobs(&self, id: Option<i64>) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        // A pass's waiting job covers its dead ones; of several dead jobs per pass, one is enough.
        sqlx::query(
            "DELETE FROM google_jobs WHERE state = 'dead' AND (?1 IS NULL OR id = ?1) AND ( \
               EXISTS (SELECT 1 FROM google_jobs p WHERE p.serial_number = google_jobs.serial_number \
                       AND p.state = 'pending') \
               OR id NOT IN (SELECT MIN(id) FROM google_jobs WHERE state = 'dead' GROUP BY serial_number))",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "UPDATE google_jobs SET state = 'pending', attempts = 0, run_at = ?1, updated_at = ?1 \
             WHERE state = 'dead' AND (?2 IS NULL OR id = ?2)",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}
