//! The one SQL implementation of the `Store`, compiled once per backend (`sqlite.rs`,
//! `postgres.rs`): queries use `$N` placeholders, which both drivers take, and the dialect
//! macros of the including backend (`lock_rows!`, `skip_locked!`, `jsonb!`, `json_rows!`, …)
//! for the few pieces of SQL that differ. This file holds the store itself, passes, devices
//! and API keys; each other concern has its own file.

#[macro_use]
mod dialect;

use std::sync::Arc;

use anyhow::{Context, Result};
use async_trait::async_trait;
use sqlx::Row;

use super::{self as backend, Db};
use crate::error::Error;
use crate::jobs::queue::Wakeups;
use crate::store::{
    ApiKeyRecord, DbSettings, NewApiKey, NewPass, PassChange, PassQuery, PassRecord, PassUpdate, Registration, Store,
    StoreError, StoreResult, UpdatedSerials, next_last_modified, now_ms,
};
use rows::{key_from_row, pass_from_row, row_by};

/// A connection of this backend (what `&mut *tx` gives).
pub(crate) type Conn = <Db as sqlx::Database>::Connection;

mod audit;
mod campaign_results;
pub(super) mod campaigns;
mod designs;
mod fanout;
mod flyer_stats;
mod google;
pub(crate) mod jobs;
mod members;
mod offers;
mod orders;
mod receipts;
mod redemptions;
mod reports;
pub(crate) mod rows;
pub mod segment;
mod shops;
mod signup;
mod store_report;
mod tokens;
mod tx;
mod users;
pub(crate) mod webhooks;

pub(crate) use tx::WriteTx;

/// A result row of this backend (what the row mappings of each concern read).
pub(crate) type DbRow = <Db as sqlx::Database>::Row;

/// The columns `pass_from_row` reads (`data` as JSON text).
macro_rules! pass_columns {
    () => {
        concat!(
            "serial_number, template, ",
            json_text!("data"),
            ", authentication_token, share_token, version, last_modified, voided, created_at, updated_at"
        )
    };
}
pub(crate) use pass_columns;

pub struct SqlStore {
    pub(crate) pool: sqlx::Pool<Db>,
    /// What changes queue besides themselves (pushes after a delay, Google syncs, webhooks).
    pub(crate) settings: DbSettings,
    pub(crate) wakeups: Arc<Wakeups>,
}

impl SqlStore {
    pub async fn connect(settings: &DbSettings) -> Result<Self> {
        Ok(Self { pool: backend::connect(settings).await?, settings: settings.clone(), wakeups: Arc::default() })
    }

