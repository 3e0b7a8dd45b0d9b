//! Campaigns over HTTP: segment previews, creation (a draft; else HQ: approved at once; a store:
//! pending HQ's approval), draft changes and submission, test sends, approval and rejection,
//! cancellation, history and delivery figures. The rules are in `campaigns::service`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::decision::{DecisionBody, OptionalReason};
use super::extract::{JsonBody, QueryParams};
use crate::access::Actor;
use crate::campaigns::requests::{CampaignRequest, DraftPatch};
use crate::campaigns::{Checked, Preview, holdout};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::{CampaignRecord, CampaignStats, SegmentCounts};

const MAX_PAGE: i64 = 200;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/segments/preview", post(preview))
        .route("/api/v1/campaigns", get(list).post(create))
        .route("/api/v1/campaigns/{id}", get(show).patch(change))
        .route("/api/v1/campaigns/{id}/submit", post(submit))
        .route("/api/v1/campaigns/{id}/test", post(send_test))
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
    /// The texts, to warn about languages of the audience without one.
    message: Option<BTreeMap<String, String>>,
    /// The holdout to count (0 to 50); absent: PASSERELLE_CAMPAIGN_HOLDOUT_PERCENT.
    holdout_percent: Option<i64>,
}

async fn preview(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<PreviewBody>,
) -> Result<Json<Value>> {
    let percent = body.holdout_percent.unwrap_or(state.campaigns.default_holdout_percent);
    let percent = holdout::check_percent(percent).map_err(|e| Error::unprocessable(e, "holdout_percent"))?;
    let found = state.campaigns.preview(&actor, &body.segment, body.scope.as_deref(), body.message.as_ref()).await?;
    let mut out = preview_view(&found);
    out["holdout"] = json!(holdout::expected(found.counts.passes, i64::from(percent)));
    Ok(Json(out))
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<CampaignRequest>,
) -> Result<(StatusCode, Json<Value>)> {
    let made = state.campaigns.create(&actor, body).await?;
    Ok((StatusCode::CREATED, Json(checked_view(&made))))
}

async fn change(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DraftPatch>,
) -> Result<Json<Value>> {
    Ok(Json(checked_view(&state.campaigns.change_draft(&actor, &id, body).await?)))
}

async fn submit(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(checked_view(&state.campaigns.submit(&actor, &id).await?)))
}

async fn send_test(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    let sent = state.campaigns.send_test(&actor, &id).await?;
    Ok(Json(json!({"sent_to": {"card_number": sent.card_number, "serial_number": sent.serial_number}})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// The last id of the previous page.
    before: Option<String>,
    limit: Option<i64>,
    status: Option<String>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Value>> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let items = state.campaigns.list(&actor, q.status.as_deref(), q.before.as_deref(), limit).await?;
    let next = (items.len() as i64 == limit).then(|| items.last().map(|c| c.id.clone())).flatten();
    Ok(Json(json!({"items": items.iter().map(campaign_view).collect::<Vec<_>>(), "next_before": next})))
}

/// The campaign; once started, with the number of holders drawn into its holdout group and
/// the Google work still queued for it.
async fn show(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    let campaign = state.campaigns.get(&actor, &id).await?;
    let mut out = campaign_view(&campaign);
    if campaign.started_at.is_some() {
        let stats = state.campaigns.stats(&actor, &id).await?.1;
        out["holdout"] = json!(stats.holdout);
        // Google's quota may still be working through a large audience after the fan-out.
        out["google_pending"] = json!(stats.google_pending);
    }
    Ok(Json(out))
}

async fn approve(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    OptionalReason(reason): OptionalReason,
) -> Result<Json<Value>> {
    Ok(Json(campaign_view(&state.campaigns.approve(&actor, &id, reason).await?)))
}

async fn reject(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<Value>> {
    Ok(Json(campaign_view(&state.campaigns.reject(&actor, &id, body.reason).await?)))
}

/// Stops a campaign not yet sent: holders not reached yet are not reached. A store may cancel its own.
async fn cancel(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(campaign_view(&state.campaigns.cancel(&actor, &id).await?)))
}

async fn history(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    let events = state.campaigns.history(&actor, &id).await?;
    let items: Vec<Value> = events
        .iter()
        .map(|e| {
            let e2 = &e.entry;
            json!({"at": super::views::rfc3339(e.at), "actor": e2.actor, "action": e2.action, "detail": e2.detail})
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

async fn stats(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    let (campaign, stats) = state.campaigns.stats(&actor, &id).await?;
    Ok(Json(stats_view(&campaign, &stats)))
}

/// The counts and, beside them, the warnings.
fn preview_view(p: &Preview) -> Value {
    let mut out = counts_view(&p.counts);
    out["warnings"] = json!(p.warnings);
    out
}

/// The campaign and what its maker should know.
fn checked_view(c: &Checked) -> Value {
    let mut out = campaign_view(&c.campaign);
    out["warnings"] = json!(c.warnings);
    out["holders"] = json!(c.holders);
    out["holdout"] = json!(holdout::expected(c.holders, c.campaign.holdout_percent));
    out
}

fn counts_view(c: &SegmentCounts) -> Value {
    json!({
        "matching": c.matching,
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
        "test_card_number": c.test_card_number,
        "reject_reason": c.reject_reason,
        "holdout_percent": c.holdout_percent,
        "conversion_days": c.conversion_days,
        "offer_id": c.offer_id,
        "offer_issued_at": c.offer_issued_at.map(rfc),
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
        "holdout": s.holdout,
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
