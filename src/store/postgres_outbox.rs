//! The push outbox on PostgreSQL; `FOR UPDATE SKIP LOCKED` claims so several processes share the queue
//! (each takes rows no other claim holds); leases live in `run_at`.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};

use super::outbox::{DeadJob, JobOutcome, JobResult, OutboxStore, PushJob, QueueStats};
use super::postgres::{PostgresStore, next_version};
use super::{next_last_modified, now_ms};
use crate::tokens;

/// Queues a push for every device holding one of `serials` (with the campaign of each), due
/// `delay_ms` from now, in one statement; a device's waiting job is reused (with its newest
/// push token), so a burst of changes gives one push.
pub(crate) async fn enqueue_for_passes(
    conn: &mut PgConnection,
    serials: &[&str],
    campaigns: &[Option<&str>],
    now: i64,
    delay_ms: i64,
) -> Result<()> {
    // One row per device (an upsert may not touch a row twice), in a fixed order: concurrent
    // enqueues lock the waiting jobs in the same order (no deadlock).
    sqlx::query(
        "INSERT INTO push_jobs (device_library_id, push_token, state, attempts, run_at, created_at, updated_at, \
         campaign_id) \
         SELECT DISTINCT ON (d.device_library_id) d.device_library_id, d.push_token, 'pending', 0, $1 + $3, $1, $1, \
         j.campaign \
         FROM UNNEST($2::text[], $4::text[]) AS j (serial, campaign) \
         JOIN registrations r ON r.serial_number = j.serial \
         JOIN devices d ON d.device_library_id = r.device_library_id \
         ORDER BY d.device_library_id \
         ON CONFLICT (device_library_id) WHERE state = 'pending' \
         DO UPDATE SET push_token = EXCLUDED.push_token, updated_at = EXCLUDED.updated_at, \
         campaign_id = COALESCE(EXCLUDED.campaign_id, push_jobs.campaign_id)",
    )
    .bind(now)
    .bind(serials)
    .bind(delay_ms)
    .bind(campaigns)
    .execute(conn)
    .await?;
    Ok(())
}

