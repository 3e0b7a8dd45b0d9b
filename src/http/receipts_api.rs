//! Admin API for till receipts: `POST /api/v1/receipts`, lookup by number for returns
//! (`GET /api/v1/receipts/{number}`, `?store_id=` when two stores used the same number) and
//! a member's receipts for apps (`GET /api/v1/members/{id}/receipts`, newest first).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{JsonBody, QueryParams};
use super::views::{self, rfc3339};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::loyalty::members;
use crate::receipts::{self, NewReceipt};
use crate::store::ReceiptRecord;

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/receipts", post(create))
        .route("/api/v1/receipts/{number}", get(lookup))
        .route("/api/v1/members/{id}/receipts", get(member_receipts))
}

/// The receipt object of the API.
async fn receipt_view(state: &AppState, r: &ReceiptRecord) -> Result<Value> {
    let pass = state.store.pass(&r.pass_serial).await?;
    let redemptions = state.store.receipt_redemptions(&r.id).await?;
    Ok(json!({
        "id": r.id,
        "receipt_number": r.receipt_number,
        "kind": r.kind,
        "barcode": state.receipts.barcode(&r.store_id, &r.receipt_number)?,
        "store_id": r.store_id,
        "issued_at": r.body.get("issued_at").cloned().unwrap_or_else(|| Value::from(rfc3339(r.issued_at))),
        "member_id": r.member_id,
        "lines": r.body.get("lines").cloned().unwrap_or(Value::Null),
        "totals": r.body.get("totals").cloned().unwrap_or(Value::Null),
        "payment": r.body.get("payment").cloned().unwrap_or(Value::Null),
        "idempotency_key": r.idempotency_key,
        "pass": pass.as_ref().map(|p| views::pass_ref(state, p)),
        "offers_redeemed": redemptions.iter().map(super::offers_api::redemption_view).collect::<Vec<_>>(),
        "created_at": rfc3339(r.created_at),
    }))
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<NewReceipt>,
) -> Result<(StatusCode, Json<Value>)> {
    let posted = receipts::post(&state.receipts, &actor, body).await?;
    let status = if posted.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(receipt_view(&state, &posted.receipt).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupQuery {
    store_id: Option<String>,
}

async fn lookup(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(number): Path<String>,
    QueryParams(q): QueryParams<LookupQuery>,
) -> Result<Json<Value>> {
    let receipt = receipts::by_barcode_or_number(&state.receipts, &actor, &number, q.store_id.as_deref()).await?;
    Ok(Json(receipt_view(&state, &receipt).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
}

async fn member_receipts(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Value>> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!("limit must be between 1 and {MAX_PAGE}"), "limit"));
    }
    members::get_as(&state.loyalty, &actor, &id).await?;
    let page = receipts::of_member(&state.receipts, &actor, &id, limit).await?;
    let mut items = Vec::with_capacity(page.len());
    for r in &page {
        items.push(receipt_view(&state, r).await?);
    }
    Ok(Json(json!({"member_id": id, "items": items})))
}
