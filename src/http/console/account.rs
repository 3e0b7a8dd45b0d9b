//! `/console/account`: the signed-in user's own account, and for an hq_admin two-factor sign-in
//! (turn on with a code from the app, recovery codes shown once; turn off with a code).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::members::refused;
use super::pages::{self, when};
use super::session::{Form, NoFields, Signed};
use crate::error::Error;
use crate::http::AppState;
use crate::users::two_factor;

/// The account page; `codes`: recovery codes just made (shown this once); `error` beside the code.
async fn page(state: &AppState, signed: &Signed, codes: Option<Vec<String>>, error: Option<String>) -> Response {
    let user = match state.store.user(&signed.user.id).await {
        Ok(Some(u)) => u,
        Ok(None) => return pages::error(signed.lang, StatusCode::NOT_FOUND, "not_found"),
        Err(e) => return Error::Internal(e).into_response(),
    };
    let setup = match (&user.totp_secret, user.totp_enabled_at) {
        (Some(secret), None) => match two_factor::setup_of(secret, &user.email) {
            Ok(s) => Some(json!({"secret": s.secret, "qr": crate::shops::qr::svg(&s.url).unwrap_or_default()})),
            Err(e) => return Error::Internal(e).into_response(),
        },
        _ => None,
    };
    let left = match state.store.recovery_codes_left(&user.id).await {
        Ok(n) => n,
        Err(e) => return Error::Internal(e).into_response(),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let ctx = json!({
        "can_2fa": user.role == "hq_admin",
        "enabled": user.totp_enabled_at.map(when),
        "setup": setup,
        "codes": codes,
        "codes_left": left,
        "code_error": error,
    });
    let mut resp = pages::render(signed, "account.html", "account", ctx);
    *resp.status_mut() = status;
    resp
}

pub async fn show(State(state): State<Arc<AppState>>, signed: Signed) -> Response {
    page(&state, &signed, None, None).await
}

pub async fn start(State(state): State<Arc<AppState>>, form: Form<NoFields>) -> Response {
    let Form { signed, fields: NoFields {} } = form;
    match two_factor::start(state.store.as_ref(), &signed.user).await {
        Ok(_) => Redirect::to("/console/account").into_response(),
        Err(e) => refused(&signed, e),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn confirm(State(state): State<Arc<AppState>>, form: Form<CodeForm>) -> Response {
    let Form { signed, fields } = form;
    let user = match state.store.user(&signed.user.id).await {
        Ok(Some(u)) => u,
        _ => return pages::error(signed.lang, StatusCode::NOT_FOUND, "not_found"),
    };
    match two_factor::confirm(state.store.as_ref(), &user, &fields.code).await {
        Ok(codes) => {
            tracing::info!(user = %user.id, "two-factor sign-in turned on");
            page(&state, &signed, Some(codes), None).await
        }
        Err(Error::Unprocessable { .. } | Error::Conflict { .. }) => {
            let message = super::i18n::text(signed.lang, "wrong_code");
            page(&state, &signed, None, Some(message)).await
        }
        Err(e) => refused(&signed, e),
    }
}

pub async fn turn_off(State(state): State<Arc<AppState>>, form: Form<CodeForm>) -> Response {
    let Form { signed, fields } = form;
    let user = match state.store.user(&signed.user.id).await {
        Ok(Some(u)) => u,
        _ => return pages::error(signed.lang, StatusCode::NOT_FOUND, "not_found"),
    };
    match two_factor::turn_off(state.store.as_ref(), &user, &fields.code).await {
        Ok(()) => {
            tracing::info!(user = %user.id, "two-factor sign-in turned off");
            Redirect::to("/console/account").into_response()
        }
        Err(Error::Unprocessable { .. }) => {
            let message = super::i18n::text(signed.lang, "wrong_code");
            page(&state, &signed, None, Some(message)).await
        }
        Err(e) => refused(&signed, e),
    }
}
