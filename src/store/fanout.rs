//! Campaigns' audience and fan-out: segment counts, the start of a campaign (a row per
//! targeted holder), the batches that turn those rows into pass changes under the pressure
//! rules, and the shared logic both backends apply to a batch.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use async_trait::async_trait;
use serde_json::Value;

use super::CampaignRecord;
use crate::campaigns::pressure::Pressure;
use crate::campaigns::segment::Segment;

/// Live counts of the holders a segment picks (marketing consent required).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentCounts {
    pub members: i64,
    /// Members with a live (not voided) pass: the holders a campaign would target.
    pub passes: i64,
    /// Apple devices holding those passes.
    pub apple_devices: i64,
    /// Those passes saved in Google Wallet.
    pub google_objects: i64,
    /// Holders a pressure rule would hold back now (`weekly_cap`, `daily_cap`, `quiet_hours`).
    pub held_back: BTreeMap<String, i64>,
}

/// What one fan-out batch needs to know.
#[derive(Debug, Clone)]
pub struct FanoutPlan {
    pub batch_size: i64,
    /// Template id -> its offer field (the message's place on the Apple pass).
    pub offer_fields: HashMap<String, String>,
    pub pressure: Pressure,
}

/// A loyalty holder for `seed_holders`: a member, their pass, and maybe one Apple device.
#[derive(Debug, Clone)]
pub struct HolderSeed {
    pub member_id: String,
    pub card_number: String,
    pub first_name: String,
    pub language: Option<String>,
    pub home_store_id: Option<String>,
    pub consent_marketing: bool,
    pub points: i64,
    pub tier: String,
    pub attributes: Value,
    pub pass: super::NewPass,
    /// (device library id, push token).
    pub device: Option<(String, String)>,
}

#[async_trait]
pub trait FanoutStore: Send + Sync {
    /// Counts what `segment` picks now (limited to the members of `store` when given).
    async fn segment_counts(
        &self,
        segment: &Segment,
        store: Option<&str>,
        pressure: &Pressure,
    ) -> Result<SegmentCounts>;
    /// Starts one approved campaign that is due: writes a row per targeted holder and moves it
    /// to `sending`, in one transaction (only one process gets it). Returns it and its count.
    async fn start_due_campaign(&self, pressure: &Pressure) -> Result<Option<(CampaignRecord, i64)>>;
    /// Handles up to `batch_size` due holders of sending campaigns, each becoming a pass
    /// change (with its pushes and Google message) or held back, in one transaction.
    /// Returns how many were handled.
    async fn fan_out_batch(&self, plan: &FanoutPlan) -> Result<usize>;
    /// Marks `sent` the sending campaigns with no holder left to handle; returns their ids.
    async fn finish_campaigns(&self) -> Result<Vec<String>>;
    /// Records that a device fetched the pass after a campaign changed it.
    async fn record_pass_fetch(&self, serial: &str) -> Result<()>;
    /// Bulk load of holders in one transaction (benchmarks and load tests; the API makes
    /// members one by one): each at version tag 0, without pushes or Google syncs.
    async fn seed_holders(&self, holders: &[HolderSeed]) -> Result<()>;
}

/// A holder due in a fan-out batch, with what its campaign says.
#[derive(Debug, Clone)]
pub(super) struct DueRecipient {
    pub campaign_id: String,
    pub member_id: String,
    pub serial_number: String,
    pub language: Option<String>,
    pub timezone: Option<String>,
    pub high_priority: bool,
    pub messages: std::sync::Arc<BTreeMap<String, String>>,
    /// Google gets one class message for the whole campaign: no message per object.
    pub by_class: bool,
    /// The pass is saved in Google Wallet (only then does a Google message reach anyone).
    pub on_google: bool,
}

/// What the fan-out does with one holder.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    /// Change the pass, showing this text; and add it as a Google message unless the flag says
    /// not to (the campaign's class message carries it, or the pass is not saved on Google).
    Send(String, bool),
    Hold(&'static str),
    Delay(i64),
}

/// A holder whose pass is gone or voided since the campaign started.
pub(super) const NO_PASS: &str = "no_pass";

/// The pass's template has no offer field to carry the message.
pub(super) const NO_OFFER_FIELD: &str = "no_offer_field";

