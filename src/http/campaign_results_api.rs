//! A campaign's measured effect: `GET /api/v1/campaigns/{id}/results` (treated against holdout,
//! lift and its interval, per store with `?by=store`) and `GET …/recipients` (who is in which
//! group, paginated).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::QueryParams;
use super::views::rfc3339;
use crate::access::Actor;
use crate::campaigns::results::{Comparison, compare, compare_all, total, window};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::campaign_results::Group;
use crate::store::now_ms;

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/campaigns/{id}/results", get(results))
        .route("/api/v1/campaigns/{id}/recipients", get(recipients))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsQuery {
    /// `store`: one comparison per home store of the holders, beside the whole.
    by: Option<String>,
}

async fn results(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<ResultsQuery>,
) -> Result<Json<Value>> {
    let by_store = match q.by.as_deref() {
        None => false,
        Some("store") => true,
        Some(_) => return Err(Error::unprocessable("by must be \"store\"", "by")),
    };
    let (campaign, figures) = state.campaigns.results(&actor, &id, by_store).await?;
    let started_at = campaign.started_at.unwrap_or_default();
    let (_, closes_at) = window(started_at, campaign.conversion_days);
    let (treated, holdout) = total(&figures);
    let mut out = comparison_view(&compare(&treated, &holdout));
    out["campaign_id"] = json!(campaign.id);
    out["holdout_percent"] = json!(campaign.holdout_percent);
    out["conversion_days"] = json!(campaign.conversion_days);
    out["window_opens_at"] = json!(rfc3339(started_at));
    out["window_closes_at"] = json!(rfc3339(closes_at));
    out["window_open"] = json!(now_ms() < closes_at);
    if by_store {
        let stores: Vec<Value> = compare_all(&figures)
            .iter()
            .map(|(store, c)| {
                let mut one = comparison_view(c);
                one["store_id"] = json!(store);
                one
            })
            .collect();
        out["stores"] = json!(stores);
    }
    Ok(Json(out))
}

fn comparison_view(c: &Comparison) -> Value {
    json!({
        "treated": c.treated, "holdout": c.holdout, "lift": c.lift, "lift_ci95": c.lift_ci95,
        "incremental_revenue": c.incremental_revenue,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipientsQuery {
    group: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    limit: Option<i64>,
}

async fn recipients(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<RecipientsQuery>,
) -> Result<Json<Value>> {
    let group = match q.group.as_deref() {
        None => None,
        Some(text) => Some(
            Group::parse(text)
                .ok_or_else(|| Error::unprocessable("group must be \"treated\" or \"holdout\"", "group"))?,
        ),
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::unprocessable(format!("limit must be between 1 and {MAX_PAGE}"), "limit"));
    }
    let page = state.campaigns.recipients(&actor, &id, group, q.cursor.as_deref(), limit).await?;
    let next = (page.len() as i64 == limit).then(|| page.last().map(|r| r.member_id.clone())).flatten();
    let items: Vec<Value> = page
        .iter()
        .map(|r| {
            json!({
                "member_id": r.member_id, "card_number": r.card_number, "group": r.group.as_str(),
                "state": r.state, "held_rule": r.held_rule, "sent_at": r.sent_at.map(rfc3339),
                "fetched_at": r.fetched_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": next})))
}
