//! Row mappings of the campaign fan-out's queries (see `sql/fanout.rs`).

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use serde_json::Value;

use crate::campaigns::plan::{ClassCoverage, DueRecipient, PreparedBatch, ZoneCounts};
use crate::store::PassRecord;

/// Reads a batch's due rows (`campaign_id, member_id, serial_number, language, timezone,
/// priority, messages`), keeping one row per pass: a holder due for two campaigns in one batch
/// gets the second in the next batch (one change per pass per batch).
pub(crate) fn due_recipients<'r, R: crate::store::rows::Columns<'r>>(rows: &'r [R]) -> Result<Vec<DueRecipient>>
where
    &'static str: sqlx::ColumnIndex<R>,
{
    let mut messages: HashMap<String, std::sync::Arc<BTreeMap<String, String>>> = HashMap::new();
    let mut serials = std::collections::HashSet::new();
    let mut due = Vec::with_capacity(rows.len());
    for r in rows {
        let serial_number = r.text("serial_number")?;
        if !serials.insert(serial_number.clone()) {
            continue;
        }
        let campaign_id = r.text("campaign_id")?;
        let texts = match messages.get(&campaign_id) {
            Some(m) => m.clone(),
            None => {
                let parsed: BTreeMap<String, String> = serde_json::from_str(&r.text("messages")?)?;
                messages.entry(campaign_id.clone()).or_insert(std::sync::Arc::new(parsed)).clone()
            }
        };
        due.push(DueRecipient {
            campaign_id,
            member_id: r.text("member_id")?,
            serial_number,
            language: r.opt_text("language")?,
            timezone: r.opt_text("timezone")?,
            high_priority: r.text("priority")? == "high",
            messages: texts,
            by_class: r.flag("by_class")?,
            on_google: r.flag("on_google")?,
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
pub(crate) fn zone_counts<'r, R: crate::store::rows::Columns<'r>>(rows: &'r [R]) -> Result<Vec<ZoneCounts>>
where
    &'static str: sqlx::ColumnIndex<R>,
{
    rows.iter()
        .map(|r| {
            Ok(ZoneCounts {
                timezone: r.opt_text("timezone")?,
                members: r.int("members")?,
                passes: r.int("passes")?,
                apple_devices: r.int("apple_devices")?,
                google_objects: r.int("google_objects")?,
                weekly_capped: r.int("weekly_capped")?,
                daily_capped: r.int("daily_capped")?,
            })
        })
        .collect()
}

/// `ClassCoverage` from the rows of either backend's coverage query.
pub(crate) fn class_coverage<'r, R: crate::store::rows::Columns<'r>>(rows: &'r [R]) -> Result<Vec<ClassCoverage>>
where
    &'static str: sqlx::ColumnIndex<R>,
{
    rows.iter()
        .map(|r| {
            Ok(ClassCoverage {
                template: r.text("template")?,
                timezone: r.opt_text("timezone")?,
                holders: r.int("holders")?,
                weekly_capped: r.int("weekly_capped")?,
                daily_capped: r.int("daily_capped")?,
            })
        })
        .collect()
}

/// Each member's campaign notifications (7 days, 24 hours) from `member_id, weekly, daily` rows.
pub(crate) fn sent_counts<'r, R: crate::store::rows::Columns<'r>>(rows: &'r [R]) -> Result<HashMap<String, (i64, i64)>>
where
    &'static str: sqlx::ColumnIndex<R>,
{
    rows.iter().map(|r| Ok((r.text("member_id")?, (r.int("weekly")?, r.int("daily")?)))).collect()
}
