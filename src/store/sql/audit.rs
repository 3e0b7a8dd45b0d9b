//! The audit log (see `store/audit.rs`): appended in the caller's transaction when there is
//! one (campaign transitions), alone otherwise.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{from_row, json};
use super::{Conn, DbRow, SqlStore};
use crate::store::audit::{AuditEntry, AuditQuery, AuditRecord, AuditStore};
use crate::store::now_ms;

/// Appends `entry` on `conn` (inside the caller's transaction, if it has one).
pub(crate) async fn add(conn: &mut Conn, entry: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, role, action, object_kind, object_id, store_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now_ms())
    .bind(&entry.actor)
    .bind(&entry.role)
    .bind(&entry.action)
    .bind(&entry.object_kind)
    .bind(&entry.object_id)
    .bind(&entry.store_id)
    .bind(entry.detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

fn record_from_row(row: &DbRow) -> Result<AuditRecord> {
    let entry = from_row!(row, AuditEntry { actor, role, action, object_kind, object_id, store_id;
        detail: json(row, "detail")? });
    Ok(from_row!(row, AuditRecord { id, at; entry: entry }))
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn insert_audit(&self, entry: &AuditEntry) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        add(&mut conn, entry).await
    }

    async fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, role, action, object_kind, object_id, store_id, detail FROM audit_log \
             WHERE (CAST($1 AS TEXT) IS NULL OR object_kind = $1) AND (CAST($2 AS TEXT) IS NULL OR object_id = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR store_id = $3) AND (CAST($4 AS BIGINT) IS NULL OR id < $4) \
             AND (CAST($6 AS TEXT) IS NULL OR action = $6) ORDER BY id DESC LIMIT $5",
        )
        .bind(&q.object_kind)
        .bind(&q.object_id)
        .bind(&q.store_id)
        .bind(q.before_id)
        .bind(q.limit)
        .bind(&q.action)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_from_row).collect()
    }
}
