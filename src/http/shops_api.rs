//! Admin API for shops ("stores" on the wire): `POST/GET /api/v1/stores`, `GET/PATCH /api/v1/stores/{id}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{JsonBody, QueryParams};
use super::views::rfc3339;
use crate::access::{Actor, Area};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::shops;
use crate::store::{NewShop, ShopChange, ShopRecord};

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/stores", get(list).post(create)).route("/api/v1/stores/{id}", get(show).patch(change))
}

/// The store object of the admin API.
pub fn view(s: &ShopRecord) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "address": s.address,
        "latitude": s.latitude,
        "longitude": s.longitude,
        "timezone": s.timezone,
        "created_at": rfc3339(s.created_at),
        "updated_at": rfc3339(s.updated_at),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    id: String,
    name: String,
    address: Option<String>,
    latitude: f64,
    longitude: f64,
    timezone: String,
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(b): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    actor.require(Area::Shops)?;
    let new = NewShop {
        id: b.id,
        name: b.name,
        address: b.address,
        latitude: b.latitude,
        longitude: b.longitude,
        timezone: b.timezone,
    };
    let store = shops::create(state.store.as_ref(), new).await?;
    Ok((StatusCode::CREATED, Json(view(&store))))
}

async fn show(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    actor.require(Area::Shops)?;
    let store = if shops::valid_id(&id) { state.store.shop(&id).await? } else { None };
    Ok(Json(view(&store.ok_or_else(|| shops::not_found(&id))?)))
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Value>> {
    actor.require(Area::Shops)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!("limit must be between 1 and {MAX_PAGE}"), "limit"));
    }
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            hex::decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| Error::bad_request("cursor must be a next_cursor this API returned", "cursor"))?,
        ),
    };
    let page = state.store.list_shops(after.as_deref(), limit).await?;
    let next_cursor = (page.len() as i64 == limit).then(|| page.last().map(|s| hex::encode(&s.id))).flatten();
    let items: Vec<Value> = page.iter().map(view).collect();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    address: Option<Option<String>>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    timezone: Option<String>,
}

async fn change(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ChangeBody>,
) -> Result<Json<Value>> {
    actor.require(Area::Shops)?;
    let change = ShopChange {
        name: b.name,
        address: b.address,
        latitude: b.latitude,
        longitude: b.longitude,
        timezone: b.timezone,
    };
    if change.name.is_none()
        && change.address.is_none()
        && change.latitude.is_none()
        && change.longitude.is_none()
        && change.timezone.is_none()
    {
        return Err(Error::bad_request("send at least one of name, address, latitude, longitude, timezone", "name"));
    }
    let store = shops::change(state.store.as_ref(), &id, change).await?;
    Ok(Json(view(&store)))
}
