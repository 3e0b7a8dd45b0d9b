//! `/`: the site's landing page, public, in the shoppers' pages' style: a link to the console
//! and, while the signing certificate is the demo one, to the demo passes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use super::{i18n, session};
use crate::error::Error;
use crate::http::AppState;

pub async fn show(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let lang = session::language(&headers, None);
    let t = i18n::texts(lang);
    // Passes signed with a retailer's own certificate are never handed out (see `http::demo`).
    let demo: Vec<Value> = if state.passes.builder.identity().is_demo() {
        state
            .templates
            .iter()
            .filter(|t| t.example.is_some())
            .map(|t| json!({"id": t.id, "name": t.definition.name}))
            .collect()
    } else {
        Vec::new()
    };
    let ctx = json!({"lang": lang, "title": t["landing_title"], "t": t, "demo": demo});
    match crate::http::join_pages::render("landing.html", ctx) {
        Ok(html) => {
            let mut resp = (StatusCode::OK, Html(html)).into_response();
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => Error::Internal(e).into_response(),
    }
}
