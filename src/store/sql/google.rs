//! Google Wallet's storage in SQL (see `store/google.rs`): the synced state of each object, the
//! per-issuer rate limit shared by every process, and the nonces of callbacks already handled.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{from_row, row_by};
use super::{Conn, SqlStore};
use crate::store::google::{GoogleObjectRecord, GoogleStore};
use crate::store::now_ms;

/// Records the object of `serial` as matching pass version `version` (never going back).
pub(crate) async fn record_synced(conn: &mut Conn, serial: &str, object_id: &str, version: i64) -> Result<()> {
    sqlx::query(concat!(
        "INSERT INTO google_objects (serial_number, object_id, synced_version, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (serial_number) DO UPDATE SET object_id = excluded.object_id, synced_version = ",
        greatest!(),
        "(COALESCE(google_objects.synced_version, 0), excluded.synced_version), updated_at = excluded.updated_at"
    ))
    .bind(serial)
    .bind(object_id)
    .bind(version)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl GoogleStore for SqlStore {
    async fn reserve_rate_slot(&self, name: &str, interval_ms: i64) -> Result<i64> {
        let now = now_ms();
        let next: i64 = sqlx::query_scalar(concat!(
            "INSERT INTO rate_limits (name, next_free_at) VALUES ($1, $2 + $3) \
             ON CONFLICT (name) DO UPDATE SET next_free_at = ",
            greatest!(),
            "(rate_limits.next_free_at, $2) + $3 RETURNING next_free_at"
        ))
        .bind(name)
        .bind(now)
        .bind(interval_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(next - interval_ms)
    }

    async fn mark_google_synced(&self, serial: &str, object_id: &str, version: i64) -> Result<()> {
        record_synced(&mut *self.pool.acquire().await?, serial, object_id, version).await
    }

    async fn google_object(&self, serial: &str) -> Result<Option<GoogleObjectRecord>> {
        let sql = "SELECT object_id, synced_version, saved FROM google_objects WHERE serial_number = $1";
        row_by(&self.pool, sql, serial, |r| Ok(from_row!(r, GoogleObjectRecord { object_id, synced_version, saved })))
            .await
    }

    async fn record_google_callback(&self, nonce: &str, object_id: &str, saved: bool) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let sql = "INSERT INTO google_callback_nonces (nonce, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        let fresh = sqlx::query(sql).bind(nonce).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
        if fresh {
            let sql = if saved {
                "UPDATE google_objects SET saved = TRUE, saved_at = $1, updated_at = $1 WHERE object_id = $2"
            } else {
                "UPDATE google_objects SET saved = FALSE, removed_at = $1, updated_at = $1 WHERE object_id = $2"
            };
            sqlx::query(sql).bind(now).bind(object_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(fresh)
    }
}
