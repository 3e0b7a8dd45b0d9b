//! Campaigns over HTTP: segment previews, creation (HQ: approved at once; a store: pending HQ's
//! approval), approval and rejection, cancellation, history and delivery figures.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{JsonBody, QueryParams};
use crate::access::{Actor, Area, Reach};
use crate::campaigns::audience::Audience;
use crate::campaigns::requests::{self, CampaignRequest};
use crate::error::{Error, Result, phrase_conflict};
use crate::http::AppState;
use crate::store::{AuditQuery, CampaignRecord, CampaignStats, SegmentCounts, Transition, now_ms};

const MAX_PAGE: i64 = 200;
const MAX_REASON_CHARS: usize = 1000;
/// A campaign's history is a handful of transitions; this bounds a pathological one.
const MAX_HISTORY: i64 = 1000;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/segments/preview", post(preview))
        .route("/api/v1/campaigns", get(list).post(create))
        .route("/api/v1/campaigns/{id}", get(show))
        .route("/api/v1/campaigns/{id}/approve", post(approve))
        .route("/api/v1/campaigns/{id}/reject", post(reject))
        .route("/api/v1/campaigns/{id}/cancel", post(cancel))
        .route("/api/v1/campaigns/{id}/history", get(history))
        .route("/api/v1/campaigns/{id}/stats", get(stats))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    segment: String,
    /// Counts one store's members only (a store manager always counts its own).
    scope: Option<String>,
}

