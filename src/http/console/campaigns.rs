//! `/console/campaigns`: the list (by status), a campaign's page (a draft opens in the
//! composer; otherwise its live progress and history), the confirmation before sending, and
//! cancelling. Through `campaigns::Campaigns`, as the API.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::composer::{self, LANGUAGES};
use super::members::refused;
use super::pages::{self, when};
use super::session::{Form, NoFields, Signed};
use crate::campaigns::service::STATUSES;
use crate::http::AppState;
use crate::store::{CampaignRecord, CampaignStats};

const PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

fn row(c: &CampaignRecord) -> Value {
    json!({"id": c.id, "name": c.name, "status": c.status, "scope": c.scope, "created": when(c.created_at),
           "send_at": c.send_at.map(when), "finished": c.finished_at.map(when)})
}

pub async fn list(State(state): State<Arc<AppState>>, signed: Signed, Query(q): Query<ListQuery>) -> Response {
    let status = q.status.filter(|s| !s.is_empty());
    let found = match state.campaigns.list(&signed.actor, status.as_deref(), None, PAGE).await {
        Ok(found) => found,
        Err(e) => return refused(&signed, e),
    };
    let ctx = json!({
        "campaigns": found.iter().map(row).collect::<Vec<_>>(),
        "status": status,
        "statuses": STATUSES,
    });
    pages::render(&signed, "campaigns.html", "campaigns", ctx)
}

/// Progress as the page and its refresh script show it.
fn progress(stats: &CampaignStats) -> Value {
    let counter = |name: &str| stats.counters.get(name).copied().unwrap_or(0);
    let rejected: i64 = stats.counters.iter().filter(|(k, _)| k.starts_with("apple.rejected")).map(|(_, v)| v).sum();
    json!({
        "targeted": stats.targeted, "holdout": stats.holdout, "sent": stats.sent, "pending": stats.pending, "fetched": stats.fetched,
        "apple_accepted": counter("apple.accepted"), "apple_rejected": rejected,
        "google_accepted": counter("google.accepted"), "google_failed": counter("google.failed"),
        "google_pending": stats.google_pending, "held_back": stats.held_back,
    })
}

pub async fn show(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    let (campaign, stats) = match state.campaigns.stats(&signed.actor, &id).await {
        Ok(found) => found,
        Err(e) => return refused(&signed, e),
    };
    if campaign.status == "draft" {
        return composer::edit(&state, &signed, &campaign, None).await;
    }
    let history = match state.campaigns.history(&signed.actor, &id).await {
        Ok(h) => h,
        Err(e) => return refused(&signed, e),
    };
    let history: Vec<Value> = history
        .iter()
        .map(|e| json!({"at": when(e.at), "actor": e.entry.actor, "action": e.entry.action, "detail": e.entry.detail.to_string()}))
        .collect();
    let results = match campaign.started_at {
        Some(_) => match state.campaigns.results(&signed.actor, &id, false).await {
            Ok((campaign, figures)) => super::results::view(&campaign, &figures),
            Err(e) => return refused(&signed, e),
        },
        None => Value::Null,
    };
    let ctx = json!({
        "c": row(&campaign),
        "results": results,
        "holdout_percent": campaign.holdout_percent,
        "segment": campaign.segment,
        "messages": campaign.messages,
        "reject_reason": campaign.reject_reason,
        "progress": progress(&stats),
        "history": history,
        "cancellable": matches!(campaign.status.as_str(), "pending_approval" | "approved" | "sending"),
        "live": matches!(campaign.status.as_str(), "approved" | "sending") || stats.google_pending > 0,
        "google": state.google.is_some() || stats.google_pending > 0,
        "offer_id": campaign.offer_id,
    });
    pages::render(&signed, "campaign.html", "campaigns", ctx)
}

/// The figures alone, for the page's refresh script.
pub async fn progress_json(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    match state.campaigns.stats(&signed.actor, &id).await {
        Ok((campaign, stats)) => Json(json!({"status": campaign.status, "progress": progress(&stats)})).into_response(),
        Err(e) => refused(&signed, e),
    }
}

/// What sending will do, said again before it is done.
pub async fn confirm(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    let campaign = match state.campaigns.get(&signed.actor, &id).await {
        Ok(c) if c.status == "draft" => c,
        Ok(_) => return Redirect::to(&format!("/console/campaigns/{id}")).into_response(),
        Err(e) => return refused(&signed, e),
    };
    let scope = Some(campaign.scope.as_str());
    let preview = state.campaigns.preview(&signed.actor, &campaign.segment, scope, Some(&campaign.messages)).await;
    let reach = match preview {
        Ok(p) => composer::reach_view(signed.lang, &p, campaign.holdout_percent),
        Err(e) => return refused(&signed, e),
    };
    let messages: Vec<Value> =
        LANGUAGES.iter().filter_map(|l| campaign.messages.get(*l).map(|t| json!({"lang": l, "text": t}))).collect();
    let ctx = json!({
        "c": row(&campaign), "segment": campaign.segment, "reach": reach, "messages": messages,
        "hq": signed.actor.own_store().is_none(),
    });
    pages::render(&signed, "confirm.html", "campaigns", ctx)
}

/// Sends (HQ) or submits for approval (a store manager), after the confirmation.
pub async fn submit(State(state): State<Arc<AppState>>, Path(id): Path<String>, form: Form<NoFields>) -> Response {
    let Form { signed, fields: NoFields {} } = form;
    match state.campaigns.submit(&signed.actor, &id).await {
        Ok(_) => Redirect::to(&format!("/console/campaigns/{id}")).into_response(),
        Err(e) => refused(&signed, e),
    }
}

pub async fn cancel(State(state): State<Arc<AppState>>, Path(id): Path<String>, form: Form<NoFields>) -> Response {
    let Form { signed, fields: NoFields {} } = form;
    match state.campaigns.cancel(&signed.actor, &id).await {
        Ok(_) => Redirect::to(&format!("/console/campaigns/{id}")).into_response(),
        Err(e) => refused(&signed, e),
    }
}
