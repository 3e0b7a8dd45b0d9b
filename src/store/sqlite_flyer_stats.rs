//! Flyer attribution on SQLite (see `flyer_stats.rs`).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::flyer_stats::{FlyerStats, FlyerStatsStore};
use super::now_ms;
use super::sqlite::SqliteStore;

#[async_trait]
impl FlyerStatsStore for SqliteStore {
    async fn count_flyer_scan(&self, code: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO flyer_scans (code, scans, last_scan_at) VALUES (?1, 1, ?2) \
             ON CONFLICT (code) DO UPDATE SET scans = scans + 1, last_scan_at = excluded.last_scan_at",
        )
        .bind(code)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn flyer_stats(&self, code: &str) -> Result<FlyerStats> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COALESCE(SUM(scans), 0) FROM flyer_scans WHERE code = ?1) AS scans, \
               COUNT(m.id) AS signups, \
               COALESCE(SUM(EXISTS (SELECT 1 FROM registrations r WHERE r.serial_number = m.pass_serial)), 0) \
                 AS apple_added, \
               COALESCE(SUM(EXISTS (SELECT 1 FROM google_objects g \
                                    WHERE g.serial_number = m.pass_serial AND g.saved <> 0)), 0) AS google_added \
             FROM members m WHERE m.source_flyer = ?1",
        )
        .bind(code)
        .fetch_one(&self.pool)
        .await?;
        Ok(FlyerStats {
            scans: row.try_get("scans")?,
            signups: row.try_get("signups")?,
            apple_added: row.try_get("apple_added")?,
            google_added: row.try_get("google_added")?,
        })
    }
}