/// Decides every holder of a batch. `sent` holds each member's campaign notifications in the
/// last 7 days and 24 hours; it grows as the batch sends, so one member due for two campaigns
/// in the same batch is judged fairly.
pub(super) fn plan_batch(
    due: &[DueRecipient],
    mut sent: HashMap<String, (i64, i64)>,
    pressure: &Pressure,
    now: i64,
) -> Vec<Step> {
    use crate::campaigns::pressure::Decision;
    let mut zones = HashMap::new();
    due.iter()
        .map(|r| {
            let tz = pressure.timezone(r.timezone.as_deref(), &mut zones);
            let (weekly, daily) = sent.get(&r.member_id).copied().unwrap_or_default();
            match pressure.decide(now, &tz, weekly, daily, r.high_priority) {
                Decision::Send => {
                    sent.insert(r.member_id.clone(), (weekly + 1, daily + 1));
                    let text = crate::campaigns::pick_message(&r.messages, r.language.as_deref()).to_owned();
                    Step::Send(text, r.by_class || !r.on_google)
                }
                Decision::Hold(rule) => Step::Hold(rule),
                Decision::Delay(until) => Step::Delay(until),
            }
        })
        .collect()
}

/// The pass change a campaign makes: its text in the template's offer field (whose
/// changeMessage shows it on the lock screen) and as the Google message.
pub(super) fn campaign_change(
    pass: &super::PassRecord,
    plan: &FanoutPlan,
    text: String,
    campaign_id: &str,
    no_google_message: bool,
) -> Result<super::PassChange, &'static str> {
    if pass.voided {
        return Err(NO_PASS);
    }
    let field = plan.offer_fields.get(&pass.template).ok_or(NO_OFFER_FIELD)?;
    let mut data = pass.data.clone();
    let Some(object) = data.as_object_mut() else { return Err(NO_PASS) };
    object.insert(field.clone(), Value::String(text.clone()));
    let message = (!no_google_message).then_some(text);
    Ok(super::PassChange { data, voided: false, message, campaign: Some(campaign_id.to_owned()) })
}

/// Segment counts for the holders of one timezone (`None`: no home store).
#[derive(Debug, Clone)]
pub(super) struct ZoneCounts {
    pub timezone: Option<String>,
    pub members: i64,
    pub passes: i64,
    pub apple_devices: i64,
    pub google_objects: i64,
    pub weekly_capped: i64,
    pub daily_capped: i64,
}

