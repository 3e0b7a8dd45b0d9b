//! Public pass links for shoppers: `/p/{token}` (an HTML page) and `/p/{token}/pass.pkpass`.
//! The token is random and unguessable; no API key is needed.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::{pages, views};
use crate::apple::PKPASS_CONTENT_TYPE;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::PassRecord;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/p/{token}", get(page)).route("/p/{token}/pass.pkpass", get(download))
}

async fn find(state: &AppState, token: &str) -> Result<PassRecord> {
    let valid = (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit());
    let pass = if valid { state.store.pass_by_share_token(token).await? } else { None };
    pass.ok_or_else(|| Error::NotFound("no such pass".into()))
}

async fn download(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Result<Response> {
    let pass = find(&state, &token).await?;
    let body = state.passes.pkpass(&pass).await?;
    let disposition = format!("attachment; filename=\"{}.pkpass\"", pass.template);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(PKPASS_CONTENT_TYPE)),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|e| Error::Internal(e.into()))?),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

async fn page(State(state): State<Arc<AppState>>, Path(token): Path<String>, headers: HeaderMap) -> Result<Response> {
    let pass = find(&state, &token).await?;
    let template =
        state.templates.get(&pass.template).ok_or_else(|| anyhow::anyhow!("template {} is gone", pass.template))?;
    let rendered = template.validate_data(&pass.data).map(|d| template.render(&d)).unwrap_or_default();
    let text = |key: &str| rendered.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let lang = pages::language(&headers);
    let (add_apple, add_google, voided) = if lang == "fr" {
        ("Ajouter à Apple Wallet", "Enregistrer dans Google Wallet", "Cette carte n'est plus valable.")
    } else {
        ("Add to Apple Wallet", "Save to Google Wallet", "This pass is no longer valid.")
    };
    let (apple_pass_url, _) = state.passes.urls(&pass);
    let mut buttons = vec![json!({"kind": "apple", "href": apple_pass_url, "label": add_apple})];
    if let Some(google_url) = views::google_save_url(&state, &pass) {
        let google = json!({"kind": "google", "href": google_url, "label": add_google});
        // The visitor's own wallet first.
        if pages::is_android(&headers) {
            buttons.insert(0, google);
        } else {
            buttons.push(google);
        }
    }
    let html = pages::render(
        "pass.html",
        json!({
            "lang": lang,
            "t": {"voided": voided},
            "buttons": buttons,
            "title": text("organizationName"),
            "description": text("description"),
            "background": css_colour(&text("backgroundColor"), "#1b263b"),
            "foreground": css_colour(&text("foregroundColor"), "#ffffff"),
            "voided": pass.voided,
        }),
    )?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

/// Template colours are validated `rgb(r, g, b)`; anything else falls back (never raw into CSS).
fn css_colour(value: &str, fallback: &str) -> String {
    let ok = value.starts_with("rgb(")
        && value.ends_with(')')
        && value[4..value.len() - 1].chars().all(|c| c.is_ascii_digit() || c == ',' || c == ' ');
    if ok { value.to_owned() } else { fallback.to_owned() }
}
