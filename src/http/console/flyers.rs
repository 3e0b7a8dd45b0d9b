//! `/console/flyers` (`Area::Flyers`): the flyers this user may see (head office: every store's,
//! with a store filter; a store manager: its own store's) with their figures, a form to make
//! one, and a flyer's page with its QR code (PNG and SVG) and its printable page, all opened
//! with the console session through the same domain functions as the API (`shops::flyers`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::forms::{self, FieldErrors};
use super::members::refused;
use super::pages::{self, when};
use super::session::{Form, Signed};
use crate::access::{Area, Reach};
use crate::error::Error;
use crate::http::AppState;
use crate::http::flyers_api::{self, PrintQuery};
use crate::shops::flyers;
use crate::store::{FlyerRecord, FlyerStats};
use crate::templates::Kind;

/// Flyers listed at most (the newest).
const SHOWN: i64 = 200;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    store: Option<String>,
}

/// The new flyer form, as typed.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct FlyerForm {
    #[serde(default)]
    store_id: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    template: String,
}

fn figures(s: &FlyerStats) -> Value {
    json!({"scans": s.scans, "unique_scans": s.unique_scans, "signups": s.signups,
           "apple_added": s.apple_added, "google_added": s.google_added, "buyers": s.buyers,
           "revenue": s.revenue, "revenue_text": revenue_text(s)})
}

/// The revenue per currency as a marketer reads it: `1234.50 EUR · 80.00 CHF` (0 without any).
fn revenue_text(s: &FlyerStats) -> String {
    let parts: Vec<String> = s
        .revenue
        .iter()
        .map(|(c, minor)| {
            format!("{} {c}", crate::receipts::format_amount(*minor, crate::receipts::currency_exponent(c)))
        })
        .collect();
    if parts.is_empty() { "0".to_owned() } else { parts.join(" · ") }
}

fn view(state: &AppState, f: &FlyerRecord, s: &FlyerStats) -> Value {
    json!({"code": f.code, "store": f.store_id, "label": f.label, "template": f.template,
           "created": when(f.created_at), "join_url": flyers::join_url(&state.passes.public_url, &f.code),
           "figures": figures(s)})
}

fn loyalty_templates(state: &AppState) -> Vec<Value> {
    state
        .templates
        .iter()
        .filter(|t| t.definition.kind == Kind::Loyalty)
        .map(|t| json!({"id": t.id, "name": t.definition.name}))
        .collect()
}

async fn list_page(
    state: &AppState,
    signed: &Signed,
    filter: Option<&str>,
    form: &FlyerForm,
    errors: Option<FieldErrors>,
) -> Response {
    let actor = &signed.actor;
    let filter = filter.filter(|f| !f.is_empty());
    let listed = flyers::list_for(state.store.as_ref(), actor, filter, SHOWN).await;
    let listed = match listed {
        Ok(found) => found,
        Err(e) => return refused(signed, e),
    };
    let gathered = async {
        let mut rows = Vec::with_capacity(listed.len());
        for f in &listed {
            rows.push(view(state, f, &state.store.flyer_stats(&f.code).await?));
        }
        // A store manager's store is fixed: no other store is offered.
        let stores = if actor.reach(Area::Flyers) == Reach::All { state.store.all_shops().await? } else { Vec::new() };
        anyhow::Ok((rows, stores))
    };
    let (rows, stores) = match gathered.await {
        Ok(found) => found,
        Err(e) => return Error::Internal(e).into_response(),
    };
    let stores: Vec<Value> = stores.iter().map(|s| json!({"id": s.id, "name": s.name})).collect();
    let refused_form = errors.is_some();
    let ctx = json!({
        "flyers": rows, "stores": stores, "filter": filter, "own_store": actor.own_store(),
        "templates": loyalty_templates(state), "form": form, "errors": errors.unwrap_or_default(),
    });
    let resp = pages::render(signed, "flyers.html", "flyers", ctx);
    if refused_form { forms::unprocessable(resp) } else { resp }
}

pub async fn list(State(state): State<Arc<AppState>>, signed: Signed, Query(q): Query<ListQuery>) -> Response {
    let form = FlyerForm { store_id: q.store.clone().unwrap_or_default(), ..FlyerForm::default() };
    list_page(&state, &signed, q.store.as_deref(), &form, None).await
}

pub async fn create(State(state): State<Arc<AppState>>, form: Form<FlyerForm>) -> Response {
    let Form { signed, fields } = form;
    // A store manager's flyers are its own store's, whatever the form says.
    let store_id = signed.actor.own_store().map_or_else(|| fields.store_id.trim().to_owned(), str::to_owned);
    let label = Some(fields.label.as_str());
    let made =
        flyers::create(state.store.as_ref(), &state.templates, &signed.actor, &store_id, label, &fields.template).await;
    match made {
        Ok(f) => Redirect::to(&format!("/console/flyers/{}?created=1", f.code)).into_response(),
        Err(e) => match forms::beside_field(signed.lang, "flyer_err", &e) {
            Some(errors) => list_page(&state, &signed, None, &fields, Some(errors)).await,
            None => refused(&signed, e),
        },
    }
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    created: Option<String>,
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(code): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let (flyer, stats) = match flyers::stats_for(state.store.as_ref(), &signed.actor, &code).await {
        Ok(found) => found,
        Err(e) => return refused(&signed, e),
    };
    let store = match state.store.shop(&flyer.store_id).await {
        Ok(s) => s,
        Err(e) => return Error::Internal(e).into_response(),
    };
    let ctx = json!({
        "f": view(&state, &flyer, &stats),
        "store_name": store.map(|s| s.name),
        "created": q.created.is_some(),
    });
    pages::render(&signed, "flyer.html", "flyers", ctx)
}

/// The flyer, if this user may see it (another store's is 404, as on the API).
async fn visible(state: &AppState, signed: &Signed, code: &str) -> Result<FlyerRecord, Response> {
    flyers::find_for(state.store.as_ref(), &signed.actor, code).await.map_err(|e| refused(signed, e))
}

pub async fn qr_png(State(state): State<Arc<AppState>>, signed: Signed, Path(code): Path<String>) -> Response {
    match visible(&state, &signed, &code).await {
        Ok(flyer) => flyers_api::qr_png_of(&state, &flyer).into_response(),
        Err(resp) => resp,
    }
}

pub async fn qr_svg(State(state): State<Arc<AppState>>, signed: Signed, Path(code): Path<String>) -> Response {
    match visible(&state, &signed, &code).await {
        Ok(flyer) => flyers_api::qr_svg_of(&state, &flyer).into_response(),
        Err(resp) => resp,
    }
}

/// The printable flyer, as the API's `print` gives it, opened with the session.
pub async fn print(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(code): Path<String>,
    Query(q): Query<PrintQuery>,
) -> Response {
    let Ok(paper) = flyers_api::paper(q.paper.as_deref()) else {
        return pages::error(signed.lang, StatusCode::BAD_REQUEST, "paper");
    };
    match visible(&state, &signed, &code).await {
        Ok(flyer) => flyers_api::print_page(&state, &flyer, paper).await.into_response(),
        Err(resp) => resp,
    }
}
