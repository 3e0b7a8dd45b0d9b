//! Admin API for passes: `POST/GET /api/v1/passes`, `GET/PATCH/DELETE /api/v1/passes/{serial}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::extract::{JsonBody, QueryParams};
use super::views;
use crate::access::{Actor, Area};
use crate::campaigns::requests::check_message_text;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::passes;
use crate::store::PassQuery;

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/passes", get(list).post(create))
        .route("/api/v1/passes/{serial}", get(show).patch(change).delete(void))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    template: String,
    data: Value,
    serial_number: Option<String>,
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    actor.require(Area::Operations)?;
    let pass = state.passes.create(&body.template, body.data, body.serial_number).await?;
    Ok((StatusCode::CREATED, Json(views::pass(&state, &pass))))
}

async fn show(State(state): State<Arc<AppState>>, actor: Actor, Path(serial): Path<String>) -> Result<Json<Value>> {
    actor.require(Area::Operations)?;
    let pass = state.store.pass(&serial).await?.ok_or_else(|| passes::not_found(&serial))?;
    Ok(Json(views::pass(&state, &pass)))
}

#[derive(Deserialize)]
struct ListQuery {
    template: Option<String>,
    updated_since: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Value>> {
    actor.require(Area::Operations)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!("limit must be between 1 and {MAX_PAGE}"), "limit"));
    }
    let updated_since = match q.updated_since.as_deref() {
        None => None,
        Some(s) => Some(
            OffsetDateTime::parse(s, &Rfc3339)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .map_err(|_| Error::bad_request("updated_since must be an RFC 3339 date-time", "updated_since"))?,
        ),
    };
    let after_serial = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            hex::decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| Error::bad_request("cursor must be a next_cursor this API returned", "cursor"))?,
        ),
    };
    let query = PassQuery { template: q.template, updated_since, after_serial, limit };
    let page = state.store.list_passes(&query).await?;
    let next_cursor =
        (page.len() as i64 == limit).then(|| page.last().map(|p| hex::encode(&p.serial_number))).flatten();
    let items: Vec<Value> = page.iter().map(|p| views::pass(&state, p)).collect();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    data: Option<Map<String, Value>>,
    message: Option<String>,
}

async fn change(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(serial): Path<String>,
    JsonBody(body): JsonBody<ChangeBody>,
) -> Result<Json<Value>> {
    actor.require(Area::Operations)?;
    if body.data.is_none() && body.message.is_none() {
        return Err(Error::bad_request("send data and/or message", "data"));
    }
    if let Some(message) = &body.message {
        check_message_text(message, state.config.campaigns.message_max_chars, "message")?;
    }
    let pass = state.passes.change(&serial, body.data, body.message).await?;
    Ok(Json(views::pass(&state, &pass)))
}

async fn void(State(state): State<Arc<AppState>>, actor: Actor, Path(serial): Path<String>) -> Result<Json<Value>> {
    actor.require(Area::Operations)?;
    let pass = state.passes.void(&serial).await?;
    Ok(Json(views::pass(&state, &pass)))
}
