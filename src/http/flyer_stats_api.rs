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

/// `{"code", "scans", "unique_scans", "signups", "apple_added", "google_added", "buyers", "revenue"}`: enrollment page
/// views, visitors (once a day each), members who signed up from the flyer, and how many of
/// their cards are on an iPhone or saved to Google Wallet; `buyers` and `revenue` (per currency,
/// minor units): those members who bought (a sale, not a return) in their first 30 days, and
/// what they spent then.
async fn stats(State(state): State<Arc<AppState>>, actor: Actor, Path(code): Path<String>) -> Result<Json<Value>> {
    let (flyer, s) = flyers::stats_for(state.store.as_ref(), &actor, &code).await?;
    Ok(Json(json!({
        "code": flyer.code,
        "scans": s.scans,
        "unique_scans": s.unique_scans,
        "signups": s.signups,
        "apple_added": s.apple_added,
        "google_added": s.google_added,
        "buyers": s.buyers,
        "revenue": s.revenue,
    })))
}
