//! The campaign fan-out's rules, applied to each batch inside the store's transaction: who
//! gets the message now (pressure rules, quiet hours), what the pass change is, whether one
//! Google class message can carry the campaign, and how segment counts add up per timezone.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use serde_json::Value;

use crate::campaigns::pressure::Pressure;
use crate::campaigns::segment::Segment;
use crate::store::{CampaignRecord, PassChange, PassRecord, QuietZone, SegmentCounts};

/// What one fan-out batch needs to know.
#[derive(Debug, Clone)]
pub struct FanoutPlan {
    pub batch_size: i64,
    /// Template id -> its offer field (the message's place on the Apple pass).
    pub offer_fields: HashMap<String, String>,
    pub pressure: Pressure,
}

/// A holder due in a fan-out batch, with what its campaign says.
#[derive(Debug, Clone)]
pub struct DueRecipient {
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
pub enum Step {
    /// Change the pass, showing this text; and add it as a Google message unless the flag says
    /// not to (the campaign's class message carries it, or the pass is not saved on Google).
    Send(String, bool),
    Hold(&'static str),
    Delay(i64),
}

/// A holder whose pass is gone or voided since the campaign started.
pub const NO_PASS: &str = "no_pass";

/// The pass's template has no offer field to carry the message.
pub const NO_OFFER_FIELD: &str = "no_offer_field";

/// Decides every holder of a batch. `sent` holds each member's campaign notifications in the
/// last 7 days and 24 hours; it grows as the batch sends, so one member due for two campaigns
/// in the same batch is judged fairly.
pub fn plan_batch(
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
/// changeMessage shows it on the lock screen) and as the Google message. Without a campaign id
/// (a test send) nothing is counted for the campaign.
pub fn campaign_change(
    pass: &PassRecord,
    offer_fields: &HashMap<String, String>,
    text: String,
    campaign_id: Option<&str>,
    no_google_message: bool,
) -> Result<PassChange, &'static str> {
    if pass.voided {
        return Err(NO_PASS);
    }
    let field = offer_fields.get(&pass.template).ok_or(NO_OFFER_FIELD)?;
    let mut data = pass.data.clone();
    let Some(object) = data.as_object_mut() else { return Err(NO_PASS) };
    object.insert(field.clone(), Value::String(text.clone()));
    let message = (!no_google_message).then_some(text);
    Ok(PassChange { data, voided: false, message, campaign: campaign_id.map(str::to_owned) })
}

/// Segment counts for the holders of one timezone (`None`: no home store) and language.
#[derive(Debug, Clone)]
pub struct ZoneCounts {
    pub timezone: Option<String>,
    pub language: Option<String>,
    pub members: i64,
    pub passes: i64,
    pub apple_devices: i64,
    pub google_objects: i64,
    pub weekly_capped: i64,
    pub daily_capped: i64,
}

/// Adds up the timezones and languages; holders of a timezone in its quiet hours now count as
/// held back.
pub fn sum_zones(zones: Vec<ZoneCounts>, pressure: &Pressure, now: i64) -> SegmentCounts {
    use crate::campaigns::pressure::{DAILY_CAP, QUIET_HOURS, WEEKLY_CAP};
    let mut out = SegmentCounts::default();
    let mut cache = HashMap::new();
    let (mut weekly, mut daily, mut quiet) = (0, 0, 0);
    let mut quiet_zones: BTreeMap<String, QuietZone> = BTreeMap::new();
    for z in zones {
        out.members += z.members;
        out.passes += z.passes;
        out.apple_devices += z.apple_devices;
        out.google_objects += z.google_objects;
        weekly += z.weekly_capped;
        daily += z.daily_capped;
        if let Some(language) = z.language.filter(|_| z.passes > 0) {
            *out.languages.entry(language).or_default() += z.passes;
        }
        let tz = pressure.timezone(z.timezone.as_deref(), &mut cache);
        if let Some(until) = pressure.quiet_until(now, &tz).filter(|_| z.passes > 0) {
            quiet += z.passes;
            let name = tz.iana_name().unwrap_or("UTC").to_owned();
            let zone = quiet_zones.entry(name.clone()).or_insert(QuietZone { timezone: name, until, holders: 0 });
            zone.holders += z.passes;
        }
    }
    out.quiet = quiet_zones.into_values().collect();
    out.held_back = [(WEEKLY_CAP, weekly), (DAILY_CAP, daily), (QUIET_HOURS, quiet)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    out
}

/// A holder's new row state: (campaign, member, serial, state, held rule, run_at).
pub type RecipientUpdate = (String, String, String, &'static str, Option<&'static str>, i64);

/// What a batch writes: the pass changes, then each holder's new row state.
pub struct PreparedBatch {
    pub changes: Vec<(PassRecord, PassChange)>,
    pub updates: Vec<RecipientUpdate>,
}

/// Decides a batch (pressure rules, then the pass change of each holder who gets the message).
pub fn prepare_batch(
    due: &[DueRecipient],
    sent: HashMap<String, (i64, i64)>,
    passes: &HashMap<String, PassRecord>,
    plan: &FanoutPlan,
    now: i64,
) -> PreparedBatch {
    let steps = plan_batch(due, sent, &plan.pressure, now);
    let mut out = PreparedBatch { changes: Vec::new(), updates: Vec::with_capacity(due.len()) };
    for (r, step) in due.iter().zip(steps) {
        let (state, rule, run_at) = match step {
            Step::Send(text, no_google_message) => {
                let change = |p| campaign_change(p, &plan.offer_fields, text, Some(&r.campaign_id), no_google_message);
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

/// Google holders a campaign targets with one template and timezone, and how many of them the
/// caps would hold back now.
#[derive(Debug, Clone)]
pub struct ClassCoverage {
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
pub fn class_candidate(
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
pub fn start_filter(c: &CampaignRecord) -> Result<(Segment, Option<String>), String> {
    let segment = crate::campaigns::segment::parse(&c.segment).map_err(|e| format!("segment {e}"))?;
    let scope = super::audience::Audience::parse(&c.scope).ok_or_else(|| format!("unreadable scope {:?}", c.scope))?;
    Ok((segment, scope.store_id().map(str::to_owned)))
}

/// The history detail of a campaign's start.
pub fn sending_detail(targeted: i64, class: &Option<(String, i64)>) -> Value {
    match class {
        Some((template, holders)) => serde_json::json!({"targeted": targeted,
            "google_class_message": {"template": template, "holders": holders}}),
        None => serde_json::json!({"targeted": targeted}),
    }
}
