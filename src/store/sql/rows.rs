//! Row mappings: one function per record, for the rows of this backend (`DbRow`).

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use serde_json::Value;
use sqlx::Row;

use super::DbRow;
use crate::campaigns::plan::{ClassCoverage, DueRecipient, PreparedBatch, ZoneCounts};
use crate::store::{ApiKeyRecord, CampaignEvent, CampaignRecord, PassRecord};

pub(crate) fn pass_from_row(row: &DbRow) -> Result<PassRecord> {
    Ok(PassRecord {
        serial_number: row.try_get("serial_number")?,
        template: row.try_get("template")?,
        data: serde_json::from_str(&row.try_get::<String, _>("data")?).context("stored pass data is not JSON")?,
        authentication_token: row.try_get("authentication_token")?,
        share_token: row.try_get("share_token")?,
        version: row.try_get("version")?,
        last_modified: row.try_get("last_modified")?,
        voided: row.try_get("voided")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn key_from_row(row: &DbRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scope: row.try_get("scope")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
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

pub(crate) fn campaign_from_row(row: &DbRow) -> Result<CampaignRecord> {
    let messages: String = row.try_get("messages")?;
    Ok(CampaignRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        segment: row.try_get("segment")?,
        scope: row.try_get("scope")?,
        messages: serde_json::from_str(&messages).context("campaigns.messages is not a JSON object of texts")?,
        priority: row.try_get("priority")?,
        status: row.try_get("status")?,
        send_at: row.try_get("send_at")?,
        reject_reason: row.try_get("reject_reason")?,
        google_class: row.try_get("google_class")?,
        google_class_sent_at: row.try_get("google_class_sent_at")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

pub(crate) fn campaign_event_from_row(row: &DbRow) -> Result<CampaignEvent> {
    let detail: String = row.try_get("detail")?;
    Ok(CampaignEvent {
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        detail: serde_json::from_str(&detail).context("campaign_events.detail is not JSON")?,
    })
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
    rows.iter()
        .map(|r| {
            Ok(ZoneCounts {
                timezone: r.try_get("timezone")?,
                members: r.try_get("members")?,
                passes: r.try_get("passes")?,
                apple_devices: r.try_get("apple_devices")?,
                google_objects: r.try_get("google_objects")?,
                weekly_capped: r.try_get("weekly_capped")?,
                daily_capped: r.try_get("daily_capped")?,
            })
        })
        .collect()
}

/// `ClassCoverage` from the rows of either backend's coverage query.
pub(crate) fn class_coverage(rows: &[DbRow]) -> Result<Vec<ClassCoverage>> {
    rows.iter()
        .map(|r| {
            Ok(ClassCoverage {
                template: r.try_get("template")?,
                timezone: r.try_get("timezone")?,
                holders: r.try_get("holders")?,
                weekly_capped: r.try_get("weekly_capped")?,
                daily_capped: r.try_get("daily_capped")?,
            })
        })
        .collect()
}

/// Each member's campaign notifications (7 days, 24 hours) from `member_id, weekly, daily` rows.
pub(crate) fn sent_counts(rows: &[DbRow]) -> Result<HashMap<String, (i64, i64)>> {
    rows.iter().map(|r| Ok((r.try_get("member_id")?, (r.try_get("weekly")?, r.try_get("daily")?)))).collect()
}