    /// Writes pass changes inside the caller's write transaction (distinct serials, read with
    /// `lock_pass`), committed together: version tags in the given order, new Last-Modified
    /// dates, then one update, one push enqueue (a job per device) and one Google enqueue for all.
    pub(crate) async fn write_pass_changes(
        &self,
        tx: &mut WriteTx,
        changes: Vec<(PassRecord, PassChange)>,
    ) -> Result<Vec<PassRecord>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let last = take_versions(tx, changes.len() as i64).await?;
        let first = last - changes.len() as i64 + 1;
        let now = now_ms();
        let rows: Vec<(PassRecord, PassChange)> = changes
            .into_iter()
            .enumerate()
            .map(|(i, (current, change))| {
                let record = PassRecord {
                    data: change.data.clone(),
                    voided: change.voided,
                    version: first + i as i64,
                    last_modified: next_last_modified(Some(current.last_modified)),
                    updated_at: now,
                    ..current
                };
                (record, change)
            })
            .collect();
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(r, _)| {
                serde_json::json!([r.serial_number, r.data.to_string(), r.voided, r.version, r.last_modified])
            })
            .collect();
        sqlx::query(concat!(
            "UPDATE passes SET data = ",
            jsonb!(jv!(1)),
            ", voided = CAST(",
            jv!(2),
            " AS BOOLEAN), version = CAST(",
            jv!(3),
            " AS BIGINT), last_modified = CAST(",
            jv!(4),
            " AS BIGINT), updated_at = $2 FROM ",
            json_rows!("$1"),
            " WHERE passes.serial_number = ",
            jv!(0)
        ))
        .bind(serde_json::Value::Array(list).to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let pushes: Vec<(&str, Option<&str>)> =
            rows.iter().map(|(r, c)| (r.serial_number.as_str(), c.campaign.as_deref())).collect();
        jobs::enqueue_pushes(tx, &pushes, now, self.settings.push_coalesce_ms).await?;
        if self.settings.google_enabled {
            let syncs: Vec<_> = rows
                .iter()
                .map(|(r, c)| (r.serial_number.as_str(), c.message.as_deref(), c.campaign.as_deref()))
                .collect();
            jobs::enqueue_google_syncs(tx, &syncs, now, now).await?;
        }
        Ok(rows.into_iter().map(|(r, _)| r).collect())
    }

    /// Stores a new pass inside the caller's write transaction, at the next version tag, with
    /// its first Google sync (when on); `Conflict` on `serial_number` if the serial exists.
    pub(crate) async fn write_new_pass(&self, tx: &mut WriteTx, p: &NewPass) -> StoreResult<PassRecord> {
        let (version, now) = (take_versions(tx, 1).await?, now_ms());
        let record = insert_pass_row(tx, p, version, now).await?;
        if self.settings.google_enabled {
            // Due after the inline creation's window: if that succeeds, this job finds nothing to do.
            let run_at = now + self.settings.google_first_sync_delay_ms;
            jobs::enqueue_google_syncs(tx, &[(p.serial_number.as_str(), None, None)], now, run_at).await?;
        }
        Ok(record)
    }

    /// Changes the pass an order or a member links to inside the caller's write transaction,
    /// with the effects of `update_pass` (next version tag, push jobs for its devices, a Google
    /// sync); nothing without a serial, a stored pass, or a change decided.
    pub(crate) async fn change_linked_pass(
        &self,
        tx: &mut WriteTx,
        serial: Option<&str>,
        decide: impl FnOnce(&PassRecord) -> Result<Option<PassChange>, Error> + Send,
    ) -> StoreResult<Option<PassRecord>> {
        let Some(serial) = serial else { return Ok(None) };
        let Some(current) = lock_pass(tx, serial).await? else { return Ok(None) };
        let Some(change) = decide(&current).map_err(StoreError::Refused)? else { return Ok(None) };
        Ok(self.write_pass_changes(tx, vec![(current, change)]).await?.pop())
    }

    /// A write transaction (the unit of work): its commit wakes the workers of the jobs it queued.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx> {
        Ok(WriteTx::new(backend::begin_write(&self.pool).await?, self.wakeups.clone()))
    }
}

/// Takes `n` consecutive version tags; returns the last. The counter's row stays locked until
/// the transaction ends, so a later tag never commits before an earlier one.
pub(crate) async fn take_versions(conn: &mut Conn, n: i64) -> Result<i64> {
    let sql = "UPDATE counters SET value = value + $1 WHERE name = 'pass_version' RETURNING value";
    Ok(sqlx::query_scalar(sql).bind(n).fetch_one(conn).await?)
}

/// Inserts a pass row at version tag `version`, queuing nothing; `Conflict` on `serial_number`.
pub(crate) async fn insert_pass_row(conn: &mut Conn, p: &NewPass, version: i64, now: i64) -> StoreResult<PassRecord> {
    let row = sqlx::query(concat!(
        "INSERT INTO passes (serial_number, template, data, authentication_token, share_token, \
         version, last_modified, voided, created_at, updated_at) VALUES ($1, $2, ",
        jsonb!("$3"),
        ", $4, $5, $6, $7, FALSE, $8, $8) RETURNING ",
        pass_columns!()
    ))
    .bind(&p.serial_number)
    .bind(&p.template)
    .bind(p.data.to_string())
    .bind(&p.authentication_token)
    .bind(&p.share_token)
    .bind(version)
    .bind(next_last_modified(None))
    .bind(now)
    .fetch_one(conn)
    .await
    .map_err(|e| StoreError::unique(e, "serial_number", &p.serial_number))?;
    Ok(pass_from_row(&row)?)
}

