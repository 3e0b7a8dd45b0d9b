//! Offers over HTTP: creation, changes before the first issue, lists, head office's approval
//! of a store's offer, issues, what the till sees of a holder's offers, redemption and its
//! reversal. The rules are in `crate::offers`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::decision::{DecisionBody, OptionalReason};
use super::extract::{JsonBody, QueryParams};
use super::views::{self, rfc3339};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::loyalty::members;
use crate::offers::issue::IssueRequest;
use crate::offers::redeem::{RedeemRequest, Redeemed};
use crate::offers::{OfferRequest, instance_status};
use crate::store::{OfferInstanceRecord, OfferRecord, RedemptionRecord, now_ms};

const MAX_PAGE: i64 = 200;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/offers", get(list).post(create))
        .route("/api/v1/offers/redeem", post(redeem))
        .route("/api/v1/offers/redemptions/{id}/reverse", post(reverse))
        .route("/api/v1/offers/{id}", get(show).patch(change))
        .route("/api/v1/offers/{id}/approve", post(approve))
        .route("/api/v1/offers/{id}/reject", post(reject))
        .route("/api/v1/offers/{id}/issue", post(issue))
        .route("/api/v1/members/{id}/offers", get(member_offers))
}

/// The offer object of the API.
pub fn offer_view(o: &OfferRecord) -> Value {
    json!({
        "id": o.id,
        "status": o.status,
        "store_id": o.store_id,
        "title": o.title,
        "description": o.description,
        "terms": o.terms,
        "reward": o.reward,
        "valid_from": rfc3339(o.valid_from),
        "valid_until": rfc3339(o.valid_until),
        "stores": o.stores,
        "max_per_holder": o.max_per_holder,
        "max_redemptions": o.max_redemptions,
        "issued": o.issued,
        "redeemed": o.redeemed,
        "first_issued_at": o.first_issued_at.map(rfc3339),
        "reject_reason": o.reject_reason,
        "created_by": o.created_by,
        "created_at": rfc3339(o.created_at),
        "updated_at": rfc3339(o.updated_at),
    })
}

/// A holder's instance as the till sees it.
pub async fn instance_view(state: &AppState, i: &OfferInstanceRecord, o: &OfferRecord, now: i64) -> Result<Value> {
    let pass = match &i.pass_serial {
        Some(serial) => state.store.pass(serial).await?,
        None => None,
    };
    Ok(json!({
        "instance_id": i.id,
        "code": i.code,
        "status": instance_status(i, o, now),
        "offer_id": o.id,
        "title": o.title,
        "reward": o.reward,
        "valid_from": rfc3339(o.valid_from),
        "valid_until": rfc3339(o.valid_until),
        "stores": o.stores,
        "pass": pass.as_ref().map(|p| views::pass_ref(state, p)),
    }))
}

/// A redemption object of the API.
pub fn redemption_view(r: &RedemptionRecord) -> Value {
    json!({
        "id": r.id,
        "instance_id": r.instance_id,
        "offer_id": r.offer_id,
        "member_id": r.member_id,
        "store_id": r.store_id,
        "receipt_id": r.receipt_id,
        "receipt_number": r.receipt_number,
        "redeemed_at": rfc3339(r.redeemed_at),
        "reversed_at": r.reversed_at.map(rfc3339),
    })
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<OfferRequest>,
) -> Result<(StatusCode, Json<Value>)> {
    let offer = state.offers.create(&actor, body).await?;
    Ok((StatusCode::CREATED, Json(offer_view(&offer))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Value>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!("limit must be between 1 and {MAX_PAGE}"), "limit"));
    }
    let items = state.offers.list(&actor, q.status.as_deref(), q.cursor.as_deref(), limit).await?;
    let next = (items.len() as i64 == limit).then(|| items.last().map(|o| o.id.clone())).flatten();
    Ok(Json(json!({"items": items.iter().map(offer_view).collect::<Vec<_>>(), "next_cursor": next})))
}

async fn show(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(offer_view(&state.offers.get(&actor, &id).await?)))
}

async fn change(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<OfferRequest>,
) -> Result<Json<Value>> {
    Ok(Json(offer_view(&state.offers.change(&actor, &id, body).await?)))
}

async fn approve(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    OptionalReason(comment): OptionalReason,
) -> Result<Json<Value>> {
    Ok(Json(offer_view(&state.offers.approve(&actor, &id, comment).await?)))
}

async fn reject(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<Value>> {
    Ok(Json(offer_view(&state.offers.reject(&actor, &id, body.reason).await?)))
}

async fn issue(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<IssueRequest>,
) -> Result<Json<Value>> {
    let issued = state.offers.issue(&actor, &id, body).await?;
    Ok(Json(json!({
        "issue_id": issued.issue_id,
        "offer_id": id,
        "issued": issued.counts.issued,
        "holdout": issued.counts.holdout,
        "skipped": issued.counts.skipped,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberOffersQuery {
    status: Option<String>,
}

/// The holder's offers, so a shopper who shows only the loyalty card can use them.
pub async fn live_offers(state: &AppState, actor: &Actor, member_id: &str, status: Option<&str>) -> Result<Vec<Value>> {
    let now = now_ms();
    let mut items = Vec::new();
    for (instance, offer) in state.offers.of_member(actor, member_id, status).await? {
        items.push(instance_view(state, &instance, &offer, now).await?);
    }
    Ok(items)
}

async fn member_offers(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<MemberOffersQuery>,
) -> Result<Json<Value>> {
    members::get_as(&state.loyalty, &actor, &id).await?;
    let items = live_offers(&state, &actor, &id, q.status.as_deref()).await?;
    Ok(Json(json!({"member_id": id, "items": items})))
}

fn redeemed_view(state: &AppState, r: &Redeemed) -> Value {
    let mut out = redemption_view(&r.redemption);
    out["pass"] = json!(r.pass.as_ref().map(|p| views::pass_ref(state, p)));
    out
}

async fn redeem(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<RedeemRequest>,
) -> Result<(StatusCode, Json<Value>)> {
    let done = state.offers.redeem(&actor, body).await?;
    let mut out = redeemed_view(&state, &done);
    if let Some(offer) = state.store.offer(&done.redemption.offer_id).await? {
        out["reward"] = offer.reward.clone();
        out["title"] = offer.title.clone();
    }
    Ok((StatusCode::CREATED, Json(out)))
}

async fn reverse(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    let done = state.offers.reverse(&actor, &id).await?;
    Ok(Json(redeemed_view(&state, &done)))
}
