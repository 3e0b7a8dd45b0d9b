//! The job queue in SQL (see `store/jobs.rs`): each kind's enqueue, written in the caller's
//! transaction, and the claim / finish / dead / retry / figures shared by every kind. Leases
//! live in `run_at`; a lease id fences a worker whose lease was taken over.

use std::collections::BTreeMap;

use anyhow::Result;
use async_trait::async_trait;
use serde_json::json;
use sqlx::{Connection, Row};

use super::rows::from_row;
use super::tx::WriteTx;
use super::{Conn, DbRow, SqlStore};
use crate::store::jobs::{DeadJob, Effect, Finished, Job, JobKind, JobsStore, Outcome, QueueStats};
use crate::store::now_ms;
use crate::tokens;

/// Queues a push for every device holding one of `passes` (serial, campaign), due `delay_ms`
/// from now, in one statement; a device's waiting job is reused (with its newest push token),
/// so a burst of changes gives one push (see `one_row_per!` for PostgreSQL's one row per device).
pub(crate) async fn enqueue_pushes(
    tx: &mut WriteTx,
    passes: &[(&str, Option<&str>)],
    now: i64,
    delay_ms: i64,
) -> Result<()> {
    let rows: Vec<_> = passes.iter().map(|(s, c)| json!([s, c])).collect();
    // `WHERE TRUE` keeps SQLite from reading the upsert's ON as a join constraint.
    let queued = sqlx::query(concat!(
        "INSERT INTO jobs (kind, key, payload, campaign_id, state, attempts, run_at, created_at, updated_at) \
         SELECT 'push', d.device_library_id, ",
        any_of!("d.push_token"),
        ", ",
        any_of!(jv!(1)),
        ", 'pending', 0, $1 + $3, $1, $1 FROM ",
        json_rows!("$2"),
        " JOIN registrations r ON r.serial_number = ",
        jv!(0),
        " JOIN devices d ON d.device_library_id = r.device_library_id WHERE TRUE",
        one_row_per!("d.device_library_id"),
        " ON CONFLICT (kind, key) WHERE state = 'pending' \
         DO UPDATE SET payload = excluded.payload, updated_at = excluded.updated_at, \
         campaign_id = COALESCE(excluded.campaign_id, jobs.campaign_id)"
    ))
    .bind(now)
    .bind(serde_json::Value::Array(rows).to_string())
    .bind(delay_ms)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if queued > 0 {
        tx.queued(JobKind::Push);
    }
    Ok(())
}

/// Queues a Google sync of each (serial, message, campaign), due at `run_at`, reusing a pass's
/// waiting job (a new message replaces an older one still waiting, with its campaign).
pub(crate) async fn enqueue_google_syncs(
    tx: &mut WriteTx,
    syncs: &[(&str, Option<&str>, Option<&str>)],
    now: i64,
    run_at: i64,
) -> Result<()> {
    let rows: Vec<_> = syncs.iter().map(|(s, m, c)| json!([s, m, c])).collect();
    sqlx::query(concat!(
        "INSERT INTO jobs (kind, key, payload, campaign_id, state, attempts, run_at, created_at, updated_at) \
         SELECT 'google', ",
        jv!(0),
        ", ",
        jv!(1),
        ", ",
        jv!(2),
        ", 'pending', 0, $3, $2, $2 FROM ",
        json_rows!("$1"),
        " WHERE TRUE ORDER BY 2 \
         ON CONFLICT (kind, key) WHERE state = 'pending' \
         DO UPDATE SET payload = COALESCE(excluded.payload, jobs.payload), updated_at = excluded.updated_at, \
         campaign_id = CASE WHEN excluded.payload IS NULL THEN jobs.campaign_id ELSE excluded.campaign_id END"
    ))
    .bind(serde_json::Value::Array(rows).to_string())
    .bind(now)
    .bind(run_at)
    .execute(&mut **tx)
    .await?;
    tx.queued(JobKind::Google);
    Ok(())
}

/// Queues a webhook event (its id and the exact body every attempt sends), due now.
pub(crate) async fn enqueue_webhook(tx: &mut WriteTx, event_id: &str, body: &str) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (kind, key, payload, state, attempts, run_at, created_at, updated_at) \
         VALUES ('webhook', $1, $2, 'pending', 0, $3, $3, $3)",
    )
    .bind(event_id)
    .bind(body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    tx.queued(JobKind::Webhook);
    Ok(())
}

fn kind_of(row: &DbRow) -> Result<JobKind> {
    let kind: String = row.try_get("kind")?;
    JobKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("unknown job kind {kind:?}"))
}

