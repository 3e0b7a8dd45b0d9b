//! Console figures (see `store/reports.rs`).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use super::rows::from_row;
use crate::store::reports::{OverviewCounts, PassDevice, ReportsStore};

#[async_trait]
impl ReportsStore for SqlStore {
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