/// Registers a device for a pass with its push token; true if the registration is new.
pub(crate) async fn register(conn: &mut Conn, device: &str, serial: &str, push_token: &str, now: i64) -> Result<bool> {
    sqlx::query(
        "INSERT INTO devices (device_library_id, push_token, created_at, updated_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (device_library_id) DO UPDATE SET push_token = excluded.push_token, updated_at = excluded.updated_at",
    )
    .bind(device)
    .bind(push_token)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO registrations (device_library_id, serial_number, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (device_library_id, serial_number) DO NOTHING",
    )
    .bind(device)
    .bind(serial)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Keeps the `max` most recent registrations of a pass (`device`'s, just made, among them):
/// one pass cannot fan a change out to an unbounded number of devices.
async fn drop_oldest_registrations(conn: &mut Conn, device: &str, serial: &str, max: u32) -> Result<()> {
    let keep_others = i64::from(max.max(1)) - 1;
    let dropped: Vec<String> = sqlx::query_scalar(
        "DELETE FROM registrations WHERE serial_number = $1 AND device_library_id <> $2 \
         AND device_library_id NOT IN (SELECT device_library_id FROM registrations \
           WHERE serial_number = $1 AND device_library_id <> $2 \
           ORDER BY created_at DESC, device_library_id DESC LIMIT $3) \
         RETURNING device_library_id",
    )
    .bind(serial)
    .bind(device)
    .bind(keep_others)
    .fetch_all(&mut *conn)
    .await?;
    // Devices left without passes are forgotten, push token included (usually one a call).
    for gone in &dropped {
        sqlx::query(
            "DELETE FROM devices WHERE device_library_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM registrations WHERE device_library_id = $1)",
        )
        .bind(gone)
        .execute(&mut *conn)
        .await?;
    }
    if !dropped.is_empty() {
        tracing::info!(
            serial,
            dropped = dropped.len(),
            "PASSERELLE_MAX_DEVICES_PER_PASS reached: the oldest registrations dropped"
        );
    }
    Ok(())
}

/// Reads a pass and locks its row until the transaction ends (on SQLite the write lock does).
pub(crate) async fn lock_pass(conn: &mut Conn, serial: &str) -> Result<Option<PassRecord>> {
    let sql = concat!("SELECT ", pass_columns!(), " FROM passes WHERE serial_number = $1", lock_rows!());
    row_by(conn, sql, serial, pass_from_row).await
}

#[async_trait]
impl Store for SqlStore {
    async fn migrate(&self) -> Result<()> {
        backend::migrator().run(&self.pool).await.context("applying the database migrations")
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn optimize(&self) -> Result<()> {
        sqlx::query(backend::OPTIMIZE).execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_pass(&self, p: NewPass) -> StoreResult<PassRecord> {
        let mut tx = self.write_tx().await?;
        let record = self.write_new_pass(&mut tx, &p).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn pass(&self, serial: &str) -> Result<Option<PassRecord>> {
        let sql = concat!("SELECT ", pass_columns!(), " FROM passes WHERE serial_number = $1");
        row_by(&self.pool, sql, serial, pass_from_row).await
    }

    async fn pass_by_share_token(&self, token: &str) -> Result<Option<PassRecord>> {
        let sql = concat!("SELECT ", pass_columns!(), " FROM passes WHERE share_token = $1");
        row_by(&self.pool, sql, token, pass_from_row).await
    }

    async fn list_passes(&self, q: &PassQuery) -> Result<Vec<PassRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            pass_columns!(),
            " FROM passes \
             WHERE (CAST($1 AS TEXT) IS NULL OR template = $1) AND (CAST($2 AS BIGINT) IS NULL OR updated_at >= $2) \
             AND (CAST($3 AS TEXT) IS NULL OR serial_number > $3) ORDER BY serial_number LIMIT $4"
        ))
        .bind(&q.template)
        .bind(q.updated_since)
        .bind(&q.after_serial)
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pass_from_row).collect()
    }

    async fn update_pass(&self, serial: &str, update: PassUpdate) -> StoreResult<Option<PassRecord>> {
        let mut tx = self.write_tx().await?;
        let record = self.change_linked_pass(&mut tx, Some(serial), |p| update(p).map(Some)).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn register_device(
        &self,
        device: &str,
        serial: &str,
        push_token: &str,
        max_devices: u32,
    ) -> Result<Registration> {
        let mut tx = self.write_tx().await?;
        let created = register(&mut tx, device, serial, push_token, now_ms()).await?;
        if created {
            drop_oldest_registrations(&mut tx, device, serial, max_devices).await?;
        }
        tx.commit().await?;
        Ok(if created { Registration::Created } else { Registration::AlreadyRegistered })
    }

    async fn unregister_device(&self, device: &str, serial: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let sql = "DELETE FROM registrations WHERE device_library_id = $1 AND serial_number = $2";
        let removed = sqlx::query(sql).bind(device).bind(serial).execute(&mut *tx).await?.rows_affected();
        // A device without passes is forgotten, push token included.
        sqlx::query(
            "DELETE FROM devices WHERE device_library_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM registrations WHERE device_library_id = devices.device_library_id)",
        )
        .bind(device)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(removed > 0)
    }

    async fn updated_serials(&self, device: &str, since: Option<i64>) -> Result<Option<UpdatedSerials>> {
        let rows = sqlx::query(
            "SELECT p.serial_number, p.version FROM registrations r \
             JOIN passes p ON p.serial_number = r.serial_number \
             WHERE r.device_library_id = $1 AND p.version > $2 ORDER BY p.version",
        )
        .bind(device)
        .bind(since.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        let Some(last) = rows.last() else { return Ok(None) };
        let last_updated: i64 = last.try_get("version")?;
        let serial_numbers = rows.iter().map(|r| r.try_get("serial_number")).collect::<Result<_, _>>()?;
        Ok(Some(UpdatedSerials { serial_numbers, last_updated }))
    }

    async fn add_device_logs(&self, lines: &[String], keep: i64) -> Result<()> {
        let rows: Vec<[&str; 1]> = lines.iter().map(|l| [l.as_str()]).collect();
        let mut tx = self.write_tx().await?;
        sqlx::query(concat!(
            "INSERT INTO device_logs (received_at, message) SELECT $1, ",
            jv!(0),
            " FROM ",
            json_rows!("$2")
        ))
        .bind(now_ms())
        .bind(serde_json::to_string(&rows).context("encoding device logs")?)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM device_logs WHERE id <= (SELECT MAX(id) FROM device_logs) - $1")
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord> {
        let row = sqlx::query(
            "INSERT INTO api_keys (id, name, prefix, key_hash, role, store_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, name, prefix, role, store_id, created_at, last_used_at, \
             revoked_at",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.key_hash)
        .bind(&key.role)
        .bind(&key.store_id)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        key_from_row(&row)
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, role, store_id, created_at, last_used_at, revoked_at FROM api_keys \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool> {
        let sql = "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        Ok(sqlx::query(sql).bind(now_ms()).bind(id).execute(&self.pool).await?.rows_affected() > 0)
    }

    async fn use_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>> {
        let sql = "SELECT id, name, prefix, role, store_id, created_at, last_used_at, revoked_at FROM api_keys \
                   WHERE key_hash = $1 AND revoked_at IS NULL";
        let Some(key) = row_by(&self.pool, sql, key_hash, key_from_row).await? else { return Ok(None) };
        let now = now_ms();
        // One write a minute at most: key checks stay reads on the hot path.
        if key.last_used_at.is_none_or(|t| now - t > 60_000) {
            let sql = "UPDATE api_keys SET last_used_at = $1 WHERE id = $2";
            sqlx::query(sql).bind(now).bind(&key.id).execute(&self.pool).await?;
        }
        Ok(Some(key))
    }
}
