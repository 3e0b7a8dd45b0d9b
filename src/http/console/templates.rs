//! `/console/templates` (`Area::Templates`): each template with its pass drawn from its example
//! data (front and back, an Apple Wallet and a Google Wallet look-alike), and "publish this
//! design", which says first how many passes and devices it will push (`publish::publish`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::members::refused;
use super::pages;
use super::pass_preview;
use super::session::{Form, NoFields, Signed};
use crate::access::Area;
use crate::error::Error;
use crate::http::AppState;
use crate::publish::PublishReport;
use crate::templates::Kind;

async fn page(state: &AppState, signed: &Signed, published: Option<PublishReport>) -> Response {
    if let Err(e) = signed.actor.require(Area::Templates) {
        return refused(signed, e);
    }
    let mut rows: Vec<Value> = Vec::new();
    for (i, t) in state.templates.iter().enumerate() {
        let gathered = async {
            let reach = state.store.template_reach(&t.id).await?;
            let design = state.store.template_design(&t.id).await?;
            anyhow::Ok((reach, design))
        };
        let ((passes, devices), design) = match gathered.await {
            Ok(found) => found,
            Err(e) => return Error::Internal(e).into_response(),
        };
        let kind = match t.definition.kind {
            Kind::Loyalty => "kind_loyalty",
            Kind::Reservation => "kind_reservation",
            Kind::Receipt => "kind_receipt",
            Kind::Offer => "kind_offer",
        };
        rows.push(json!({
            "id": t.id, "name": t.definition.name, "kind": super::i18n::text(signed.lang, kind),
            "class": pass_preview::class(i), "preview": pass_preview::preview(t, signed.lang),
            "passes": passes, "devices": devices,
            "published": design.as_deref() == Some(t.design_hash.as_str()),
        }));
    }
    let published = published.map(|r| json!({"template": r.template, "passes": r.passes}));
    pages::render(signed, "templates.html", "templates", json!({"templates": rows, "done": published}))
}

pub async fn list(State(state): State<Arc<AppState>>, signed: Signed) -> Response {
    page(&state, &signed, None).await
}

/// Publishes the template's design to every pass of it (even an unchanged design: the user
/// asked, after seeing the count).
pub async fn publish(State(state): State<Arc<AppState>>, Path(id): Path<String>, form: Form<NoFields>) -> Response {
    let signed = form.signed;
    if let Err(e) = signed.actor.require(Area::Templates) {
        return refused(&signed, e);
    }
    let Some(template) = state.templates.get(&id) else {
        return pages::error(signed.lang, StatusCode::NOT_FOUND, "not_found");
    };
    let batch = state.config.templates.publish_batch_size;
    match crate::publish::publish(state.store.as_ref(), template, batch, true).await {
        Ok(report) => page(&state, &signed, Some(report)).await,
        Err(e) => Error::Internal(e).into_response(),
    }
}

/// The previews' colours, from the loaded templates (public, like the console's stylesheet).
pub async fn stylesheet(State(state): State<Arc<AppState>>) -> Response {
    let mut resp = pass_preview::stylesheet(&state.templates).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    resp
}

/// A template's PNG image (logo, strip, …) for the previews; nothing else of the folder.
pub async fn image(State(state): State<Arc<AppState>>, Path((id, file)): Path<(String, String)>) -> Response {
    let found = state
        .templates
        .get(&id)
        .and_then(|t| t.files.iter().find(|f| f.path == file && !f.path.contains('/') && f.path.ends_with(".png")));
    match found {
        Some(f) => {
            let mut resp = f.bytes.to_vec().into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            resp
        }
        None => Error::NotFound(format!("no image {file:?} in template {id:?}")).into_response(),
    }
}
