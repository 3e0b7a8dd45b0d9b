//! Flyer attribution (see `flyer_stats.rs`): scans counted per flyer, sign-ups and wallet adds
//! counted from the members a flyer brought.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use super::rows::from_row;
use crate::store::flyer_stats::{BUYER_DAYS, FlyerStats, FlyerStatsStore};
use crate::store::now_ms;

/// A UTC day: unique scans count a visitor once per flyer and day.
const DAY_MS: i64 = 86_400_000;

/// A sale `x` of member `m` in their first days (`$2` milliseconds after joining): returns
/// never count, and neither does what they bought before joining.
macro_rules! first_sales {
    () => {
        "x.member_id = m.id AND x.kind = 'sale' AND x.issued_at >= m.created_at \
         AND x.issued_at < m.created_at + $2"
    };
}

#[async_trait]
impl FlyerStatsStore for SqlStore {
    async fn count_flyer_scan(&self, code: &str, visitor: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO flyer_scans (code, scans, last_scan_at) VALUES ($1, 1, $2) \
             ON CONFLICT (code) DO UPDATE SET scans = flyer_scans.scans + 1, last_scan_at = excluded.last_scan_at",
        )
        .bind(code)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO flyer_visitors (code, day, visitor) VALUES ($1, $2, $3) \
             ON CONFLICT (code, day, visitor) DO NOTHING",
        )
        .bind(code)
        .bind(now.div_euclid(DAY_MS))
        .bind(visitor)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn flyer_stats(&self, code: &str) -> Result<FlyerStats> {
        let mut conn = self.pool.acquire().await?;
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
        let row = sqlx::query(concat!(
            "SELECT \
               (SELECT CAST(COALESCE(SUM(scans), 0) AS BIGINT) FROM flyer_scans WHERE code = $1) AS scans, \
               (SELECT COUNT(*) FROM flyer_visitors WHERE code = $1) AS unique_scans, \
               COUNT(m.id) AS signups, \
               COUNT(m.id) FILTER (WHERE EXISTS (SELECT 1 FROM registrations r \
                                                 WHERE r.serial_number = m.pass_serial)) AS apple_added, \
               COUNT(m.id) FILTER (WHERE EXISTS (SELECT 1 FROM google_objects g \
                                                 WHERE g.serial_number = m.pass_serial AND g.saved)) AS google_added, \
               COUNT(m.id) FILTER (WHERE EXISTS (SELECT 1 FROM receipts x WHERE ",
            first_sales!(),
            ")) AS buyers \
             FROM members m WHERE m.source_flyer = $1"
        ))
        .bind(code)
        .bind(BUYER_DAYS * DAY_MS)
        .fetch_one(&mut *conn)
        .await?;
        // Each member's sales in their first days, read from `receipts_member` alone.
        let rows = sqlx::query(concat!(
            "SELECT x.currency, CAST(SUM(x.total) AS BIGINT) AS revenue \
             FROM members m JOIN receipts x ON ",
            first_sales!(),
            " WHERE m.source_flyer = $1 GROUP BY x.currency"
        ))
        .bind(code)
        .bind(BUYER_DAYS * DAY_MS)
        .fetch_all(&mut *conn)
        .await?;
        let revenue = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("currency")?, r.try_get::<i64, _>("revenue")?)))
            .collect::<Result<_>>()?;
        Ok(
            from_row!(row, FlyerStats { scans, unique_scans, signups, apple_added, google_added, buyers; revenue: revenue }),
        )
    }
}
