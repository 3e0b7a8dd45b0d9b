//! `GET /demo/passes/{template}`: a freshly signed pass built from the template's example data. Mounted only while
//! the signing certificate is the demo one of `certs-example/` ([`crate::apple::SigningIdentity::is_demo`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::apple::{PKPASS_CONTENT_TYPE, PassKeys};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::tokens;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/demo/passes/{template}", get(demo_pass))
}

async fn demo_pass(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Response> {
    let template = state.templates.get(&id).cloned().ok_or_else(|| Error::NotFound(format!("no template {id:?}")))?;
    let example =
        template.example.clone().ok_or_else(|| Error::NotFound(format!("template {id:?} has no example.json")))?;
    let data = template.validate_data(&example)?;
    let serial = tokens::serial_number();
    let token = tokens::authentication_token();
    let passes = state.passes.builder.clone();
    let public_url = state.passes.public_url.clone();
    // Signing is ~0.3 ms of CPU: keep it off the async workers.
    let pkpass = tokio::task::spawn_blocking(move || {
        let keys = PassKeys {
            serial_number: &serial,
            authentication_token: &token,
            web_service_url: &public_url,
            voided: false,
            locations: &[],
        };
        passes.build(&template, &data, &keys)
    })
    .await
    .map_err(|e| Error::Internal(e.into()))??;
    Ok((
        [
            (header::CONTENT_TYPE, PKPASS_CONTENT_TYPE.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{id}.pkpass\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        pkpass,
    )
        .into_response())
}
