//! Admin API for flyer attribution: `GET /api/v1/flyers/{code}/stats`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::access::Actor;
use crate::error::Result;
use crate::http::AppState;
use crate::shops::flyers;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/flyers/{code}/stats", get(stats))
}

/// `{"scans", "signups", "apple_added", "google_added"}`: enrollment page views, members who
/// signed up from the flyer, and how many of their cards are on an iPhone or saved to Google Wallet.
async fn stats(State(state): State<Arc<AppState>>, actor: Actor, Path(code): Path<String>) -> Result<Json<Value>> {
    let flyer = flyers::find_for(state.store.as_ref(), &actor, &code).await?;
    let s = state.store.flyer_stats(&flyer.code).await?;
    Ok(Json(json!({
        "code": flyer.code,
        "scans": s.scans,
        "signups": s.signups,
        "apple_added": s.apple_added,
        "google_added": s.google_added,
    })))
}
