//! Receipts (see `receipts.rs`): the receipt rows and their lines, looked up by id, key, number
//! or member, and linked to a member once their contact is verified (earning their points in
//! the same transaction).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{from_row, json, row_by};
use super::{DbRow, SqlStore};
use crate::store::receipts::{ReceiptLine, ReceiptPoints, ReceiptRecord, ReceiptsStore};
use crate::store::{NewPass, PassRecord, Redeem, RedemptionRecord, StoreError, StoreResult};

/// The columns `receipt_from_row` reads (`body` is JSON text on both backends).
macro_rules! receipt_columns {
    () => {
        "id, receipt_number, store_id, issued_at, body, member_id, idempotency_key, email_hmac, phone_hmac, \
         pass_serial, created_at, kind, total, currency"
    };
}

fn receipt_from_row(row: &DbRow) -> Result<ReceiptRecord> {
    Ok(from_row!(row, ReceiptRecord { id, receipt_number, store_id, issued_at, member_id, idempotency_key,
        email_hmac, phone_hmac, pass_serial, created_at, kind, total, currency; body: json(row, "body")? }))
}

#[async_trait]
impl ReceiptsStore for SqlStore {
    async fn insert_receipt(
        &self,
        r: &ReceiptRecord,
        lines: &[ReceiptLine],
        pass: NewPass,
        points: Option<ReceiptPoints>,
        offers: Vec<Redeem>,
    ) -> StoreResult<(ReceiptRecord, PassRecord, Vec<(RedemptionRecord, Option<PassRecord>)>)> {
        let mut tx = self.write_tx().await?;
        let pass = self.write_new_pass(&mut tx, &pass).await?;
        sqlx::query(concat!(
            "INSERT INTO receipts (",
            receipt_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&r.id)
        .bind(&r.receipt_number)
        .bind(&r.store_id)
        .bind(r.issued_at)
        .bind(r.body.to_string())
        .bind(&r.member_id)
        .bind(&r.idempotency_key)
        .bind(&r.email_hmac)
        .bind(&r.phone_hmac)
        .bind(&r.pass_serial)
        .bind(r.created_at)
        .bind(&r.kind)
        .bind(r.total)
        .bind(&r.currency)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "receipt_number", &r.receipt_number))?;
        for (i, line) in lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO receipt_lines (receipt_id, line_no, sku, quantity, amount) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&r.id)
            .bind(i as i32 + 1)
            .bind(&line.sku)
            .bind(line.quantity)
            .bind(line.amount)
            .execute(&mut *tx)
            .await?;
        }
        if let (Some(member_id), Some(points)) = (&r.member_id, points) {
            self.credit_receipts(&mut tx, member_id, std::slice::from_ref(r), points).await?;
        }
        let mut redeemed = Vec::with_capacity(offers.len());
        for redeem in offers {
            redeemed.push(self.write_redemption(&mut tx, redeem).await?);
        }
        tx.commit().await?;
        Ok((r.clone(), pass, redeemed))
    }

    async fn receipt(&self, id: &str) -> Result<Option<ReceiptRecord>> {
        let sql = concat!("SELECT ", receipt_columns!(), " FROM receipts WHERE id = $1");
        row_by(&self.pool, sql, id, receipt_from_row).await
    }

    async fn receipt_by_idempotency_key(&self, key: &str) -> Result<Option<ReceiptRecord>> {
        let sql = concat!("SELECT ", receipt_columns!(), " FROM receipts WHERE idempotency_key = $1");
        row_by(&self.pool, sql, key, receipt_from_row).await
    }

    async fn receipts_by_number(&self, number: &str) -> Result<Vec<ReceiptRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            receipt_columns!(),
            " FROM receipts WHERE receipt_number = $1 ORDER BY created_at, id"
        ))
        .bind(number)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(receipt_from_row).collect()
    }

    async fn member_receipts(&self, member_id: &str, store_id: Option<&str>, limit: i64) -> Result<Vec<ReceiptRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            receipt_columns!(),
            " FROM receipts WHERE member_id = $1 AND (CAST($2 AS TEXT) IS NULL OR store_id = $2) \
             ORDER BY issued_at DESC, created_at DESC, id DESC LIMIT $3"
        ))
        .bind(member_id)
        .bind(store_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(receipt_from_row).collect()
    }

    async fn link_receipts(
        &self,
        member_id: &str,
        email_hmac: Option<&str>,
        phone_hmac: Option<&str>,
        points: Option<ReceiptPoints>,
    ) -> StoreResult<Vec<ReceiptRecord>> {
        if email_hmac.is_none() && phone_hmac.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(concat!(
            "UPDATE receipts SET member_id = $1, email_hmac = NULL, phone_hmac = NULL \
             WHERE member_id IS NULL AND (email_hmac = $2 OR phone_hmac = $3) RETURNING ",
            receipt_columns!()
        ))
        .bind(member_id)
        .bind(email_hmac)
        .bind(phone_hmac)
        .fetch_all(&mut *tx)
        .await?;
        let linked = rows.iter().map(receipt_from_row).collect::<Result<Vec<_>>>()?;
        if let Some(points) = points {
            self.credit_receipts(&mut tx, member_id, &linked, points).await?;
        }
        tx.commit().await?;
        Ok(linked)
    }

    async fn move_receipts(&self, from: &str, to: &str) -> Result<Vec<ReceiptRecord>> {
        let rows = sqlx::query(concat!(
            "UPDATE receipts SET member_id = $2 WHERE member_id = $1 RETURNING ",
            receipt_columns!()
        ))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(receipt_from_row).collect()
    }
}
