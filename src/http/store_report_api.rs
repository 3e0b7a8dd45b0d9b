//! The store report: `GET /api/v1/reports/stores?from=&to=`, one row per store the caller may
//! see (head office: every store; a store key or manager: its own).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::QueryParams;
use super::views::rfc3339;
use crate::access::Actor;
use crate::campaigns::results::compare;
use crate::error::Result;
use crate::http::AppState;
use crate::shops::report;
use crate::store::{StoreFigures, now_ms};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/reports/stores", get(stores))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn stores(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> Result<Json<Value>> {
    let period = report::period(q.from.as_deref(), q.to.as_deref(), now_ms())?;
    let rows = report::store_report(state.store.as_ref(), &actor, period).await?;
    Ok(Json(json!({
        "from": rfc3339(period.from),
        "to": rfc3339(period.to),
        "stores": rows.iter().map(row).collect::<Vec<_>>(),
    })))
}

fn row(f: &StoreFigures) -> Value {
    // The local campaigns' groups pooled: lift as one campaign's results would give it.
    let c = compare(&f.treated, &f.holdout);
    let group = |g: &crate::store::campaign_results::GroupFigures| json!({"holders": g.holders, "buyers": g.buyers});
    json!({
        "store_id": f.store_id,
        "name": f.name,
        "signups": f.signups,
        "holders": f.holders,
        "campaigns": {"local": f.local_campaigns, "hq": f.hq_campaigns},
        "local_groups": {"treated": group(&f.treated), "holdout": group(&f.holdout)},
        "lift": c.lift,
        "lift_ci95": c.lift_ci95,
        "offers_redeemed": f.offers_redeemed,
        "revenue": f.revenue,
    })
}
