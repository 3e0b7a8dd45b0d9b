//! Admin API for flyers: `POST /api/v1/flyers`, `GET /api/v1/flyers/{code}` and its QR code
//! (`qr.png` for print shops, `qr.svg` for designers) and a printable one-page flyer (`print`).

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use minijinja::Environment;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{JsonBody, QueryParams};
use super::views::rfc3339;
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::shops::{flyers, qr};
use crate::store::FlyerRecord;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/flyers", post(create))
        .route("/api/v1/flyers/{code}", get(show))
        .route("/api/v1/flyers/{code}/qr.png", get(qr_png))
        .route("/api/v1/flyers/{code}/qr.svg", get(qr_svg))
        .route("/api/v1/flyers/{code}/print", get(print))
}

/// The flyer object of the admin API.
fn view(state: &AppState, f: &FlyerRecord) -> Value {
    let api = format!("{}/api/v1/flyers/{}", state.passes.public_url, f.code);
    json!({
        "code": f.code,
        "store_id": f.store_id,
        "label": f.label,
        "template": f.template,
        "join_url": flyers::join_url(&state.passes.public_url, &f.code),
        "qr_png_url": format!("{api}/qr.png"),
        "qr_svg_url": format!("{api}/qr.svg"),
        "print_url": format!("{api}/print"),
        "created_at": rfc3339(f.created_at),
    })
}

fn default_template() -> String {
    "loyalty".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    store_id: String,
    label: Option<String>,
    #[serde(default = "default_template")]
    template: String,
}

async fn create(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    JsonBody(b): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let (label, template) = (b.label.as_deref(), &b.template);
    let flyer = flyers::create(state.store.as_ref(), &state.templates, &actor, &b.store_id, label, template).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &flyer))))
}

async fn show(State(state): State<Arc<AppState>>, actor: Actor, Path(code): Path<String>) -> Result<Json<Value>> {
    let flyer = flyers::find_for(state.store.as_ref(), &actor, &code).await?;
    Ok(Json(view(&state, &flyer)))
}

/// A QR image: the code never changes what it encodes, so caches may keep it (privately).
fn image(content_type: &'static str, filename: String, body: impl IntoResponse) -> Result<Response> {
    let disposition = format!("inline; filename=\"{filename}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|e| Error::Internal(e.into()))?),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400")),
        ],
        body,
    )
        .into_response())
}

/// The flyer's QR code as a PNG (for print shops), for the API and the console.
pub fn qr_png_of(state: &AppState, flyer: &FlyerRecord) -> Result<Response> {
    let png = qr::png(&flyers::join_url(&state.passes.public_url, &flyer.code))?;
    image("image/png", format!("flyer-{}.png", flyer.code), png)
}

/// The flyer's QR code as an SVG (for designers), for the API and the console.
pub fn qr_svg_of(state: &AppState, flyer: &FlyerRecord) -> Result<Response> {
    let svg = qr::svg(&flyers::join_url(&state.passes.public_url, &flyer.code))?;
    image("image/svg+xml", format!("flyer-{}.svg", flyer.code), svg)
}

async fn qr_png(State(state): State<Arc<AppState>>, actor: Actor, Path(code): Path<String>) -> Result<Response> {
    qr_png_of(&state, &flyers::find_for(state.store.as_ref(), &actor, &code).await?)
}

async fn qr_svg(State(state): State<Arc<AppState>>, actor: Actor, Path(code): Path<String>) -> Result<Response> {
    qr_svg_of(&state, &flyers::find_for(state.store.as_ref(), &actor, &code).await?)
}

fn print_env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("flyer.html", include_str!("pages/flyer.html")).expect("flyer.html is a valid template");
        env
    })
}

#[derive(Deserialize)]
pub struct PrintQuery {
    pub paper: Option<String>,
}

/// (CSS page size, width, height) and the QR side of a paper size (`a5` when none is asked).
type Paper = ((&'static str, &'static str, &'static str), &'static str);

/// The paper a print query asks for; 400 naming `paper` for anything but a5 and a4.
pub fn paper(asked: Option<&str>) -> Result<Paper> {
    match asked.unwrap_or("a5") {
        "a5" => Ok((("A5", "148mm", "210mm"), "80mm")),
        "a4" => Ok((("A4", "210mm", "297mm"), "110mm")),
        _ => Err(Error::bad_request("paper must be a5 or a4", "paper")),
    }
}

/// The printable one-page flyer, for the API (with a key) and the console (with a session). Its
/// styles are inline: it is served with the shoppers' pages' CSP, not the console's.
pub async fn print_page(state: &AppState, flyer: &FlyerRecord, (page, qr_side): Paper) -> Result<Response> {
    let store = state.store.shop(&flyer.store_id).await?.ok_or_else(|| anyhow::anyhow!("flyer store vanished"))?;
    let join_url = flyers::join_url(&state.passes.public_url, &flyer.code);
    let ctx = json!({
        "code": flyer.code,
        "store": {"name": store.name, "address": store.address},
        "join_url": join_url,
        // Made of numbers and fixed markup only (see qr::svg): safe to inline.
        "qr_svg": qr::svg(&join_url)?,
        "page": {"size": page.0, "width": page.1, "height": page.2},
        "qr_side": qr_side,
    });
    let html = print_env().get_template("flyer.html").and_then(|t| t.render(minijinja::value::Serde(ctx)));
    let html = html.map_err(|e| Error::Internal(e.into()))?;
    Ok(([(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"))], Html(html)).into_response())
}

async fn print(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(code): Path<String>,
    QueryParams(q): QueryParams<PrintQuery>,
) -> Result<Response> {
    let paper = paper(q.paper.as_deref())?;
    let flyer = flyers::find_for(state.store.as_ref(), &actor, &code).await?;
    print_page(&state, &flyer, paper).await
}
