//! `/console/approvals` (head office): stores' campaigns waiting for a decision, each with its
//! reach now; approve, or reject with a reason (beside the form when missing).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::composer;
use super::members::refused;
use super::pages::{self, when};
use super::session::{Form, Signed};
use crate::access::Area;
use crate::error::Error;
use crate::http::AppState;

async fn page(state: &AppState, signed: &Signed, error: Option<(String, String)>) -> Response {
    if let Err(e) = signed.actor.require(Area::Approvals) {
        return refused(signed, e);
    }
    let waiting = match state.campaigns.list(&signed.actor, Some("pending_approval"), None, 100).await {
        Ok(w) => w,
        Err(e) => return refused(signed, e),
    };
    let mut items = Vec::with_capacity(waiting.len());
    for c in &waiting {
        let reach = state
            .campaigns
            .preview(&signed.actor, &c.segment, Some(&c.scope), Some(&c.messages))
            .await
            .map(|p| composer::reach_view(signed.lang, &p, c.holdout_percent))
            .unwrap_or(Value::Null);
        let error = error.as_ref().filter(|(id, _)| *id == c.id).map(|(_, m)| m.clone());
        items.push(json!({
            "id": c.id, "name": c.name, "store": c.scope.strip_prefix("store:").unwrap_or(&c.scope),
            "segment": c.segment, "messages": c.messages, "send_at": c.send_at.map(when),
            "created": when(c.created_at), "reach": reach, "error": error,
        }));
    }
    let mut resp = pages::render(signed, "approvals.html", "approvals", json!({"items": items}));
    if error.is_some() {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    resp
}

pub async fn show(State(state): State<Arc<AppState>>, signed: Signed) -> Response {
    page(&state, &signed, None).await
}

#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide(State(state): State<Arc<AppState>>, Path(id): Path<String>, form: Form<Decision>) -> Response {
    let Form { signed, fields } = form;
    let reason = Some(fields.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let decided = match fields.decision.as_str() {
        "approve" => state.campaigns.approve(&signed.actor, &id, reason).await,
        _ => state.campaigns.reject(&signed.actor, &id, reason).await,
    };
    match decided {
        Ok(_) => Redirect::to("/console/approvals").into_response(),
        Err(Error::Unprocessable { message, .. }) => page(&state, &signed, Some((id, message))).await,
        Err(e) => refused(&signed, e),
    }
}
