//! Admin API of template publishing: `POST /api/v1/templates/{id}/publish`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::access::{Actor, Area};
use crate::error::{Error, Result};
use crate::http::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/templates/{id}/publish", post(publish))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    #[serde(default)]
    force: bool,
}

async fn publish(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    actor.require(Area::Templates)?;
    let template = state.templates.get(&id).ok_or_else(|| Error::NotFound(format!("no template {id:?}")))?;
    // The body is optional: `{"force": true}` publishes an unchanged design anyway.
    let body: PublishBody = if body.iter().all(u8::is_ascii_whitespace) {
        PublishBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::BadRequest { message: e.to_string(), field: None })?
    };
    let force = body.force;
    let report =
        crate::publish::publish(state.store.as_ref(), template, state.config.templates.publish_batch_size, force)
            .await?;
    Ok(Json(serde_json::to_value(report).map_err(|e| Error::Internal(e.into()))?))
}
