//! Console figures (see `store/reports.rs`).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use super::rows::from_row;
use crate::store::reports::{DailyFigures, FlyerSignups, OverviewCounts, PassDevice, ReportsStore, StoreFigures};

#[async_trait]
impl ReportsStore for SqlStore {
    async fn store_figures(&self, store_id: Option<&str>, from: i64, to: i64) -> Result<Vec<StoreFigures>> {
        super::store_report::store_figures(self, store_id, from, to).await
    }

    async fn overview_counts(&self, store_id: Option<&str>, since_ms: i64) -> Result<OverviewCounts> {
        let row = sqlx::query(
            "SELECT COUNT(m.id) AS members, \
               COUNT(m.id) FILTER (WHERE m.created_at >= $2) AS new_members, \
               COUNT(m.id) FILTER (WHERE EXISTS (SELECT 1 FROM registrations r \
                                                 WHERE r.serial_number = m.pass_serial)) AS apple_cards, \
               COUNT(m.id) FILTER (WHERE EXISTS (SELECT 1 FROM google_objects g \
                                                 WHERE g.serial_number = m.pass_serial AND g.saved)) AS google_cards, \
               (SELECT COUNT(*) FROM campaigns c WHERE c.status = 'pending_approval' \
                  AND (CAST($1 AS TEXT) IS NULL OR c.scope = 'store:' || $1)) AS pending_approvals \
             FROM members m WHERE (CAST($1 AS TEXT) IS NULL OR m.home_store_id = $1)",
        )
        .bind(store_id)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(from_row!(row, OverviewCounts { members, new_members, apple_cards, google_cards, pending_approvals }))
    }

    async fn daily_figures(&self, store_id: Option<&str>, days: &[(i64, i64)]) -> Result<Vec<DailyFigures>> {
        let bounds: Vec<[i64; 2]> = days.iter().map(|&(start, end)| [start, end]).collect();
        // Each member once, with when their card first reached an iPhone (still registered) and
        // when it was saved to Google; then each day counts the members, cards and sign-ups by then.
        let rows = sqlx::query(concat!(
            "WITH d AS MATERIALIZED (SELECT CAST(",
            jv!(0),
            " AS BIGINT) AS s, CAST(",
            jv!(1),
            " AS BIGINT) AS e FROM ",
            json_rows!("$2"),
            "), h AS MATERIALIZED (SELECT m.created_at, \
               (SELECT MIN(r.created_at) FROM registrations r WHERE r.serial_number = m.pass_serial) AS apple_at, \
               (SELECT g.saved_at FROM google_objects g WHERE g.serial_number = m.pass_serial AND g.saved) \
                 AS google_at \
             FROM members m WHERE (CAST($1 AS TEXT) IS NULL OR m.home_store_id = $1)) \
             SELECT d.s AS day_start, \
               (SELECT COUNT(*) FROM h WHERE h.created_at < d.e) AS members, \
               (SELECT COUNT(*) FROM h WHERE h.created_at >= d.s AND h.created_at < d.e) AS signups, \
               (SELECT COUNT(*) FROM h WHERE h.apple_at < d.e) AS apple_cards, \
               (SELECT COUNT(*) FROM h WHERE h.google_at < d.e) AS google_cards \
             FROM d ORDER BY d.s"
        ))
        .bind(store_id)
        .bind(serde_json::to_string(&bounds)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(from_row!(row, DailyFigures { day_start, members, signups, apple_cards, google_cards })))
            .collect()
    }

    async fn flyer_signups(&self, store_id: Option<&str>, since_ms: i64, limit: i64) -> Result<Vec<FlyerSignups>> {
        let rows = sqlx::query(
            "SELECT f.code, f.label, f.store_id, COUNT(m.id) AS signups \
             FROM members m JOIN flyers f ON f.code = m.source_flyer \
             WHERE m.created_at >= $2 AND (CAST($1 AS TEXT) IS NULL OR m.home_store_id = $1) \
             GROUP BY f.code, f.label, f.store_id ORDER BY signups DESC, f.code LIMIT $3",
        )
        .bind(store_id)
        .bind(since_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(from_row!(row, FlyerSignups { code, label, store_id, signups }))).collect()
    }

    async fn pending_approvals(&self) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM campaigns WHERE status = 'pending_approval'";
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    async fn pass_devices(&self, serial: &str) -> Result<Vec<PassDevice>> {
        let rows = sqlx::query(
            "SELECT created_at AS registered_at FROM registrations WHERE serial_number = $1 ORDER BY created_at DESC",
        )
        .bind(serial)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(from_row!(row, PassDevice { registered_at }))).collect()
    }
}
