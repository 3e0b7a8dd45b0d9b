//! The web console at `/console`, for head office and store managers: server-rendered pages
//! (minijinja, embedded), sessions in the database, a CSRF token on every form, and the same
//! domain functions as the API, so a rule holds in one place for both.

mod account;
mod approvals;
mod audit;
mod auth;
mod campaigns;
mod charts;
mod composer;
mod figures;
mod flyers;
mod forms;
mod i18n;
mod landing;
mod members;
mod operations;
mod overview;
mod pages;
mod pass_preview;
mod results;
mod session;
mod stores;
mod templates;
mod warnings;

use std::sync::Arc;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::http::AppState;

pub fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    let sign_in_limit =
        Arc::new(crate::http::rate_limit::PerIpLimit::per_minute(state.config.console.sign_in_rate_per_min));
    Router::new()
        .route("/console", get(overview::show))
        .route("/console/", get(|| async { axum::response::Redirect::permanent("/console") }))
        .route("/console/login", get(auth::show).post(auth::sign_in).layer(axum::Extension(sign_in_limit.clone())))
        .route("/console/login/code", post(auth::sign_in_code))
        .route(
            "/console/password/forgot",
            get(auth::forgot_page).post(auth::forgot).layer(axum::Extension(sign_in_limit)),
        )
        .route("/console/password/reset/{token}", get(auth::reset_page).post(auth::reset))
        .route("/console/charts/{name}", get(overview::chart))
        .route("/console/operations", get(operations::show))
        .route("/console/operations/retry", post(operations::retry))
        .route("/console/operations/keys", post(operations::create_key))
        .route("/console/operations/keys/{id}/revoke", post(operations::revoke_key))
        .route("/console/operations/users", post(operations::create_user))
        .route("/console/operations/users/disable", post(operations::disable_user))
        .route("/console/members", get(members::list))
        .route("/console/members/{id}", get(members::show))
        .route("/console/members/{id}/points", post(members::adjust))
        .route("/", get(landing::show))
        .route("/console/stores", get(stores::list).post(stores::create))
        .route("/console/stores/{id}", get(stores::show).post(stores::change))
        .route("/console/flyers", get(flyers::list).post(flyers::create))
        .route("/console/flyers/{code}", get(flyers::show))
        .route("/console/flyers/{code}/qr.png", get(flyers::qr_png))
        .route("/console/flyers/{code}/qr.svg", get(flyers::qr_svg))
        .route("/console/flyers/{code}/print", get(flyers::print))
        .route("/console/templates", get(templates::list))
        .route("/console/templates/{id}/publish", post(templates::publish))
        .route("/console/assets/templates.css", get(templates::stylesheet))
        .route("/console/assets/templates/{id}/{file}", get(templates::image))
        .route("/console/logout", post(auth::sign_out))
        .route("/console/assets/console.css", get(pages::stylesheet))
        .route("/console/assets/composer.js", get(pages::composer_script))
        .route("/console/assets/progress.js", get(pages::progress_script))
        .route("/console/campaigns", get(campaigns::list))
        .route("/console/campaigns/new", get(composer::new).post(composer::create))
        .route("/console/campaigns/reach", post(composer::reach))
        .route("/console/campaigns/{id}", get(campaigns::show).post(composer::save))
        .route("/console/campaigns/{id}/progress", get(campaigns::progress_json))
        .route("/console/campaigns/{id}/confirm", get(campaigns::confirm))
        .route("/console/campaigns/{id}/submit", post(campaigns::submit))
        .route("/console/campaigns/{id}/cancel", post(campaigns::cancel))
        .route("/console/audit", get(audit::show))
        .route("/console/account", get(account::show))
        .route("/console/account/totp/start", post(account::start))
        .route("/console/account/totp/confirm", post(account::confirm))
        .route("/console/account/totp/off", post(account::turn_off))
        .route("/console/approvals", get(approvals::show))
        .route("/console/approvals/{id}", post(approvals::decide))
        .route("/console/{*rest}", get(unknown))
        .layer(axum::middleware::from_fn_with_state(state.clone(), remember_asked_language))
}

/// The language switch: a page opened with `?lang=` keeps that language afterwards (a cookie).
async fn remember_asked_language(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let asked = session::asked_language(req.uri().query());
    let mut resp = next.run(req).await;
    auth::remember_language(&mut resp, asked, state.passes.public_url.starts_with("https://"));
    resp
}

/// A console URL with no page: the sign-in page for a visitor, "no such page" for a user.
async fn unknown(signed: session::Signed) -> Response {
    pages::error(signed.lang, axum::http::StatusCode::NOT_FOUND, "not_found").into_response()
}
