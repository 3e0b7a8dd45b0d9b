//! The audit log over HTTP: `GET /api/v1/audit` (newest first; `?object_kind=`, `?object_id=`,
//! `?store_id=`, `?before=` the previous page's last id, `?limit=`), for head office's admins.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::QueryParams;
use super::views::rfc3339;
use crate::access::{Actor, Area};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::AuditQuery;

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/audit", get(list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    object_kind: Option<String>,
    object_id: Option<String>,
    store_id: Option<String>,
    action: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
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
    let query = AuditQuery {
        object_kind: q.object_kind,
        object_id: q.object_id,
        store_id: q.store_id,
        action: q.action,
        before_id: q.before,
        limit,
    };
    let records = state.store.audit_log(&query).await?;
    let next = (records.len() as i64 == limit).then(|| records.last().map(|r| r.id)).flatten();
    let items: Vec<Value> = records
        .iter()
        .map(|r| {
            let e = &r.entry;
            json!({
                "id": r.id, "at": rfc3339(r.at), "actor": e.actor, "role": e.role, "action": e.action,
                "object_kind": e.object_kind, "object_id": e.object_id, "store_id": e.store_id, "detail": e.detail,
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_before": next})))
}
