//! Template designs in SQL (see `store/designs.rs`): the design last published per template,
//! and the batches of a publish that give every pass of a template a new version and a push.

use anyhow::Result;
use async_trait::async_trait;

use super::jobs::enqueue_pushes;
use super::{SqlStore, take_versions};
use crate::store::designs::DesignsStore;
use crate::store::{next_last_modified, now_ms};

#[async_trait]
impl DesignsStore for SqlStore {
    async fn bump_template_passes(
        &self,
        template: &str,
        after_serial: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>> {
        let after = after_serial.unwrap_or("");
        let mut tx = self.write_tx().await?;
        // The passes' row locks before the version counter's, as update_pass takes them (no deadlock).
        let serials: Vec<String> = sqlx::query_scalar(concat!(
            "SELECT serial_number FROM passes WHERE template = $1 AND serial_number > $2 \
             ORDER BY serial_number LIMIT $3",
            lock_rows!()
        ))
        .bind(template)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = serials.last() else { return Ok(serials) };
        let version = take_versions(&mut tx, 1).await?;
        let now = now_ms();
        sqlx::query(concat!(
            "UPDATE passes SET version = $1, last_modified = ",
            greatest!(),
            "($2, last_modified + 1), updated_at = $3 \
             WHERE template = $4 AND serial_number > $5 AND serial_number <= $6"
        ))
        .bind(version)
        .bind(next_last_modified(None))
        .bind(now)
        .bind(template)
        .bind(after)
        .bind(last)
        .execute(&mut *tx)
        .await?;
        let pushes: Vec<(&str, Option<&str>)> = serials.iter().map(|s| (s.as_str(), None)).collect();
        enqueue_pushes(&mut tx, &pushes, now, 0).await?;
        tx.commit().await?;
        Ok(serials)
    }

    async fn template_reach(&self, template: &str) -> Result<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM passes WHERE template = $1), \
                    (SELECT COUNT(DISTINCT r.device_library_id) FROM registrations r \
                     JOIN passes p ON p.serial_number = r.serial_number WHERE p.template = $1)",
        )
        .bind(template)
        .fetch_one(&self.pool)
        .await?)
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
