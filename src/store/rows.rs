//! Row mapping shared by both backends: the columns read the same way on SQLite and
//! PostgreSQL (pass data arrives as JSON text from both), so one function per record.

use anyhow::{Context, Result};
use sqlx::{ColumnIndex, Database, Decode, Row, Type};

use super::{ApiKeyRecord, PassRecord};

/// Columns of types both backends decode: text, 64-bit integers, booleans, and their options.
pub(super) trait Columns<'r>: Row
where
    &'static str: ColumnIndex<Self>,
{
    fn text(&'r self, name: &'static str) -> Result<String>;
    fn int(&'r self, name: &'static str) -> Result<i64>;
    fn opt_int(&'r self, name: &'static str) -> Result<Option<i64>>;
    fn flag(&'r self, name: &'static str) -> Result<bool>;
}

impl<'r, R: Row> Columns<'r> for R
where
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    R::Database: Database,
{
    fn text(&'r self, name: &'static str) -> Result<String> {
        Ok(self.try_get(name)?)
    }
    fn int(&'r self, name: &'static str) -> Result<i64> {
        Ok(self.try_get(name)?)
    }
    fn opt_int(&'r self, name: &'static str) -> Result<Option<i64>> {
        Ok(self.try_get(name)?)
    }
    fn flag(&'r self, name: &'static str) -> Result<bool> {
        Ok(self.try_get(name)?)
    }
}

pub(super) fn pass_from_row<'r, R: Columns<'r>>(row: &'r R) -> Result<PassRecord>
where
    &'static str: ColumnIndex<R>,
{
    Ok(PassRecord {
        serial_number: row.text("serial_number")?,
        template: row.text("template")?,
        data: serde_json::from_str(&row.text("data")?).context("stored pass data is not JSON")?,
        authentication_token: row.text("authentication_token")?,
        share_token: row.text("share_token")?,
        version: row.int("version")?,
        last_modified: row.int("last_modified")?,
        voided: row.flag("voided")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(super) fn key_from_row<'r, R: Columns<'r>>(row: &'r R) -> Result<ApiKeyRecord>
where
    &'static str: ColumnIndex<R>,
{
    Ok(ApiKeyRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        created_at: row.int("created_at")?,
        last_used_at: row.opt_int("last_used_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}
