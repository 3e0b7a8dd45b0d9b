//! The push outbox on SQLite: claims are one `UPDATE ... RETURNING` inside a `BEGIN IMMEDIATE`
//! transaction (the write lock makes them atomic); leases live in `run_at`.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::outbox::{DeadJob, JobOutcome, JobResult, OutboxStore, PushJob, QueueStats};
use super::sqlite::{SqliteStore, next_version};
use super::{next_last_modified, now_ms};
use crate::tokens;

/// Queues a push for every device holding one of `passes` (serial, campaign), due `delay_ms`
/// from now, in one statement; a device's waiting job is reused (with its newest push token),
/// so a burst of changes gives one push.
pub(crate) async fn enqueue_for_passes(
    conn: &mut SqliteConnection,
    passes: &[(&str, Option<&str>)],
    now: i64,
    delay_ms: i64,
) -> Result<()> {
    let list: Vec<serde_json::Value> = passes.iter().map(|(s, c)| serde_json::json!([s, c])).collect();
    // `WHERE 1` keeps SQLite from reading the upsert's ON as a join constraint.
    sqlx::query(
        "INSERT INTO push_jobs (device_library_id, push_token, state, attempts, run_at, created_at, updated_at, \
         campaign_id) \
         SELECT d.device_library_id, d.push_token, 'pending', 0, ?1 + ?3, ?1, ?1, json_extract(j.value, '$[1]') \
         FROM json_each(?2) AS j \
         JOIN registrations r ON r.serial_number = json_extract(j.value, '$[0]') \
         JOIN devices d ON d.device_library_id = r.device_library_id WHERE 1 \
         ON CONFLICT (device_library_id) WHERE state = 'pending' \
         DO UPDATE SET push_token = excluded.push_token, updated_at = excluded.updated_at, \
         campaign_id = COALESCE(excluded.campaign_id, push_jobs.campaign_id)",
    )
    .bind(now)
    .bind(serde_json::Value::Array(list).to_string())
    .bind(delay_ms)
    .execute(conn)
    .await?;
    Ok(())
}

fn job_from_row(row: &SqliteRow, lease_id: &str) -> Result<PushJob> {
    Ok(PushJob {
        id: row.try_get("id")?,
        device_library_id: row.try_get("device_library_id")?,
        push_token: row.try_get("push_token")?,
        campaign_id: row.try_get("campaign_id")?,
        attempts: row.try_get("attempts")?,
        lease_id: lease_id.to_owned(),
    })
}