/// Back to pending, unless the key already has a waiting job (which does the same work): then
/// the unique index of waiting jobs refuses the update, made under a savepoint, and the job is
/// dropped.
async fn requeue(conn: &mut Conn, job: &Job, run_at: i64, error: Option<&str>, attempt: i64) -> Result<()> {
    let mut savepoint = conn.begin().await?;
    let updated = sqlx::query(
        "UPDATE jobs SET state = 'pending', attempts = attempts + $1, run_at = $2, \
         last_error = COALESCE(CAST($3 AS TEXT), last_error), lease_id = NULL, updated_at = $4 \
         WHERE id = $5 AND lease_id = $6",
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
            sqlx::query("DELETE FROM jobs WHERE id = $1 AND lease_id = $2")
                .bind(job.id)
                .bind(&job.lease_id)
                .execute(&mut *conn)
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

async fn apply_effect(conn: &mut Conn, effect: &Effect) -> Result<()> {
    match effect {
        Effect::ForgetDevice { device, push_token } => {
            sqlx::query("DELETE FROM devices WHERE device_library_id = $1 AND push_token = $2")
                .bind(device)
                .bind(push_token)
                .execute(conn)
                .await?;
        }
        Effect::GoogleSynced { serial, object_id, version } => {
            super::google::record_synced(conn, serial, object_id, *version).await?;
        }
    }
    Ok(())
}

/// Campaign counters of finished jobs, summed per (campaign, counter).
fn counters(finished: &[Finished]) -> Vec<(String, String, i64)> {
    let mut totals: BTreeMap<(String, String), i64> = BTreeMap::new();
    for f in finished {
        if let (Some(campaign), Some(name)) = (&f.job.campaign_id, &f.counter) {
            *totals.entry((campaign.clone(), name.clone())).or_default() += 1;
        }
    }
    totals.into_iter().map(|((c, n), v)| (c, n, v)).collect()
}

#[async_trait]
impl JobsStore for SqlStore {
    async fn queue_mail(&self, key: &str, payload: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO jobs (kind, key, payload, state, attempts, run_at, created_at, updated_at) \
             VALUES ('mail', $1, $2, 'pending', 0, $3, $3, $3) \
             ON CONFLICT (kind, key) WHERE state = 'pending' \
             DO UPDATE SET payload = excluded.payload, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(payload)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.queued(JobKind::Mail);
        tx.commit().await?;
        Ok(())
    }

    async fn claim_jobs(&self, kind: JobKind, limit: i64, lease_ms: i64) -> Result<Vec<Job>> {
        let now = now_ms();
        let lease_id = tokens::random_hex(8);
        let mut tx = self.write_tx().await?;
        let mut jobs = Vec::new();
        // One state at a time, so each claim is one ordered index range (not a sort of the queue).
        for state in ["leased", "pending"] {
            let remaining = limit - jobs.len() as i64;
            if remaining <= 0 {
                break;
            }
            macro_rules! claim {
                ($order:literal) => {
                    concat!(
                        "UPDATE jobs SET state = 'leased', lease_id = $1, run_at = $2, updated_at = $3 \
                         WHERE id IN (SELECT id FROM jobs WHERE kind = $4 AND state = $5 AND run_at <= $3 ORDER BY ",
                        $order,
                        " LIMIT $6",
                        skip_locked!(),
                        ") RETURNING id, key, payload, campaign_id, attempts"
                    )
                };
            }
            let sql = if kind.in_creation_order() { claim!("id") } else { claim!("run_at") };
            let rows = sqlx::query(sql)
                .bind(&lease_id)
                .bind(now + lease_ms)
                .bind(now)
                .bind(kind.as_str())
                .bind(state)
                .bind(remaining)
                .fetch_all(&mut *tx)
                .await?;
            for row in &rows {
                let lease_id = lease_id.clone();
                jobs.push(
                    from_row!(row, Job { id, key, payload, campaign_id, attempts; kind: kind, lease_id: lease_id }),
                );
            }
        }
        tx.commit().await?;
        if kind.in_creation_order() {
            jobs.sort_by_key(|j| j.id);
        }
        Ok(jobs)
    }

    async fn finish_jobs(&self, finished: &[Finished]) -> Result<()> {
        if finished.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        // Done jobs are the bulk: one statement deletes them all (a stale lease deletes nothing).
        let done: Vec<_> =
            finished.iter().filter(|f| f.outcome == Outcome::Done).map(|f| json!([f.job.id, f.job.lease_id])).collect();
        if !done.is_empty() {
            sqlx::query(concat!(
                "DELETE FROM jobs WHERE (id, lease_id) IN (SELECT CAST(",
                jv!(0),
                " AS BIGINT), ",
                jv!(1),
                " FROM ",
                json_rows!("$1"),
                ")"
            ))
            .bind(serde_json::Value::Array(done).to_string())
            .execute(&mut *tx)
            .await?;
        }
        for f in finished {
            match &f.outcome {
                Outcome::Done => {}
                Outcome::Retry { run_at, error } => requeue(&mut tx, &f.job, *run_at, Some(error), 1).await?,
                Outcome::Release => requeue(&mut tx, &f.job, now, None, 0).await?,
                Outcome::Dead { error } => {
                    sqlx::query(
                        "UPDATE jobs SET state = 'dead', attempts = attempts + 1, last_error = $1, lease_id = NULL, \
                         updated_at = $2 WHERE id = $3 AND lease_id = $4",
                    )
                    .bind(error)
                    .bind(now)
                    .bind(f.job.id)
                    .bind(&f.job.lease_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            if let Some(effect) = &f.effect {
                apply_effect(&mut tx, effect).await?;
            }
        }
        super::backend::add_counters(&mut tx, &counters(finished)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn dead_jobs(&self, kind: Option<JobKind>, after_id: Option<i64>, limit: i64) -> Result<Vec<DeadJob>> {
        let rows = sqlx::query(
            "SELECT id, kind, key, attempts, last_error, created_at, updated_at FROM jobs \
             WHERE state = 'dead' AND (CAST($1 AS TEXT) IS NULL OR kind = $1) AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(kind.map(JobKind::as_str))
        .bind(after_id.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let dead = |r: &DbRow| {
            Ok(from_row!(r, DeadJob { id, key, attempts, last_error, created_at, updated_at;
            kind: kind_of(r)? }))
        };
        rows.iter().map(dead).collect()
    }

    async fn retry_dead_jobs(&self, kind: Option<JobKind>, id: Option<i64>) -> Result<u64> {
        let kind = kind.map(JobKind::as_str);
        let mut tx = self.write_tx().await?;
        // No job may become pending between the check below and the update (the unique index
        // would refuse it): writers wait for this short admin transaction.
        super::backend::lock_jobs(&mut tx).await?;
        // A key's waiting job covers its dead ones; of several dead jobs per key, one is enough.
        sqlx::query(
            "DELETE FROM jobs WHERE state = 'dead' AND (CAST($1 AS TEXT) IS NULL OR kind = $1) \
             AND (CAST($2 AS BIGINT) IS NULL OR id = $2) AND ( \
               EXISTS (SELECT 1 FROM jobs w WHERE w.kind = jobs.kind AND w.key = jobs.key AND w.state = 'pending') \
               OR id NOT IN (SELECT MIN(id) FROM jobs WHERE state = 'dead' GROUP BY kind, key))",
        )
        .bind(kind)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = 0, run_at = $1, updated_at = $1 \
             WHERE state = 'dead' AND (CAST($2 AS TEXT) IS NULL OR kind = $2) AND (CAST($3 AS BIGINT) IS NULL OR id = $3) \
             RETURNING kind",
        )
        .bind(now_ms())
        .bind(kind)
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        rows.iter().filter_map(|r| kind_of(r).ok()).for_each(|kind| tx.queued(kind));
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    async fn queue_stats(&self) -> Result<Vec<(JobKind, QueueStats)>> {
        let rows =
            sqlx::query("SELECT kind, state, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs GROUP BY kind, state")
                .fetch_all(&self.pool)
                .await?;
        let mut stats: BTreeMap<JobKind, QueueStats> =
            JobKind::ALL.iter().map(|k| (*k, QueueStats::default())).collect();
        for row in rows {
            let (kind, state, n, oldest): (String, String, i64, Option<i64>) =
                (row.try_get("kind")?, row.try_get("state")?, row.try_get("n")?, row.try_get("oldest")?);
            let Some(s) = JobKind::parse(&kind).and_then(|k| stats.get_mut(&k)) else { continue };
            match state.as_str() {
                "pending" => s.pending = n,
                "leased" => s.leased = n,
                _ => s.dead = n,
            }
            if state != "dead" {
                s.oldest_created_at = s.oldest_created_at.into_iter().chain(oldest).min();
            }
        }
        Ok(stats.into_iter().collect())
    }

    fn wakeups(&self) -> std::sync::Arc<crate::jobs::queue::Wakeups> {
        self.wakeups.clone()
    }
}
