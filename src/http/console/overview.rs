//! `/console`: the overview, head office's figures or a store manager's own store's.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::i18n;
use super::pages;
use super::session::Signed;
use crate::http::AppState;
use crate::store::now_ms;

const WEEK_MS: i64 = 7 * 86_400_000;

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

pub async fn show(State(state): State<Arc<AppState>>, mut signed: Signed, Query(q): Query<PageQuery>) -> Response {
    if let Some(lang @ ("en" | "fr")) = q.lang.as_deref() {
        signed.lang = if lang == "fr" { "fr" } else { "en" };
    }
    let store_id = signed.actor.own_store().map(str::to_owned);
    let counts = match state.store.overview_counts(store_id.as_deref(), now_ms() - WEEK_MS).await {
        Ok(c) => c,
        Err(e) => return crate::error::Error::Internal(e).into_response(),
    };
    let mut figures = vec![
        json!({"key": "members_total", "value": counts.members}),
        json!({"key": "signups_7d", "value": counts.new_members}),
        json!({"key": "apple_cards", "value": counts.apple_cards}),
        json!({"key": "google_cards", "value": counts.google_cards}),
    ];
    figures.push(json!({"key": "waiting_approval", "value": counts.pending_approvals}));
    let scope = match &store_id {
        Some(store) => i18n::text(signed.lang, "scope_store").replace("{store}", store),
        None => i18n::text(signed.lang, "scope_all"),
    };
    // The language switch's cookie is set for every console page (`console::router`).
    pages::render(&signed, "overview.html", "overview", json!({"figures": figures, "scope": scope}))
}
