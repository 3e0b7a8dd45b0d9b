//! Row mapping shared by both backends: the columns read the same way on SQLite and
//! PostgreSQL (pass data arrives as JSON text from both), so one function per record.

use anyhow::{Context, Result};
use sqlx::{ColumnIndex, Database, Decode, Row, Type};

use super::{ApiKeyRecord, CampaignEvent, CampaignRecord, PassRecord};

/// Columns of types both backends decode: text, 64-bit integers, booleans, and their options.
pub(crate) trait Columns<'r>: Row
where
    &'static str: ColumnIndex<Self>,
{
    fn text(&'r self, name: &'static str) -> Result<String>;
    fn int(&'r self, name: &'static str) -> Result<i64>;
    fn opt_int(&'r self, name: &'static str) -> Result<Option<i64>>;
    fn opt_text(&'r self, name: &'static str) -> Result<Option<String>>;
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
    fn opt_text(&'r self, name: &'static str) -> Result<Option<String>> {
        Ok(self.try_get(name)?)
    }
    fn flag(&'r self, name: &'static str) -> Result<bool> {
        Ok(self.try_get(name)?)
    }
}

pub(crate) fn pass_from_row<'r, R: Columns<'r>>(row: &'r R) -> Result<PassRecord>
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

pub(crate) fn key_from_row<'r, R: Columns<'r>>(row: &'r R) -> Result<ApiKeyRecord>
where
    &'static str: ColumnIndex<R>,
{
    Ok(ApiKeyRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        scope: row.text("scope")?,
        created_at: row.int("created_at")?,
        last_used_at: row.opt_int("last_used_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

/// The columns `campaign_from_row` reads (a macro, so queries stay `concat!`ed literals).
macro_rules! campaign_columns {
    () => {
        "id, name, segment, scope, messages, priority, status, send_at, reject_reason, google_class, \
         google_class_sent_at, created_by, created_at, updated_at, started_at, finished_at"
    };
}
pub(crate) use campaign_columns;

pub(crate) fn campaign_from_row<'r, R: Columns<'r>>(row: &'r R) -> Result<CampaignRecord>
where
    &'static str: ColumnIndex<R>,
{
    let messages = row.text("messages")?;
    Ok(CampaignRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        segment: row.text("segment")?,
        scope: row.text("scope")?,
        messages: serde_json::from_str(&messages).context("campaigns.messages is not a JSON object of texts")?,
        priority: row.text("priority")?,
        status: row.text("status")?,
        send_at: row.opt_int("send_at")?,
        reject_reason: row.opt_text("reject_reason")?,
        google_class: row.opt_text("google_class")?,
        google_class_sent_at: row.opt_int("google_class_sent_at")?,
        created_by: row.text("created_by")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        started_at: row.opt_int("started_at")?,
        finished_at: row.opt_int("finished_at")?,
    })
}

pub(crate) fn campaign_event_from_row<'r, R: Columns<'r>>(row: &'r R) -> Result<CampaignEvent>
where
    &'static str: ColumnIndex<R>,
{
    let detail = row.text("detail")?;
    Ok(CampaignEvent {
        at: row.int("at")?,
        actor: row.text("actor")?,
        action: row.text("action")?,
        detail: serde_json::from_str(&detail).context("campaign_events.detail is not JSON")?,
    })
}
