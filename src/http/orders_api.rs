//! Admin API for click & collect orders: `POST /api/v1/orders`, `GET /api/v1/orders/{number}`
//! and `POST /api/v1/orders/{number}/status`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::JsonBody;
use super::views::{self, rfc3339};
use crate::access::Actor;
use crate::error::Result;
use crate::http::AppState;
use crate::orders::{self, NewOrder};
use crate::store::{OrderRecord, PassRecord};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/orders", post(create))
        .route("/api/v1/orders/{number}", get(show))
        .route("/api/v1/orders/{number}/status", post(set_status))
}

/// The order object of the API.
fn order_json(state: &AppState, o: &OrderRecord, pass: Option<&PassRecord>) -> Value {
    json!({
        "order_number": o.order_number,
        "store_id": o.store_id,
        "status": o.status,
        "customer": o.customer,
        "items": o.items,
        "pickup": {"from": rfc3339(o.pickup_from), "until": rfc3339(o.pickup_until)},
        "pass": pass.map(|p| views::pass_ref(state, p)),
        "created_at": rfc3339(o.created_at),
        "updated_at": rfc3339(o.updated_at),
    })
}

/// The order object, with its pass read from the store.
async fn order_view(state: &AppState, o: &OrderRecord) -> Result<Value> {
    let pass = match &o.pass_serial {
        Some(serial) => state.store.pass(serial).await?,
        None => None,
    };
    Ok(order_json(state, o, pass.as_ref()))
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<NewOrder>,
) -> Result<(StatusCode, Json<Value>)> {
    let (order, pass) = orders::create(&state.passes, &actor, body).await?;
    Ok((StatusCode::CREATED, Json(order_json(&state, &order, Some(&pass)))))
}

async fn show(State(state): State<Arc<AppState>>, actor: Actor, Path(number): Path<String>) -> Result<Json<Value>> {
    let order = orders::get(&state.passes, &actor, &number).await?;
    Ok(Json(order_view(&state, &order).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: Option<String>,
}

async fn set_status(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Json<Value>> {
    let (order, _) = orders::set_status(&state.passes, &actor, &number, body.status).await?;
    Ok(Json(order_view(&state, &order).await?))
}