async fn preview(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<PreviewBody>,
) -> Result<Json<Value>> {
    let scope = requests::campaign_scope(&actor, body.scope.as_deref())?;
    known_store(&state, &scope).await?;
    let segment = requests::parse_segment(&body.segment)?;
    requests::check_segment_stores(&scope, &segment)?;
    let pressure = crate::campaigns::pressure::Pressure::new(&state.config.campaigns)?;
    let counts = state.store.segment_counts(&segment, scope.store_id(), &pressure).await?;
    Ok(Json(counts_view(&counts)))
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<CampaignRequest>,
) -> Result<(StatusCode, Json<Value>)> {
    let max_chars = state.config.campaigns.message_max_chars;
    let campaign = requests::new_campaign(body, &actor, &actor.id, max_chars, now_ms())?;
    fits_offer_fields(&state, &campaign.messages)?;
    known_store(&state, &Audience::parse(&campaign.scope).unwrap_or(Audience::Hq)).await?;
    let record = state.store.insert_campaign(campaign, &actor.label()).await?;
    if record.status == "approved" {
        state.store.wakeups().campaigns().notify_waiters();
    }
    Ok((StatusCode::CREATED, Json(campaign_view(&record))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// The last id of the previous page.
    before: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Value>> {
    actor.require(Area::Campaigns)?;
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let scope = match actor.reach(Area::Campaigns) {
        Reach::All => None,
        _ => actor.own_store().map(|s| Audience::Store(s.to_owned()).to_string()),
    };
    let items = state.store.list_campaigns(scope.as_deref(), q.before.as_deref(), limit).await?;
    let next = (items.len() as i64 == limit).then(|| items.last().map(|c| c.id.clone())).flatten();
    Ok(Json(json!({"items": items.iter().map(campaign_view).collect::<Vec<_>>(), "next_before": next})))
}

/// Every text fits the offer field of every template that carries campaign messages (a
/// template may cap that field's length; a pass that breaks its template could not be signed).
fn fits_offer_fields(state: &AppState, messages: &std::collections::BTreeMap<String, String>) -> Result<()> {
    for template in state.templates.iter() {
        let Some(field) = &template.definition.roles.offer else { continue };
        let Some(max) = template.definition.fields.get(field).and_then(|spec| spec.max_length) else { continue };
        if let Some((language, _)) = messages.iter().find(|(_, text)| text.chars().count() > max) {
            let message = format!("longer than the {max} characters of template {}'s field {field}", template.id);
            return Err(Error::unprocessable(message, format!("message.{language}")));
        }
    }
    Ok(())
}

/// A store scope must name a store (HQ could otherwise schedule a campaign that reaches no one).
async fn known_store(state: &AppState, scope: &Audience) -> Result<()> {
    match scope.store_id() {
        Some(id) if state.store.shop(id).await?.is_none() => {
            Err(Error::unprocessable(format!("no store {id:?}"), "scope"))
        }
        _ => Ok(()),
    }
}

/// The campaign, if the actor may see it (a store manager: its own store's; another's is 404).
async fn readable(state: &AppState, actor: &Actor, id: &str) -> Result<CampaignRecord> {
    actor.require(Area::Campaigns)?;
    let campaign = state.store.campaign(id).await?.filter(|c| requests::may_read(actor, &c.scope));
    campaign.ok_or_else(|| Error::NotFound(format!("no campaign {id:?}")))
}

async fn show(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(campaign_view(&readable(&state, &actor, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    reason: Option<String>,
}

async fn approve(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    // The body is optional here: `{"reason": "..."}` records a comment with the approval.
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<DecisionBody>(&body)
            .map_err(|e| Error::BadRequest { message: e.to_string(), field: None })?
            .reason
    };
    actor.require(Area::Approvals)?;
    let actor = actor.label();
    let t = Transition {
        from: &["pending_approval"],
        to: "approved",
        actor: &actor,
        action: "approved",
        detail: json!({"comment": reason}),
        reject_reason: None,
    };
    let record = transition(&state, &id, t).await?;
    state.store.wakeups().campaigns().notify_waiters();
    Ok(Json(campaign_view(&record)))
}

async fn reject(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<Value>> {
    actor.require(Area::Approvals)?;
    let reason = body.reason.map(|r| r.trim().to_owned()).unwrap_or_default();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::unprocessable(format!("a reason of 1-{MAX_REASON_CHARS} characters is required"), "reason"));
    }
    let actor = actor.label();
    let t = Transition {
        from: &["pending_approval"],
        to: "rejected",
        actor: &actor,
        action: "rejected",
        detail: json!({"reason": reason}),
        reject_reason: Some(&reason),
    };
    Ok(Json(campaign_view(&transition(&state, &id, t).await?)))
}

/// Stops a campaign not yet sent: holders not reached yet are not reached. A store may cancel its own.
async fn cancel(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    readable(&state, &actor, &id).await?;
    let actor = actor.label();
    let t = Transition {
        from: &["pending_approval", "approved", "sending"],
        to: "cancelled",
        actor: &actor,
        action: "cancelled",
        detail: json!({}),
        reject_reason: None,
    };
    Ok(Json(campaign_view(&transition(&state, &id, t).await?)))
}

async fn transition(state: &AppState, id: &str, t: Transition<'_>) -> Result<CampaignRecord> {
    let moved = state.store.transition_campaign(id, t).await.map_err(|e| {
        phrase_conflict(e, |_, status, _| Error::conflict(format!("campaign {id} is {status}"), "status"))
    })?;
    moved.ok_or_else(|| Error::NotFound(format!("no campaign {id:?}")))
}

async fn history(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    readable(&state, &actor, &id).await?;
    let query = AuditQuery {
        object_kind: Some("campaign".into()),
        object_id: Some(id.clone()),
        limit: MAX_HISTORY,
        ..Default::default()
    };
    let events = state.store.audit_log(&query).await?;
    let items: Vec<Value> = events
        .iter()
        .rev()
        .map(|e| {
            let e2 = &e.entry;
            json!({"at": super::views::rfc3339(e.at), "actor": e2.actor, "action": e2.action, "detail": e2.detail})
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

async fn stats(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    let campaign = readable(&state, &actor, &id).await?;
    let stats = state.store.campaign_stats(&id).await?;
    Ok(Json(stats_view(&campaign, &stats)))
}

fn counts_view(c: &SegmentCounts) -> Value {
    json!({
        "members": c.members,
        "passes": c.passes,
        "apple_devices": c.apple_devices,
        "google_objects": c.google_objects,
        "held_back": c.held_back,
    })
}

fn campaign_view(c: &CampaignRecord) -> Value {
    let rfc = super::views::rfc3339;
    json!({
        "id": c.id,
        "name": c.name,
        "status": c.status,
        "scope": c.scope,
        "segment": c.segment,
        "message": c.messages,
        "priority": c.priority,
        "send_at": c.send_at.map(rfc),
        "reject_reason": c.reject_reason,
        "created_by": c.created_by,
        "created_at": rfc(c.created_at),
        "started_at": c.started_at.map(rfc),
        "finished_at": c.finished_at.map(rfc),
    })
}

fn stats_view(campaign: &CampaignRecord, s: &CampaignStats) -> Value {
    let count = |name: &str| s.counters.get(name).copied().unwrap_or(0);
    let rejected_by_reason: serde_json::Map<String, Value> = s
        .counters
        .iter()
        .filter_map(|(name, n)| name.strip_prefix("apple.rejected.").map(|reason| (reason.to_owned(), json!(n))))
        .collect();
    let rejected: i64 = rejected_by_reason.values().filter_map(Value::as_i64).sum();
    json!({
        "status": campaign.status,
        "targeted": s.targeted,
        "sent": s.sent,
        "pending": s.pending,
        "held_back": s.held_back,
        "apple": {
            "accepted": count("apple.accepted"),
            "rejected": rejected,
            "rejected_by_reason": rejected_by_reason,
            "fetched": s.fetched,
        },
        "google": {
            "accepted": count("google.accepted"),
            "failed": count("google.failed"),
            "pending": s.google_pending,
            // One message on the class for every holder of it, instead of one per object.
            "class_message": campaign.google_class.as_ref().map(|template| json!({
                "template": template,
                "sent_at": campaign.google_class_sent_at.map(super::views::rfc3339),
            })),
        },
    })
}
