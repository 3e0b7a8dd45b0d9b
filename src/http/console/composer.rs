//! The campaign composer: `/console/campaigns/new` and a draft's page. A segment builder
//! (field / operator / value rows that write the segment language) beside the language itself,
//! the reach and warnings of what is written, a lock-screen preview per language, the schedule
//! in the audience's timezone, a test send to the user's own card, and sending (or submitting
//! for approval) only after a confirmation that repeats the reach. Every change goes through
//! `campaigns::Campaigns`, as the API's do.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::members::refused;
use super::pages;
use super::session::{Form, Signed};
use crate::access::Reach;
use crate::campaigns::requests::{CampaignRequest, DraftPatch};
use crate::campaigns::segment::compose::{self, Condition, OPERATORS};
use crate::campaigns::service::Preview;
use crate::error::Error;
use crate::http::AppState;
use crate::store::CampaignRecord;

/// Builder rows shown by default; "add a condition" shows one more.
const ROWS: usize = 3;
const MAX_ROWS: usize = 12;
/// The holdout a new campaign starts with in the composer.
const PROPOSED_HOLDOUT_PERCENT: i64 = 10;
/// The languages the composer asks a text for.
pub const LANGUAGES: [&str; 2] = ["en", "fr"];

/// The composer's form, as posted (flat `field0`, `op0`, `value0`, … for the builder).
pub type Fields = BTreeMap<String, String>;

fn get<'a>(f: &'a Fields, key: &str) -> &'a str {
    f.get(key).map(|s| s.as_str()).unwrap_or("")
}

fn rows_of(f: &Fields) -> Vec<Condition> {
    let shown = get(f, "rows").parse::<usize>().unwrap_or(ROWS).clamp(1, MAX_ROWS);
    (0..shown)
        .map(|i| Condition {
            field: get(f, &format!("field{i}")).to_owned(),
            op: get(f, &format!("op{i}")).to_owned(),
            value: get(f, &format!("value{i}")).to_owned(),
        })
        .collect()
}

/// The segment the form says: the builder's rows when any is filled, else the text.
fn segment_of(f: &Fields) -> String {
    compose::compose(&rows_of(f)).unwrap_or_else(|| get(f, "segment").trim().to_owned())
}

fn messages_of(f: &Fields) -> BTreeMap<String, String> {
    LANGUAGES
        .iter()
        .filter_map(|l| {
            let text = get(f, &format!("message_{l}")).trim();
            (!text.is_empty()).then(|| ((*l).to_owned(), text.to_owned()))
        })
        .collect()
}

fn scope_of(signed: &Signed, f: &Fields) -> Option<String> {
    match signed.actor.own_store() {
        Some(store) => Some(format!("store:{store}")),
        None => Some(get(f, "scope").trim().to_owned()).filter(|s| !s.is_empty()),
    }
}

/// The timezone a scheduled time is read in: the store's, or the campaigns' default.
async fn timezone_of(state: &AppState, scope: Option<&str>) -> String {
    if let Some(store) = scope.and_then(|s| s.strip_prefix("store:"))
        && let Ok(Some(shop)) = state.store.shop(store).await
    {
        return shop.timezone;
    }
    state.config.campaigns.default_timezone.clone()
}

/// `2026-12-24T09:30` in `tz` → RFC 3339 (what the API takes); empty stays empty.
fn send_at_of(local: &str, tz: &str) -> Result<Option<String>, Error> {
    let local = local.trim();
    if local.is_empty() {
        return Ok(None);
    }
    let at = local
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.in_tz(tz).ok())
        .ok_or_else(|| Error::unprocessable("give a date and a time", "send_at"))?;
    Ok(Some(at.timestamp().to_string()))
}

/// A stored time shown in the form's `datetime-local` field, in `tz`.
fn local_of(ms: Option<i64>, tz: &str) -> String {
    ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .and_then(|t| t.in_tz(tz).ok())
        .map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// The form's values from a stored draft.
fn fields_of(c: &CampaignRecord, tz: &str) -> Fields {
    let mut f = Fields::new();
    f.insert("name".into(), c.name.clone());
    f.insert("segment".into(), c.segment.clone());
    f.insert("scope".into(), c.scope.clone());
    f.insert("priority".into(), c.priority.clone());
    f.insert("send_at".into(), local_of(c.send_at, tz));
    f.insert("test_card_number".into(), c.test_card_number.clone().unwrap_or_default());
    f.insert("holdout_percent".into(), c.holdout_percent.to_string());
    f.insert("conversion_days".into(), c.conversion_days.to_string());
    for (lang, text) in &c.messages {
        f.insert(format!("message_{lang}"), text.clone());
    }
    f
}

/// The composer page: the form's values, the reach and warnings, and an error beside a field.
struct View<'a> {
    campaign: Option<&'a CampaignRecord>,
    fields: Fields,
    error: Option<(String, String)>,
    notice: Option<String>,
}