/// Back to pending, unless the device already has a waiting job (which will push it anyway).
async fn requeue(
    conn: &mut SqliteConnection,
    job: &PushJob,
    run_at: i64,
    error: Option<&str>,
    attempt: i64,
) -> Result<()> {
    let dropped = sqlx::query(
        "DELETE FROM push_jobs WHERE id = ?1 AND lease_id = ?2 AND EXISTS \
         (SELECT 1 FROM push_jobs WHERE device_library_id = ?3 AND state = 'pending')",
    )
    .bind(job.id)
    .bind(&job.lease_id)
    .bind(&job.device_library_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if dropped == 0 {
        sqlx::query(
            "UPDATE push_jobs SET state = 'pending', attempts = attempts + ?1, run_at = ?2, \
             last_error = COALESCE(?3, last_error), lease_id = NULL, updated_at = ?4 WHERE id = ?5 AND lease_id = ?6",
        )
        .bind(attempt)
        .bind(run_at)
        .bind(error)
        .bind(now_ms())
        .bind(job.id)
        .bind(&job.lease_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_push_jobs(&self, limit: i64, lease_ms: i64) -> Result<Vec<PushJob>> {
        let now = now_ms();
        let lease_id = tokens::random_hex(8);
        let mut tx = self.write_tx().await?;
        let mut jobs = Vec::new();
        // Expired leases first (their worker died), then due jobs; the lease end goes in run_at.
        for state in ["leased", "pending"] {
            let remaining = limit - jobs.len() as i64;
            if remaining <= 0 {
                break;
            }
            let rows = sqlx::query(
                "UPDATE push_jobs SET state = 'leased', lease_id = ?1, run_at = ?2, updated_at = ?3 \
                 WHERE id IN (SELECT id FROM push_jobs WHERE state = ?4 AND run_at <= ?3 ORDER BY run_at LIMIT ?5) \
                 RETURNING id, device_library_id, push_token, attempts, campaign_id",
            )
            .bind(&lease_id)
            .bind(now + lease_ms)
            .bind(now)
            .bind(state)
            .bind(remaining)
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                jobs.push(job_from_row(row, &lease_id)?);
            }
        }
        tx.commit().await?;
        Ok(jobs)
    }

    async fn finish_push_jobs(&self, results: &[JobResult]) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        for JobResult { job, outcome } in results {
            match outcome {
                JobOutcome::Delivered | JobOutcome::DeviceGone { .. } => {
                    sqlx::query("DELETE FROM push_jobs WHERE id = ? AND lease_id = ?")
                        .bind(job.id)
                        .bind(&job.lease_id)
                        .execute(&mut *tx)
                        .await?;
                    if matches!(outcome, JobOutcome::DeviceGone { .. }) {
                        // Only if the token is still the one APNs refused (the device may have re-registered).
                        sqlx::query("DELETE FROM devices WHERE device_library_id = ? AND push_token = ?")
                            .bind(&job.device_library_id)
                            .bind(&job.push_token)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                JobOutcome::Retry { run_at, error } => requeue(&mut tx, job, *run_at, Some(error), 1).await?,
                JobOutcome::Release => requeue(&mut tx, job, now, None, 0).await?,
                JobOutcome::Dead { error } => {
                    sqlx::query(
                        "UPDATE push_jobs SET state = 'dead', attempts = attempts + 1, last_error = ?, lease_id = NULL, \
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
        }
        super::sqlite::add_counters(&mut tx, &super::campaigns::push_counters(results)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn dead_push_jobs(&self, after_id: Option<i64>, limit: i64) -> Result<Vec<DeadJob>> {
        let rows = sqlx::query(
            "SELECT id, device_library_id, attempts, last_error, created_at, updated_at FROM push_jobs \
             WHERE state = 'dead' AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(after_id.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadJob {
                    id: r.try_get("id")?,
                    device_library_id: r.try_get("device_library_id")?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    async fn retry_dead_push_jobs(&self, id: Option<i64>) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        // A device's waiting job covers its dead ones; of several dead jobs per device, one is enough.
        sqlx::query(
            "DELETE FROM push_jobs WHERE state = 'dead' AND (?1 IS NULL OR id = ?1) AND ( \
               EXISTS (SELECT 1 FROM push_jobs p WHERE p.device_library_id = push_jobs.device_library_id \
                       AND p.state = 'pending') \
               OR id NOT IN (SELECT MIN(id) FROM push_jobs WHERE state = 'dead' GROUP BY device_library_id))",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let now = now_ms();
        let n = sqlx::query(
            "UPDATE push_jobs SET state = 'pending', attempts = 0, run_at = ?1, updated_at = ?1 \
             WHERE state = 'dead' AND (?2 IS NULL OR id = ?2)",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    async fn push_queue_stats(&self) -> Result<QueueStats> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n, MIN(created_at) AS oldest FROM push_jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut stats = QueueStats::default();
        for row in rows {
            let (state, n, oldest): (String, i64, Option<i64>) =
                (row.try_get("state")?, row.try_get("n")?, row.try_get("oldest")?);
            match state.as_str() {
                "pending" => stats.pending = n,
                "leased" => stats.leased = n,
                _ => stats.dead = n,
            }
            if state != "dead" {
                stats.oldest_created_at = match (stats.oldest_created_at, oldest) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        Ok(stats)
    }

    async fn bump_template_passes(
        &self,
        template: &str,
        after_serial: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>> {
        let after = after_serial.unwrap_or("");
        let mut tx = self.write_tx().await?;
        let serials: Vec<String> = sqlx::query_scalar(
            "SELECT serial_number FROM passes WHERE template = ? AND serial_number > ? ORDER BY serial_number LIMIT ?",
        )
        .bind(template)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = serials.last() else { return Ok(serials) };
        let version = next_version(&mut tx).await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE passes SET version = ?1, last_modified = MAX(?2, last_modified + 1), updated_at = ?3 \
             WHERE template = ?4 AND serial_number > ?5 AND serial_number <= ?6",
        )
        .bind(version)
        .bind(next_last_modified(None))
        .bind(now)
        .bind(template)
        .bind(after)
        .bind(last)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO push_jobs (device_library_id, push_token, state, attempts, run_at, created_at, updated_at) \
             SELECT d.device_library_id, d.push_token, 'pending', 0, ?1, ?1, ?1 \
             FROM registrations r JOIN devices d ON d.device_library_id = r.device_library_id \
             JOIN passes p ON p.serial_number = r.serial_number \
             WHERE p.template = ?2 AND p.serial_number > ?3 AND p.serial_number <= ?4 \
             GROUP BY d.device_library_id, d.push_token \
             ON CONFLICT (device_library_id) WHERE state = 'pending' \
             DO UPDATE SET push_token = excluded.push_token, updated_at = excluded.updated_at",
        )
        .bind(now)
        .bind(template)
        .bind(after)
        .bind(last)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(serials)
    }

    async fn template_design(&self, template: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT design_hash FROM template_designs WHERE template = ?")
            .bind(template)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn set_template_design(&self, template: &str, design_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO template_designs (template, design_hash, published_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (template) DO UPDATE SET design_hash = excluded.design_hash, published_at = excluded.published_at",
        )
        .bind(template)
        .bind(design_hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
