//! Google-facing routes: `POST /google/callback` (save and removal notices, signed by Google)
//! and `GET /assets/templates/{id}/{file}` (the images Google fetches for classes).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::extract::BodyBytes;
use crate::error::{Error, Result};
use crate::google::callback::{self, CallbackError, EventType};
use crate::http::AppState;
use crate::store::now_ms;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/google/callback", post(callback)).route("/assets/templates/{id}/{file}", get(asset))
}

async fn callback(State(state): State<Arc<AppState>>, BodyBytes(body): BodyBytes) -> Result<Response> {
    let google = state.google.as_ref().ok_or_else(|| Error::NotFound("Google Wallet is not configured".into()))?;
    let now = now_ms();
    let keys = match google.callback_keys.keys(now).await {
        Ok(k) => k,
        Err(e) => {
            // Our problem, not the sender's: Google retries on 5xx.
            tracing::warn!("Google callback keys unavailable: {e}");
            return Ok((
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"error": {"code": "keys_unavailable", "message": e.to_string()}})),
            )
                .into_response());
        }
    };
    let message = callback::verify(&body, &google.issuer_id, &keys, now).map_err(|e| match e {
        CallbackError::Expired(m) => Error::bad_request(format!("expired: {m}"), "signedMessage"),
        other => Error::bad_request(other.to_string(), "signature"),
    })?;
    let saved = message.event_type == EventType::Save;
    let fresh = state.store.record_google_callback(&message.nonce, &message.object_id, saved).await?;
    tracing::info!(object = %message.object_id, saved, replay = !fresh, "Google callback");
    Ok(StatusCode::OK.into_response())
}

async fn asset(State(state): State<Arc<AppState>>, Path((id, file)): Path<(String, String)>) -> Result<Response> {
    let found = state
        .templates
        .get(&id)
        .and_then(|t| t.files.iter().find(|f| f.path == file && f.path.ends_with(".png")).cloned())
        .ok_or_else(|| Error::NotFound("no such asset".into()))?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=3600")], found.bytes.to_vec())
        .into_response())
}
