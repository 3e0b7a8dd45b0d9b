//! Row mappings, for the rows of this backend (`DbRow`): `from_row!` and one function per
//! record here or in its concern's file.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use serde_json::Value;
use sqlx::Row;

use super::DbRow;
use crate::campaigns::plan::{ClassCoverage, DueRecipient, PreparedBatch, ZoneCounts};
use crate::store::{ApiKeyRecord, CampaignRecord, PassRecord};

/// A record from a row (in a function returning `anyhow::Result`): each field before the `;`
/// read from the column of its name, each after it given as `field: expression`.
macro_rules! from_row {
    ($row:expr, $t:ident { $($f:ident),* $(; $($g:ident: $e:expr),*)? }) => {
        $t { $($f: $row.try_get(stringify!($f))?,)* $($($g: $e,)*)? }
    };
}
pub(crate) use from_row;

/// The row `sql` selects by one key (`$1`), mapped by `map`.
pub(crate) async fn row_by<'c, T>(
    ex: impl sqlx::Executor<'c, Database = super::Db>,
    sql: &'static str,
    key: &str,
    map: fn(&DbRow) -> Result<T>,
) -> Result<Option<T>> {
    sqlx::query(sql).bind(key).fetch_optional(ex).await?.as_ref().map(map).transpose()
}

/// A JSON text column, parsed.
pub(crate) fn json<T: serde::de::DeserializeOwned>(row: &DbRow, column: &str) -> Result<T> {
    serde_json::from_str(&row.try_get::<String, _>(column)?).with_context(|| format!("stored {column} is not JSON"))
}

pub(crate) fn pass_from_row(row: &DbRow) -> Result<PassRecord> {
    Ok(from_row!(row, PassRecord { serial_number, template, authentication_token, share_token, version,
        last_modified, voided, created_at, updated_at; data: json(row, "data")? }))
}

pub(crate) fn key_from_row(row: &DbRow) -> Result<ApiKeyRecord> {
    Ok(from_row!(row, ApiKeyRecord { id, name, prefix, role, store_id, created_at, last_used_at, revoked_at }))
}

/// The columns `campaign_from_row` reads (a macro, so queries stay `concat!`ed literals).
macro_rules! campaign_columns {
    () => {
        "id, name, segment, scope, messages, priority, status, send_at, reject_reason, google_class, \
         google_class_sent_at, created_by, created_at, updated_at, started_at, finished_at, test_card_number, \
         holdout_percent, conversion_days, offer_id, offer_issued_at"
    };
}
pub(crate) use campaign_columns;

pub(crate) fn campaign_from_row(row: &DbRow) -> Result<CampaignRecord> {
    Ok(from_row!(row, CampaignRecord { id, name, segment, scope, priority, status, send_at, reject_reason,
        google_class, google_class_sent_at, created_by, created_at, updated_at, started_at, finished_at,
        test_card_number, holdout_percent, conversion_days, offer_id, offer_issued_at;
        messages: json(row, "messages")? }))
}

/// Reads a batch's due rows (`campaign_id, member_id, serial_number, language, timezone,
/// priority, messages`), keeping one row per pass: a holder due for two campaigns in one batch
/// gets the second in the next batch (one change per pass per batch).
pub(crate) fn due_recipients(rows: &[DbRow]) -> Result<Vec<DueRecipient>> {
    let mut messages: HashMap<String, std::sync::Arc<BTreeMap<String, String>>> = HashMap::new();
    let mut serials = std::collections::HashSet::new();
    let mut due = Vec::with_capacity(rows.len());
    for r in rows {
        let serial_number: String = r.try_get("serial_number")?;
        if !serials.insert(serial_number.clone()) {
            continue;
        }
        let campaign_id: String = r.try_get("campaign_id")?;
        let texts = match messages.get(&campaign_id) {
            Some(m) => m.clone(),
            None => {
                let parsed: BTreeMap<String, String> = serde_json::from_str(&r.try_get::<String, _>("messages")?)?;
                messages.entry(campaign_id.clone()).or_insert(std::sync::Arc::new(parsed)).clone()
            }
        };
        due.push(DueRecipient {
            campaign_id,
            member_id: r.try_get("member_id")?,
            serial_number,
            language: r.try_get("language")?,
            timezone: r.try_get("timezone")?,
            high_priority: r.try_get::<String, _>("priority")? == "high",
            messages: texts,
            by_class: r.try_get("by_class")?,
            on_google: r.try_get("on_google")?,
        });
    }
    Ok(due)
}

/// The holders' new states as a JSON array for one bulk update:
/// `[campaign, member, state, rule, run_at, sent_version]`.
pub(crate) fn updates_json(batch: &PreparedBatch, written: &[PassRecord]) -> String {
    let versions: HashMap<&str, i64> = written.iter().map(|p| (p.serial_number.as_str(), p.version)).collect();
    let rows: Vec<Value> = batch
        .updates
        .iter()
        .map(|(campaign, member, serial, state, rule, run_at)| {
            let version = (*state == "sent").then(|| versions.get(serial.as_str()).copied()).flatten();
            serde_json::json!([campaign, member, state, rule, run_at, version])
        })
        .collect();
    Value::Array(rows).to_string()
}

/// `ZoneCounts` from the rows of either backend's grouped segment count.
pub(crate) fn zone_counts(rows: &[DbRow]) -> Result<Vec<ZoneCounts>> {
    let counts = |r: &DbRow| -> Result<ZoneCounts> {
        Ok(from_row!(
            r,
            ZoneCounts {
                timezone,
                language,
                members,
                passes,
                apple_devices,
                google_objects,
                weekly_capped,
                daily_capped
            }
        ))
    };
    rows.iter().map(counts).collect()
}

/// `ClassCoverage` from the rows of either backend's coverage query.
pub(crate) fn class_coverage(rows: &[DbRow]) -> Result<Vec<ClassCoverage>> {
    let coverage = |r: &DbRow| -> Result<ClassCoverage> {
        Ok(from_row!(r, ClassCoverage { template, timezone, holders, weekly_capped, daily_capped }))
    };
    rows.iter().map(coverage).collect()
}

/// Each member's campaign notifications (7 days, 24 hours) from `member_id, weekly, daily` rows.
pub(crate) fn sent_counts(rows: &[DbRow]) -> Result<HashMap<String, (i64, i64)>> {
    rows.iter().map(|r| Ok((r.try_get("member_id")?, (r.try_get("weekly")?, r.try_get("daily")?)))).collect()
}
