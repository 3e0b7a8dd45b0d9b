//! Admin API keys over HTTP: `POST/GET /api/v1/keys`, `DELETE /api/v1/keys/{id}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{AdminKey, JsonBody};
use super::views;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::keys::{self, KeyScope};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/keys", get(list).post(create)).route("/api/v1/keys/{id}", delete(revoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: Option<String>,
    /// `hq` (default) or `store:<id>`.
    scope: Option<String>,
}

async fn create(
    State(state): State<Arc<AppState>>,
    _key: AdminKey,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let scope = match body.scope.as_deref() {
        None => KeyScope::Hq,
        Some(text) => KeyScope::parse(text)
            .ok_or_else(|| Error::unprocessable("scope must be \"hq\" or \"store:<store id>\"", "scope"))?,
    };
    let name = body.name.unwrap_or_else(|| scope.to_string());
    let (record, secret) = keys::create(state.store.as_ref(), &name, &scope).await?;
    let mut out = views::api_key(&record);
    // The only time the key is shown.
    out["key"] = Value::String(secret.expose().to_owned());
    Ok((StatusCode::CREATED, Json(out)))
}

async fn list(State(state): State<Arc<AppState>>, _key: AdminKey) -> Result<Json<Value>> {
    let keys = state.store.list_api_keys().await?;
    Ok(Json(json!({"items": keys.iter().map(views::api_key).collect::<Vec<_>>()})))
}

async fn revoke(State(state): State<Arc<AppState>>, _key: AdminKey, Path(id): Path<String>) -> Result<StatusCode> {
    if state.store.revoke_api_key(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound(format!("no active key {id:?}")))
    }
}
