//! Admin API for loyalty members: `POST/GET /api/v1/members`, `GET/PATCH /api/v1/members/{id}`,
//! and the till's `POST/GET /api/v1/members/{id}/points`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{JsonBody, QueryParams};
use super::views::{self, rfc3339};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::loyalty::members::{self, MemberPatch, NewMember};
use crate::store::{LedgerRecord, MemberRecord, PassRecord, PointsEntry};

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/members", get(find).post(create))
        .route("/api/v1/members/{id}", get(show).patch(change))
        .route("/api/v1/members/{id}/points", get(history).post(add_points))
}

/// The member object of the API.
fn member_json(state: &AppState, m: &MemberRecord, pass: Option<&PassRecord>) -> Value {
    json!({
        "id": m.id,
        "card_number": m.card_number,
        "first_name": m.first_name,
        "last_name": m.last_name,
        "email": m.email,
        "email_verified": m.email_verified,
        "phone": m.phone,
        "phone_verified": m.phone_verified,
        "birthday": m.birthday,
        "language": m.language,
        "home_store_id": m.home_store_id,
        "points": m.points,
        "tier": m.tier,
        "tier_manual": m.tier_manual.is_some(),
        "consent": {
            "terms": m.consent_terms,
            "marketing": m.consent_marketing,
            "version": m.consent_version,
            "at": m.consent_at.map(rfc3339),
        },
        "attributes": m.attributes,
        "source": {"flyer": m.source_flyer, "store": m.source_store, "channel": m.source_channel},
        "pass": pass.map(|p| views::pass_ref(state, p)),
        "created_at": rfc3339(m.created_at),
        "updated_at": rfc3339(m.updated_at),
    })
}

/// The member object, with their pass read from the store.
async fn member_view(state: &AppState, m: &MemberRecord) -> Result<Value> {
    let pass = match &m.pass_serial {
        Some(serial) => state.store.pass(serial).await?,
        None => None,
    };
    Ok(member_json(state, m, pass.as_ref()))
}

fn ledger_json(e: &LedgerRecord) -> Value {
    json!({
        "id": e.id,
        "delta": e.delta,
        "reason": e.reason,
        "store_id": e.store_id,
        "idempotency_key": e.idempotency_key,
        "balance_after": e.balance_after,
        "tier_after": e.tier_after,
        "created_at": rfc3339(e.created_at),
    })
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(body): JsonBody<NewMember>,
) -> Result<(StatusCode, Json<Value>)> {
    let (member, pass) = members::create(&state.loyalty, &actor, body).await?;
    Ok((StatusCode::CREATED, Json(member_json(&state, &member, Some(&pass)))))
}

async fn show(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    let member = members::get_as(&state.loyalty, &actor, &id).await?;
    Ok(Json(member_view(&state, &member).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindQuery {
    email: Option<String>,
    phone: Option<String>,
    card_number: Option<String>,
}

async fn find(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(q): QueryParams<FindQuery>,
) -> Result<Json<Value>> {
    // A till that scanned the card sees the holder's live offers with the member.
    let by_card = q.card_number.is_some() && actor.reach(crate::access::Area::Offers) != crate::access::Reach::None;
    let found = members::find(&state.loyalty, &actor, q.email, q.phone, q.card_number).await?;
    let mut items = Vec::with_capacity(found.len());
    for m in &found {
        let mut view = member_view(&state, m).await?;
        if by_card {
            view["offers"] = json!(super::offers_api::live_offers(&state, &actor, &m.id, Some("live")).await?);
        }
        items.push(view);
    }
    Ok(Json(json!({"items": items})))
}

async fn change(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<MemberPatch>,
) -> Result<Json<Value>> {
    let member = members::change(&state.loyalty, &actor, &id, patch).await?;
    Ok(Json(member_view(&state, &member).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsBody {
    delta: Option<i64>,
    reason: Option<String>,
    store_id: Option<String>,
    idempotency_key: Option<String>,
}

async fn add_points(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PointsBody>,
) -> Result<Json<Value>> {
    let delta =
        body.delta.ok_or_else(|| Error::unprocessable("delta (a whole number of points) is required", "delta"))?;
    let entry =
        PointsEntry { delta, reason: body.reason, store_id: body.store_id, idempotency_key: body.idempotency_key };
    let outcome = members::add_points(&state.loyalty, &actor, &id, entry).await?;
    Ok(Json(json!({
        "member_id": id,
        "points": outcome.entry.balance_after,
        "tier": outcome.entry.tier_after,
        "replayed": outcome.replayed,
        "entry": ledger_json(&outcome.entry),
    })))
}

#[derive(Deserialize)]
struct HistoryQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn history(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<HistoryQuery>,
) -> Result<Json<Value>> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!("limit must be between 1 and {MAX_PAGE}"), "limit"));
    }
    let before_id = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| Error::bad_request("cursor must be a next_cursor this API returned", "cursor"))?,
        ),
    };
    members::get_as(&state.loyalty, &actor, &id).await?;
    let page = state.store.points_history(&id, before_id, limit).await?;
    let next_cursor = (page.len() as i64 == limit).then(|| page.last().map(|e| e.id.to_string())).flatten();
    let items: Vec<Value> = page.iter().map(ledger_json).collect();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}
