//! `/console/audit` (hq_admin): who did what, newest first: campaign transitions, head-office
//! overrides, cross-store reads, keys and users made or ended. Filter by kind; page back.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::members::refused;
use super::pages::{self, when};
use super::session::Signed;
use crate::access::Area;
use crate::error::Error;
use crate::http::AppState;
use crate::store::AuditQuery;

const PAGE: i64 = 100;
const KINDS: [&str; 6] = ["campaign", "member", "receipt", "key", "user", "order"];

#[derive(Deserialize)]
pub struct AuditPage {
    kind: Option<String>,
    before: Option<i64>,
}

pub async fn show(State(state): State<Arc<AppState>>, signed: Signed, Query(q): Query<AuditPage>) -> Response {
    if let Err(e) = signed.actor.require(Area::Operations) {
        return refused(&signed, e);
    }
    let kind = q.kind.filter(|k| KINDS.contains(&k.as_str()));
    let query = AuditQuery { object_kind: kind.clone(), before_id: q.before, limit: PAGE, ..Default::default() };
    let records = match state.store.audit_log(&query).await {
        Ok(r) => r,
        Err(e) => return Error::Internal(e).into_response(),
    };
    let next = (records.len() as i64 == PAGE).then(|| records.last().map(|r| r.id)).flatten();
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            let e = &r.entry;
            json!({"at": when(r.at), "actor": e.actor, "role": e.role, "action": e.action, "kind": e.object_kind,
                   "object": e.object_id, "store": e.store_id, "detail": e.detail.to_string()})
        })
        .collect();
    let ctx = json!({"rows": rows, "kind": kind, "kinds": KINDS, "next": next});
    pages::render(&signed, "audit.html", "audit", ctx)
}
