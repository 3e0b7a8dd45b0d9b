//! Who is signed in to the console: the session cookie resolved to a user and their actor, the
//! session's CSRF token checked on every state-changing request, and the page language.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use super::pages;
use crate::access::Actor;
use crate::http::{AppState, cookies};
use crate::store::UserRecord;
use crate::users::sessions::{self, SessionRules};

pub const SESSION_COOKIE: &str = "passerelle_session";
/// The language switch's cookie (`en` or `fr`).
pub const LANG_COOKIE: &str = "passerelle_lang";
/// The header a script's request carries the CSRF token in (forms use the `csrf` field).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in console user.
pub struct Signed {
    pub actor: Actor,
    pub user: UserRecord,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    pub lang: &'static str,
    /// Campaigns waiting for approval, for those who decide on them (shown on every page).
    pub waiting: Option<i64>,
}

/// The page language: the switch's cookie, else the user's, else the browser's.
pub fn language(headers: &HeaderMap, user: Option<&UserRecord>) -> &'static str {
    let chosen = cookies::get(headers, LANG_COOKIE).or(user.and_then(|u| u.language.as_deref()));
    match chosen {
        Some("fr") => "fr",
        Some("en") => "en",
        _ => crate::http::pages::language(headers),
    }
}

/// The language a `?lang=` link (the switch) asks for.
pub fn asked_language(query: Option<&str>) -> Option<&'static str> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    match pairs.iter().find(|(k, _)| k == "lang").map(|(_, v)| v.as_str()) {
        Some("fr") => Some("fr"),
        Some("en") => Some("en"),
        _ => None,
    }
}

/// The sign-in page, coming back to `path` afterwards.
fn to_login(path: &str) -> Response {
    let next: String = url_encode(path);
    Redirect::to(&format!("/console/login?next={next}")).into_response()
}

fn url_encode(text: &str) -> String {
    serde_urlencoded::to_string([("n", text)]).map(|s| s[2..].to_owned()).unwrap_or_default()
}

impl FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/console").to_owned();
        let Some(token) = cookies::get(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(to_login(&path));
        };
        let rules = SessionRules::from(&state.config.console);
        let resolved = sessions::resolve(state.store.as_ref(), rules, &token).await;
        let (session, user) = match resolved {
            Ok(Some(found)) => found,
            Ok(None) => return Err(to_login(&path)),
            Err(e) => return Err(e.into_response()),
        };
        let actor = crate::users::actor(&user).map_err(IntoResponse::into_response)?;
        let lang = asked_language(parts.uri.query()).unwrap_or_else(|| language(&parts.headers, Some(&user)));
        let waiting = match actor.reach(crate::access::Area::Approvals) {
            crate::access::Reach::None => None,
            _ => Some(
                state.store.pending_approvals().await.map_err(|e| crate::error::Error::Internal(e).into_response())?,
            ),
        };
        let signed = Signed { actor, user, csrf: session.csrf_token, lang, waiting };
        // A state-changing request from a script carries the token in a header.
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            let is_form = parts
                .headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
            if !is_form && !given.is_some_and(|g| crate::http::extract::secrets_equal(g, &signed.csrf)) {
                return Err(csrf_refused(signed.lang));
            }
        }
        Ok(signed)
    }
}

/// 403 for a request without the session's CSRF token.
pub fn csrf_refused(lang: &str) -> Response {
    pages::error(lang, StatusCode::FORBIDDEN, "csrf")
}

/// A console form: the signed-in user and the form's fields, its `csrf` field checked against
/// the session's (403 otherwise).
pub struct Form<T> {
    pub signed: Signed,
    pub fields: T,
}

/// The fields of a form that has none but its CSRF token (sign-out, revoke).
#[derive(serde::Deserialize)]
pub struct NoFields {}

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, state.config.http.max_body_bytes)
            .await
            .map_err(|_| pages::error(signed.lang, StatusCode::PAYLOAD_TOO_LARGE, "too_large"))?;
        let csrf: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField { csrf: None });
        if !csrf.csrf.is_some_and(|c| crate::http::extract::secrets_equal(&c, &signed.csrf)) {
            return Err(csrf_refused(signed.lang));
        }
        let fields = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| pages::error(signed.lang, StatusCode::BAD_REQUEST, "bad_form"))?;
        Ok(Self { signed, fields })
    }
}