async fn render(state: &AppState, signed: &Signed, view: View<'_>) -> Response {
    let f = &view.fields;
    let scope = scope_of(signed, f);
    let tz = timezone_of(state, scope.as_deref()).await;
    let segment = segment_of(f);
    let messages = messages_of(f);
    let preview = match &view.campaign {
        Some(_) if !segment.is_empty() => {
            state.campaigns.preview(&signed.actor, &segment, scope.as_deref(), Some(&messages)).await.ok()
        }
        _ => None,
    };
    let stores = match signed.actor.reach(crate::access::Area::Campaigns) {
        Reach::All => state.store.all_shops().await.unwrap_or_default().into_iter().map(|s| s.id).collect(),
        _ => Vec::new(),
    };
    let mut rows: Vec<Value> =
        rows_of(f).iter().map(|r| json!({"field": r.field, "op": r.op, "value": r.value})).collect();
    if get(f, "action") == "add_row" && rows.len() < MAX_ROWS {
        rows.push(json!({"field": "", "op": "=", "value": ""}));
    }
    // Once written into the text, the builder's rows start empty again.
    if compose::compose(&rows_of(f)).is_some() && get(f, "action") != "add_row" {
        rows = (0..ROWS).map(|_| json!({"field": "", "op": "=", "value": ""})).collect();
    }
    let (error_field, error) = view.error.clone().unzip();
    let ctx = json!({
        "campaign": view.campaign.map(|c| json!({"id": c.id, "status": c.status})),
        "f": {
            "name": get(f, "name"), "segment": segment, "scope": scope, "priority": get(f, "priority"),
            "send_at": get(f, "send_at"), "test_card_number": get(f, "test_card_number"),
            "holdout_percent": get(f, "holdout_percent"), "conversion_days": get(f, "conversion_days"),
            "messages": LANGUAGES.iter().map(|l| json!({"lang": l, "text": get(f, &format!("message_{l}"))})).collect::<Vec<_>>(),
        },
        "rows": rows,
        "fields": compose::fields(),
        "operators": OPERATORS,
        "stores": stores,
        "timezone": tz,
        "hq": signed.actor.own_store().is_none(),
        "organization": crate::loyalty::verification::organization(&state.loyalty),
        "reach": preview.as_ref().map(|p| reach_view(signed.lang, p, holdout_typed(f))),
        "error_field": error_field,
        "error": error,
        "notice": view.notice,
    });
    let mut resp = pages::render(signed, "composer.html", "campaigns", ctx);
    if view.error.is_some() {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    resp
}

/// The holdout typed in the form, for the reach (what is not a number yet counts as none).
fn holdout_typed(f: &Fields) -> i64 {
    get(f, "holdout_percent").trim().parse().unwrap_or(0)
}

/// The reach as the page and the live-reach script show it, with the holdout a campaign of
/// `holdout_percent` would draw from its holders.
pub fn reach_view(lang: &str, p: &Preview, holdout_percent: i64) -> Value {
    let held: i64 = p.counts.held_back.values().sum();
    json!({
        "holdout": crate::campaigns::holdout::expected(p.counts.passes, holdout_percent),
        "matching": p.counts.matching, "members": p.counts.members, "passes": p.counts.passes, "apple": p.counts.apple_devices,
        "google": p.counts.google_objects, "held_back": held, "held_by_rule": p.counts.held_back,
        "warnings": p.warnings.iter().map(|w| json!({"code": w.code, "message": super::warnings::say(lang, w)})).collect::<Vec<_>>(),
    })
}

/// The error of a refused change, for the field it names (or the form as a whole).
fn field_error(e: &Error) -> Option<(String, String)> {
    match e {
        Error::Unprocessable { message, field } | Error::Conflict { message, field } => {
            Some((field.clone().unwrap_or_default(), message.clone()))
        }
        Error::Forbidden(message) => Some((String::new(), message.clone())),
        _ => None,
    }
}

async fn request_of(state: &AppState, signed: &Signed, f: &Fields) -> Result<CampaignRequest, Error> {
    let scope = scope_of(signed, f);
    let tz = timezone_of(state, scope.as_deref()).await;
    Ok(CampaignRequest {
        name: get(f, "name").to_owned(),
        segment: segment_of(f),
        message: messages_of(f),
        send_at: send_at_of(get(f, "send_at"), &tz)?,
        scope,
        priority: Some(get(f, "priority").to_owned()).filter(|p| !p.is_empty()),
        draft: true,
        test_card_number: Some(get(f, "test_card_number").trim().to_owned()).filter(|c| !c.is_empty()),
        holdout_percent: whole_number(f, "holdout_percent")?,
        conversion_days: whole_number(f, "conversion_days")?,
        offer_id: None,
    })
}

/// A whole number typed in a field (empty: not given); anything else is named beside it.
fn whole_number(f: &Fields, key: &str) -> Result<Option<i64>, Error> {
    match get(f, key).trim() {
        "" => Ok(None),
        text => text.parse().map(Some).map_err(|_| Error::unprocessable(format!("{key} is a whole number"), key)),
    }
}

pub async fn new(State(state): State<Arc<AppState>>, signed: Signed) -> Response {
    if let Err(e) = signed.actor.require(crate::access::Area::Campaigns) {
        return refused(&signed, e);
    }
    let mut fields = Fields::new();
    fields.insert("priority".into(), "normal".into());
    // A holdout measures what the campaign sold; the page says why (API default: none).
    fields.insert("holdout_percent".into(), PROPOSED_HOLDOUT_PERCENT.to_string());
    fields.insert("conversion_days".into(), "7".into());
    render(&state, &signed, View { campaign: None, fields, error: None, notice: None }).await
}

/// Creates the draft (or shows one more builder row); then its page, or the confirmation.
pub async fn create(State(state): State<Arc<AppState>>, form: Form<Fields>) -> Response {
    let Form { signed, fields } = form;
    if get(&fields, "action") == "add_row" {
        return render(&state, &signed, View { campaign: None, fields, error: None, notice: None }).await;
    }
    let made = match request_of(&state, &signed, &fields).await {
        Ok(req) => state.campaigns.create(&signed.actor, req).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(checked) => after_save(&checked.campaign.id, get(&fields, "action")),
        Err(e) => match field_error(&e) {
            Some(error) => {
                render(&state, &signed, View { campaign: None, fields, error: Some(error), notice: None }).await
            }
            None => refused(&signed, e),
        },
    }
}

fn after_save(id: &str, action: &str) -> Response {
    let to =
        if action == "send" { format!("/console/campaigns/{id}/confirm") } else { format!("/console/campaigns/{id}") };
    Redirect::to(&to).into_response()
}

/// A draft's composer.
pub async fn edit(state: &AppState, signed: &Signed, campaign: &CampaignRecord, notice: Option<String>) -> Response {
    let tz = timezone_of(state, Some(&campaign.scope)).await;
    let fields = fields_of(campaign, &tz);
    render(state, signed, View { campaign: Some(campaign), fields, error: None, notice }).await
}

/// Saves a draft; then shows it, sends its test, or asks to confirm sending.
pub async fn save(State(state): State<Arc<AppState>>, Path(id): Path<String>, form: Form<Fields>) -> Response {
    let Form { signed, fields } = form;
    let campaign = match state.campaigns.get(&signed.actor, &id).await {
        Ok(c) => c,
        Err(e) => return refused(&signed, e),
    };
    let action = get(&fields, "action").to_owned();
    if action == "add_row" {
        return render(&state, &signed, View { campaign: Some(&campaign), fields, error: None, notice: None }).await;
    }
    let saved = match request_of(&state, &signed, &fields).await {
        Ok(req) => {
            let patch = DraftPatch {
                name: Some(req.name),
                segment: Some(req.segment),
                message: Some(req.message),
                send_at: Some(req.send_at),
                scope: req.scope.filter(|_| signed.actor.own_store().is_none()),
                priority: req.priority,
                test_card_number: Some(req.test_card_number),
                holdout_percent: req.holdout_percent,
                conversion_days: req.conversion_days,
                // The composer has no offer field: a draft keeps the offer the API gave it.
                offer_id: None,
            };
            state.campaigns.change_draft(&signed.actor, &id, patch).await
        }
        Err(e) => Err(e),
    };
    let saved = match saved {
        Ok(checked) => checked.campaign,
        Err(e) => {
            return match field_error(&e) {
                Some(error) => {
                    let view = View { campaign: Some(&campaign), fields, error: Some(error), notice: None };
                    render(&state, &signed, view).await
                }
                None => refused(&signed, e),
            };
        }
    };
    if action != "test" {
        return after_save(&id, &action);
    }
    let t = super::i18n::texts(signed.lang);
    match state.campaigns.send_test(&signed.actor, &id).await {
        Ok(sent) => {
            let notice = format!("{} {}", t["test_sent"].as_str().unwrap_or_default(), sent.card_number);
            edit(&state, &signed, &saved, Some(notice)).await
        }
        Err(e) => match field_error(&e) {
            Some(error) => {
                let tz = timezone_of(&state, Some(&saved.scope)).await;
                let view =
                    View { campaign: Some(&saved), fields: fields_of(&saved, &tz), error: Some(error), notice: None };
                render(&state, &signed, view).await
            }
            None => refused(&signed, e),
        },
    }
}

/// The live reach of what the composer's form says (the script posts the whole form, its CSRF
/// field included).
pub async fn reach(State(state): State<Arc<AppState>>, form: Form<Fields>) -> Response {
    let Form { signed, fields } = form;
    let segment = segment_of(&fields);
    if segment.is_empty() {
        return Json(json!({"segment": "", "reach": null, "error": null})).into_response();
    }
    let scope = scope_of(&signed, &fields);
    let messages = messages_of(&fields);
    match state.campaigns.preview(&signed.actor, &segment, scope.as_deref(), Some(&messages)).await {
        Ok(p) => Json(
            json!({"segment": segment, "reach": reach_view(signed.lang, &p, holdout_typed(&fields)), "error": null}),
        )
        .into_response(),
        Err(e) => match field_error(&e) {
            Some((_, message)) => Json(json!({"segment": segment, "reach": null, "error": message})).into_response(),
            None => e.into_response(),
        },
    }
}