fn job_from_row(row: &PgRow, lease_id: &str) -> Result<PushJob> {
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
async fn requeue(conn: &mut PgConnection, job: &PushJob, run_at: i64, error: Option<&str>, attempt: i64) -> Result<()> {
    let dropped = sqlx::query(
        "DELETE FROM push_jobs WHERE id = $1 AND lease_id = $2 AND EXISTS \
         (SELECT 1 FROM push_jobs WHERE device_library_id = $3 AND state = 'pending')",
    )
    .bind(job.id)
    .bind(&job.lease_id)
    .bind(&job.device_library_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if dropped > 0 {
        return Ok(());
    }
    // A waiting job enqueued meanwhile (not yet committed at the check) makes the unique index
    // refuse the update: under a savepoint, so the job can then be dropped as above.
    let mut savepoint = conn.begin().await?;
    let updated = sqlx::query(
        "UPDATE push_jobs SET state = 'pending', attempts = attempts + $1, run_at = $2, \
         last_error = COALESCE($3::text, last_error), lease_id = NULL, updated_at = $4 WHERE id = $5 AND lease_id = $6",
    )
    .bind(attempt)
    .bind(run_at)
    .bind(error)
    .bind(now_ms())
    .bind(job.id)
    .bind(&job.lease_id)
    .execute(&mut *savepoint)
    .await;
    match updated {
        Ok(_) => savepoint.commit().await?,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            savepoint.rollback().await?;
            sqlx::query("DELETE FROM push_jobs WHERE id = $1 AND lease_id = $2")
                .bind(job.id)
                .bind(&job.lease_id)
                .execute(&mut *conn)
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn claim_push_jobs(&self, limit: i64, lease_ms: i64) -> Result<Vec<PushJob>> {
        let now = now_ms();
        let lease_id = tokens::random_hex(8);
        let mut tx = self.write_tx().await?;
        let mut jobs = Vec::new();
        // Expired leases first (their worker died), then due jobs; the lease end goes in run_at.
        // SKIP LOCKED: rows another claim (or an enqueue) holds are left to it, never taken twice.
        for state in ["leased", "pending"] {
            let remaining = limit - jobs.len() as i64;
            if remaining <= 0 {
                break;
            }
            let rows = sqlx::query(
                "UPDATE push_jobs SET state = 'leased', lease_id = $1, run_at = $2, updated_at = $3 \
                 WHERE id IN (SELECT id FROM push_jobs WHERE state = $4 AND run_at <= $3 ORDER BY run_at LIMIT $5 \
                 FOR UPDATE SKIP LOCKED) \
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
        // Deliveries are the bulk: one statement deletes them all (a stale lease deletes nothing).
        let (ids, leases): (Vec<i64>, Vec<&str>) = results
            .iter()
            .filter(|r| matches!(r.outcome, JobOutcome::Delivered | JobOutcome::DeviceGone { .. }))
            .map(|r| (r.job.id, r.job.lease_id.as_str()))
            .unzip();
        if !ids.is_empty() {
            sqlx::query(
                "DELETE FROM push_jobs USING UNNEST($1::bigint[], $2::text[]) AS f (id, lease_id) \
                 WHERE push_jobs.id = f.id AND push_jobs.lease_id = f.lease_id",
            )
            .bind(&ids)
            .bind(&leases)
            .execute(&mut *tx)
            .await?;
        }
        for JobResult { job, outcome } in results {
            match outcome {
                JobOutcome::Delivered => {}
                JobOutcome::DeviceGone { .. } => {
                    // Only if the token is still the one APNs refused (the device may have re-registered).
                    sqlx::query("DELETE FROM devices WHERE device_library_id = $1 AND push_token = $2")
                        .bind(&job.device_library_id)
                        .bind(&job.push_token)
                        .execute(&mut *tx)
                        .await?;
                }
                JobOutcome::Retry { run_at, error } => requeue(&mut tx, job, *run_at, Some(error), 1).await?,
                JobOutcome::Release => requeue(&mut tx, job, now, None, 0).await?,
                JobOutcome::Dead { error } => {
                    sqlx::query(
                        "UPDATE push_jobs SET state = 'dead', attempts = attempts + 1, last_error = $1, lease_id = NULL, \
                         updated_at = $2 WHERE id = $3 AND lease_id = $4",
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
        super::postgres::add_counters(&mut tx, &super::campaigns::push_counters(results)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn dead_push_jobs(&self, after_id: Option<i64>, limit: i64) -> Result<Vec<DeadJob>> {
        let rows = sqlx::query(
            "SELECT id, device_library_id, attempts, last_error, created_at, updated_at FROM push_jobs \
             WHERE state = 'dead' AND id > $1 ORDER BY id LIMIT $2",
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
        // No job may become pending between the check below and the update (the unique index
        // would refuse it): writers wait for this short admin transaction; readers do not.
        sqlx::query("LOCK TABLE push_jobs IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        // A device's waiting job covers its dead ones; of several dead jobs per device, one is enough.
        sqlx::query(
            "DELETE FROM push_jobs WHERE state = 'dead' AND ($1::bigint IS NULL OR id = $1) AND ( \
               EXISTS (SELECT 1 FROM push_jobs p WHERE p.device_library_id = push_jobs.device_library_id \
                       AND p.state = 'pending') \
               OR id NOT IN (SELECT MIN(id) FROM push_jobs WHERE state = 'dead' GROUP BY device_library_id))",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let now = now_ms();
        let n = sqlx::query(
            "UPDATE push_jobs SET state = 'pending', attempts = 0, run_at = $1, updated_at = $1 \
             WHERE state = 'dead' AND ($2::bigint IS NULL OR id = $2)",
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
        // The passes' row locks before the version counter's, as update_pass takes them (no deadlock);
        // the changes below touch exactly these rows.
        let serials: Vec<String> = sqlx::query_scalar(
            "SELECT serial_number FROM passes WHERE template = $1 AND serial_number > $2 \
             ORDER BY serial_number LIMIT $3 FOR NO KEY UPDATE",
        )
        .bind(template)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if serials.is_empty() {
            return Ok(serials);
        }
        let version = next_version(&mut tx).await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE passes SET version = $1, last_modified = GREATEST($2, last_modified + 1), updated_at = $3 \
             WHERE serial_number = ANY($4)",
        )
        .bind(version)
        .bind(next_last_modified(None))
        .bind(now)
        .bind(&serials)
        .execute(&mut *tx)
        .await?;
        // One row per device (PostgreSQL refuses to update a waiting job twice in one statement).
        sqlx::query(
            "INSERT INTO push_jobs (device_library_id, push_token, state, attempts, run_at, created_at, updated_at) \
             SELECT d.device_library_id, d.push_token, 'pending', 0, $1, $1, $1 \
             FROM registrations r JOIN devices d ON d.device_library_id = r.device_library_id \
             WHERE r.serial_number = ANY($2) \
             GROUP BY d.device_library_id, d.push_token ORDER BY d.device_library_id \
             ON CONFLICT (device_library_id) WHERE state = 'pending' \
             DO UPDATE SET push_token = EXCLUDED.push_token, updated_at = EXCLUDED.updated_at",
        )
        .bind(now)
        .bind(&serials)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(serials)
    }

    async fn template_design(&self, template: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT design_hash FROM template_designs WHERE template = $1")
            .bind(template)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn set_template_design(&self, template: &str, design_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO template_designs (template, design_hash, published_at) VALUES ($1, $2, $3) \
             ON CONFLICT (template) DO UPDATE SET design_hash = EXCLUDED.design_hash, published_at = EXCLUDED.published_at",
        )
        .bind(template)
        .bind(design_hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
