//! Admin API keys over HTTP: `POST/GET /api/v1/keys`, `DELETE /api/v1/keys/{id}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::JsonBody;
use super::views;
use crate::access::{Actor, Area};
use crate::error::Result;
use crate::http::AppState;
use crate::keys::{self, KeyGrant};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/keys", get(list).post(create)).route("/api/v1/keys/{id}", delete(revoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: Option<String>,
    /// `hq_admin` (default), `hq_marketer`, `store` or `store_manager`.
    role: Option<String>,
    /// The store of a store role.
    store_id: Option<String>,
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let grant = KeyGrant::parse(body.role.as_deref(), body.store_id.as_deref())?;
    let name = body.name.unwrap_or_else(|| grant.default_name());
    let (record, secret) = keys::create(state.store.as_ref(), Some(&actor), &name, &grant).await?;
    let mut out = views::api_key(&record);
    // The only time the key is shown.
    out["key"] = Value::String(secret.expose().to_owned());
    Ok((StatusCode::CREATED, Json(out)))
}

async fn list(State(state): State<Arc<AppState>>, actor: Actor) -> Result<Json<Value>> {
    actor.require(Area::Keys)?;
    let keys = state.store.list_api_keys().await?;
    Ok(Json(json!({"items": keys.iter().map(views::api_key).collect::<Vec<_>>()})))
}

async fn revoke(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<StatusCode> {
    actor.require(Area::Keys)?;
    keys::revoke(state.store.as_ref(), Some(&actor), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
