//! Shops (table `stores`) and flyers (see `store/shops.rs`).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{from_row, row_by};
use super::{DbRow, SqlStore};
use crate::store::shops::{FlyerRecord, NewFlyer, NewShop, ShopChange, ShopRecord, ShopsStore};
use crate::store::{StoreError, StoreResult, now_ms};

/// The columns `store_from_row` reads.
macro_rules! store_columns {
    () => {
        "id, name, address, latitude, longitude, timezone, created_at, updated_at"
    };
}

fn store_from_row(row: &DbRow) -> Result<ShopRecord> {
    Ok(from_row!(row, ShopRecord { id, name, address, latitude, longitude, timezone, created_at, updated_at }))
}

fn flyer_from_row(row: &DbRow) -> Result<FlyerRecord> {
    Ok(from_row!(row, FlyerRecord { code, store_id, label, template, created_at }))
}

#[async_trait]
impl ShopsStore for SqlStore {
    async fn insert_shop(&self, s: NewShop) -> StoreResult<ShopRecord> {
        let now = now_ms();
        let row = sqlx::query(concat!(
            "INSERT INTO stores (id, name, address, latitude, longitude, timezone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
            store_columns!()
        ))
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.address)
        .bind(s.latitude)
        .bind(s.longitude)
        .bind(&s.timezone)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::unique(e, "id", &s.id))?;
        Ok(store_from_row(&row)?)
    }

    async fn shop(&self, id: &str) -> Result<Option<ShopRecord>> {
        row_by(&self.pool, concat!("SELECT ", store_columns!(), " FROM stores WHERE id = $1"), id, store_from_row).await
    }

    async fn list_shops(&self, after_id: Option<&str>, limit: i64) -> Result<Vec<ShopRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            store_columns!(),
            " FROM stores WHERE (CAST($1 AS TEXT) IS NULL OR id > $1) ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(store_from_row).collect()
    }

    async fn all_shops(&self) -> Result<Vec<ShopRecord>> {
        self.list_shops(None, i64::MAX).await
    }

    async fn update_shop(&self, id: &str, c: ShopChange) -> Result<Option<ShopRecord>> {
        let row = sqlx::query(concat!(
            "UPDATE stores SET name = COALESCE($2, name), \
             address = CASE WHEN $3 THEN $4 ELSE address END, \
             latitude = COALESCE($5, latitude), longitude = COALESCE($6, longitude), \
             timezone = COALESCE($7, timezone), updated_at = $8 WHERE id = $1 RETURNING ",
            store_columns!()
        ))
        .bind(id)
        .bind(&c.name)
        .bind(c.address.is_some())
        .bind(c.address.flatten())
        .bind(c.latitude)
        .bind(c.longitude)
        .bind(&c.timezone)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(store_from_row).transpose()
    }

    async fn insert_flyer(&self, f: NewFlyer) -> StoreResult<FlyerRecord> {
        let result = sqlx::query(
            "INSERT INTO flyers (code, store_id, label, template, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING code, store_id, label, template, created_at",
        )
        .bind(&f.code)
        .bind(&f.store_id)
        .bind(&f.label)
        .bind(&f.template)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(row) => Ok(flyer_from_row(&row)?),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(StoreError::MissingReference { field: "store_id", value: f.store_id })
            }
            Err(e) => Err(StoreError::unique(e, "code", &f.code)),
        }
    }

    async fn flyer(&self, code: &str) -> Result<Option<FlyerRecord>> {
        let sql = "SELECT code, store_id, label, template, created_at FROM flyers WHERE code = $1";
        row_by(&self.pool, sql, code, flyer_from_row).await
    }

    async fn list_flyers(&self, store_id: Option<&str>, limit: i64) -> Result<Vec<FlyerRecord>> {
        let rows = sqlx::query(
            "SELECT code, store_id, label, template, created_at FROM flyers \
             WHERE (CAST($1 AS TEXT) IS NULL OR store_id = $1) ORDER BY created_at DESC, code LIMIT $2",
        )
        .bind(store_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(flyer_from_row).collect()
    }

    async fn members_per_shop(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT home_store_id, COUNT(*) FROM members WHERE home_store_id IS NOT NULL GROUP BY home_store_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