/// Adds up the timezones; holders of a timezone in its quiet hours now count as held back.
pub(super) fn sum_zones(zones: Vec<ZoneCounts>, pressure: &Pressure, now: i64) -> SegmentCounts {
    use crate::campaigns::pressure::{DAILY_CAP, QUIET_HOURS, WEEKLY_CAP};
    let mut out = SegmentCounts::default();
    let mut cache = HashMap::new();
    let (mut weekly, mut daily, mut quiet) = (0, 0, 0);
    for z in zones {
        out.members += z.members;
        out.passes += z.passes;
        out.apple_devices += z.apple_devices;
        out.google_objects += z.google_objects;
        weekly += z.weekly_capped;
        daily += z.daily_capped;
        let tz = pressure.timezone(z.timezone.as_deref(), &mut cache);
        if pressure.quiet_until(now, &tz).is_some() {
            quiet += z.passes;
        }
    }
    out.held_back = [(WEEKLY_CAP, weekly), (DAILY_CAP, daily), (QUIET_HOURS, quiet)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    out
}

/// Reads a batch's due rows (`campaign_id, member_id, serial_number, language, timezone,
/// priority, messages`), keeping one row per pass: a holder due for two campaigns in one batch
/// gets the second in the next batch (one change per pass per batch).
pub(super) fn due_recipients<'r, R: super::rows::Columns<'r>>(rows: &'r [R]) -> Result<Vec<DueRecipient>>
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

/// A holder's new row state: (campaign, member, serial, state, held rule, run_at).
pub(super) type RecipientUpdate = (String, String, String, &'static str, Option<&'static str>, i64);

/// What a batch writes: the pass changes, then each holder's new row state.
pub(super) struct PreparedBatch {
    pub changes: Vec<(super::PassRecord, super::PassChange)>,
    pub updates: Vec<RecipientUpdate>,
}

/// Decides a batch (pressure rules, then the pass change of each holder who gets the message).
pub(super) fn prepare_batch(
    due: &[DueRecipient],
    sent: HashMap<String, (i64, i64)>,
    passes: &HashMap<String, super::PassRecord>,
    plan: &FanoutPlan,
    now: i64,
) -> PreparedBatch {
    let steps = plan_batch(due, sent, &plan.pressure, now);
    let mut out = PreparedBatch { changes: Vec::new(), updates: Vec::with_capacity(due.len()) };
    for (r, step) in due.iter().zip(steps) {
        let (state, rule, run_at) = match step {
            Step::Send(text, no_google_message) => {
                let change = |p| campaign_change(p, plan, text, &r.campaign_id, no_google_message);
                match passes.get(&r.serial_number).map(|p| (p, change(p))) {
                    Some((pass, Ok(change))) => {
                        out.changes.push((pass.clone(), change));
                        ("sent", None, now)
                    }
                    Some((_, Err(rule))) => ("held_back", Some(rule), now),
                    None => ("held_back", Some(NO_PASS), now),
                }
            }
            Step::Hold(rule) => ("held_back", Some(rule), now),
            Step::Delay(until) => ("pending", Some(crate::campaigns::pressure::QUIET_HOURS), until),
        };
        out.updates.push((r.campaign_id.clone(), r.member_id.clone(), r.serial_number.clone(), state, rule, run_at));
    }
    out
}

/// The holders' new states as a JSON array for one bulk update:
/// `[campaign, member, state, rule, run_at, sent_version]`.
pub(super) fn updates_json(batch: &PreparedBatch, written: &[super::PassRecord]) -> String {
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

/// Google holders a campaign targets with one template and timezone, and how many of them the
/// caps would hold back now.
#[derive(Debug, Clone)]
pub(super) struct ClassCoverage {
    pub template: String,
    pub timezone: Option<String>,
    pub holders: i64,
    pub weekly_capped: i64,
    pub daily_capped: i64,
}

/// The template whose Google class may carry a campaign as one class message, and the holders
/// it reaches: every targeted Google holder has that template and none is held back right now
/// (a class message reaches them all at once). The caller still checks that these are all the
/// class's holders.
pub(super) fn class_candidate(
    rows: &[ClassCoverage],
    high_priority: bool,
    pressure: &Pressure,
    now: i64,
) -> Option<(String, i64)> {
    let template = &rows.first()?.template;
    let mut zones = HashMap::new();
    let clear = rows.iter().all(|r| {
        let tz = pressure.timezone(r.timezone.as_deref(), &mut zones);
        &r.template == template
            && r.daily_capped == 0
            && (r.weekly_capped == 0 || high_priority)
            && pressure.quiet_until(now, &tz).is_none()
    });
    let holders: i64 = rows.iter().map(|r| r.holders).sum();
    (clear && holders > 0).then(|| (template.clone(), holders))
}

/// The segment and store limit a stored campaign starts with, or why it cannot start (both
/// were checked when it was made: this guards against a later change of the language, and a
/// scope that cannot be read never widens to everyone).
pub(super) fn start_filter(c: &CampaignRecord) -> Result<(Segment, Option<String>), String> {
    let segment = crate::campaigns::segment::parse(&c.segment).map_err(|e| format!("segment {e}"))?;
    let scope = crate::keys::KeyScope::parse(&c.scope).ok_or_else(|| format!("unreadable scope {:?}", c.scope))?;
    Ok((segment, scope.store_id().map(str::to_owned)))
}

/// `ZoneCounts` from the rows of either backend's grouped segment count.
pub(super) fn zone_counts<'r, R: super::rows::Columns<'r>>(rows: &'r [R]) -> Result<Vec<ZoneCounts>>
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
pub(super) fn class_coverage<'r, R: super::rows::Columns<'r>>(rows: &'r [R]) -> Result<Vec<ClassCoverage>>
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
pub(super) fn sent_counts<'r, R: super::rows::Columns<'r>>(rows: &'r [R]) -> Result<HashMap<String, (i64, i64)>>
where
    &'static str: sqlx::ColumnIndex<R>,
{
    rows.iter().map(|r| Ok((r.text("member_id")?, (r.int("weekly")?, r.int("daily")?)))).collect()
}

/// The history detail of a campaign's start.
pub(super) fn sending_detail(targeted: i64, class: &Option<(String, i64)>) -> Value {
    match class {
        Some((template, holders)) => serde_json::json!({"targeted": targeted,
            "google_class_message": {"template": template, "holders": holders}}),
        None => serde_json::json!({"targeted": targeted}),
    }
}
