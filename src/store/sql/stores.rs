//! Stores and flyers (see `stores.rs`).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::{DbRow, SqlStore};
use crate::error::Error;
use crate::store::now_ms;
use crate::store::stores::{FlyerRecord, NewFlyer, NewStore, StoreChange, StoreRecord, StoresStore};

/// The columns `store_from_row` reads.
macro_rules! store_columns {
    () => {
        "id, name, address, latitude, longitude, timezone, created_at, updated_at"
    };
}

fn store_from_row(row: &DbRow) -> Result<StoreRecord> {
    Ok(StoreRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        address: row.try_get("address")?,
        latitude: row.try_get("latitude")?,
        longitude: row.try_get("longitude")?,
        timezone: row.try_get("timezone")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn flyer_from_row(row: &DbRow) -> Result<FlyerRecord> {
    Ok(FlyerRecord {
        code: row.try_get("code")?,
        store_id: row.try_get("store_id")?,
        label: row.try_get("label")?,
        template: row.try_get("template")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl StoresStore for SqlStore {
    async fn insert_store(&self, s: NewStore) -> Result<StoreRecord, Error> {
        let now = now_ms();
        let result = sqlx::query(concat!(
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
        .await;
        match result {
            Ok(row) => Ok(store_from_row(&row)?),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(Error::conflict(format!("a store with id {:?} already exists", s.id), "id"))
            }
            Err(e) => Err(anyhow::Error::from(e).into()),
        }
    }

    async fn store(&self, id: &str) -> Result<Option<StoreRecord>> {
        let row = sqlx::query(concat!("SELECT ", store_columns!(), " FROM stores WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(store_from_row).transpose()
    }

    async fn list_stores(&self, after_id: Option<&str>, limit: i64) -> Result<Vec<StoreRecord>> {
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

    async fn all_stores(&self) -> Result<Vec<StoreRecord>> {
        let rows =
            sqlx::query(concat!("SELECT ", store_columns!(), " FROM stores ORDER BY id")).fetch_all(&self.pool).await?;
        rows.iter().map(store_from_row).collect()
    }

    async fn update_store(&self, id: &str, c: StoreChange) -> Result<Option<StoreRecord>> {
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

    async fn insert_flyer(&self, f: NewFlyer) -> Result<FlyerRecord, Error> {
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
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(Error::conflict(format!("a flyer with code {:?} already exists", f.code), "code"))
            }
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(Error::unprocessable(format!("no store has the id {:?}", f.store_id), "store_id"))
            }
            Err(e) => Err(anyhow::Error::from(e).into()),
        }
    }

    async fn flyer(&self, code: &str) -> Result<Option<FlyerRecord>> {
        let row = sqlx::query("SELECT code, store_id, label, template, created_at FROM flyers WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(flyer_from_row).transpose()
    }
}
