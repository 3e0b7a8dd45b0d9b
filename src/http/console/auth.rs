//! Signing in and out: `GET/POST /console/login` (fields `email`, `password`), `POST
//! /console/logout`, and a forgotten password (`/console/password/forgot`, the mailed
//! `/console/password/reset/{token}`). Forms shown before sign-in carry their own CSRF token (a
//! random value in a strict cookie and in the form, which must match: no session holds one yet).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::i18n;
use super::pages;
use super::session::{self, Form, LANG_COOKIE, NoFields, SESSION_COOKIE};
use crate::http::rate_limit::PerIpLimit;
use crate::http::{AppState, cookies};
use crate::secret_keys::Purpose;
use crate::tokens;
use crate::users::sessions::{self as user_sessions, Refused, SessionRules, SignedIn};
use crate::users::two_factor;

const FORM_COOKIE: &str = "passerelle_form";

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
    /// Set after a password reset: the page says so.
    reset: Option<String>,
}

/// Only a console path may follow sign-in (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console") && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/console".to_owned(),
    }
}

fn secure(state: &AppState) -> bool {
    state.passes.public_url.starts_with("https://")
}

/// A page shown before sign-in, with a fresh form token in `ctx.csrf` and in its cookie.
fn public_form(state: &AppState, lang: &str, template: &str, mut ctx: serde_json::Value) -> Response {
    let nonce = tokens::random_hex(16);
    ctx["csrf"] = json!(nonce);
    let mut resp = pages::render_public(lang, template, ctx);
    let cookie = cookies::set(FORM_COOKIE, &nonce, "/console", Some(3600), "Strict", secure(state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Whether a form posted before sign-in brings the token of its cookie.
fn public_form_ok(headers: &HeaderMap, csrf: Option<&str>) -> bool {
    matches!((cookies::get(headers, FORM_COOKIE), csrf), (Some(c), Some(f)) if crate::http::extract::secrets_equal(c, f))
}

/// The sign-in page, with an error (401) or a notice if any.
fn login_page(state: &AppState, lang: &str, next: &str, email: &str, error: Option<String>) -> Response {
    login_page_with(state, lang, next, email, error, None)
}

fn login_page_with(
    state: &AppState,
    lang: &str,
    next: &str,
    email: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let unauthorized = error.is_some();
    let ctx = json!({"next": next, "email": email, "error": error, "notice": notice});
    let mut resp = public_form(state, lang, "login.html", ctx);
    if unauthorized {
        *resp.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    }
    resp
}

/// Sets the language switch's cookie when `?lang=` asks for one.
pub fn remember_language(resp: &mut Response, asked: Option<&str>, secure: bool) {
    if let Some(lang @ ("en" | "fr")) = asked
        && let Ok(v) =
            HeaderValue::from_str(&cookies::set(LANG_COOKIE, lang, "/console", Some(31_536_000), "Lax", secure))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub async fn show(State(state): State<Arc<AppState>>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let lang = match q.lang.as_deref() {
        Some("fr") => "fr",
        Some("en") => "en",
        _ => session::language(&headers, None),
    };
    let notice = q.reset.is_some().then(|| i18n::text(lang, "password_changed"));
    let mut resp = login_page_with(&state, lang, &safe_next(q.next.as_deref()), "", None, notice);
    remember_language(&mut resp, q.lang.as_deref(), secure(&state));
    resp
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    csrf: Option<String>,
    next: Option<String>,
}

pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    axum::Extension(limit): axum::Extension<Arc<PerIpLimit>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<LoginForm>,
) -> Response {
    let lang = session::language(&headers, None);
    // Guesses spread over many accounts from one address are held back too.
    let ip = crate::http::client_ip::resolve(peer.ip(), &headers, &state.config.http.trusted_proxies);
    if let Err(limited) = limit.check(ip) {
        tracing::info!(%ip, "console sign-in rate limit reached (PASSERELLE_SIGN_IN_RATE_PER_MIN)");
        let next = safe_next(form.next.as_deref());
        let mut resp = login_page(&state, lang, &next, &form.email, Some(i18n::text(lang, "too_many")));
        *resp.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return limited.on(resp);
    }
    let next = safe_next(form.next.as_deref());
    if !public_form_ok(&headers, form.csrf.as_deref()) {
        return session::csrf_refused(lang);
    }
    let rules = SessionRules::from(&state.config.console);
    let outcome = user_sessions::sign_in(state.store.as_ref(), rules, &form.email, &form.password).await;
    answer(&state, lang, &next, &form.email, outcome)
}

/// The answer to a sign-in step: the session's cookie and the page asked for, the code's page,
/// or the sign-in page again with why (401 wrong, 429 locked).
fn answer(state: &AppState, lang: &str, next: &str, email: &str, outcome: Result<SignedIn, Refused>) -> Response {
    match outcome {
        Ok(signed) => {
            tracing::info!(user = %signed.user.id, "console sign-in");
            let mut resp = Redirect::to(next).into_response();
            let cookie = cookies::set(SESSION_COOKIE, signed.token.expose(), "/console", None, "Lax", secure(state));
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(Refused::NeedsCode(user)) => {
            let key = state.secret_keys.derive(Purpose::SignInTicket);
            match two_factor::ticket(&key, &user.id) {
                Ok(ticket) => public_form(state, lang, "code.html", json!({"ticket": ticket, "next": next})),
                Err(e) => crate::error::Error::Internal(e).into_response(),
            }
        }
        Err(Refused::WrongCredentials) => {
            login_page(state, lang, next, email, Some(i18n::text(lang, "wrong_credentials")))
        }
        Err(Refused::Locked(until)) => {
            let until = jiff::Timestamp::from_millisecond(until)
                .map(|t| t.strftime("%H:%M UTC").to_string())
                .unwrap_or_default();
            let message = i18n::text(lang, "locked").replace("{until}", &until);
            let mut resp = login_page(state, lang, next, email, Some(message));
            *resp.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
            resp
        }
        Err(Refused::Failed(e)) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    code: String,
    csrf: Option<String>,
    next: Option<String>,
}

/// The second step of a sign-in with two-factor: the ticket from the password step and a code.
pub async fn sign_in_code(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<CodeForm>,
) -> Response {
    let lang = session::language(&headers, None);
    if !public_form_ok(&headers, form.csrf.as_deref()) {
        return session::csrf_refused(lang);
    }
    let next = safe_next(form.next.as_deref());
    let key = state.secret_keys.derive(Purpose::SignInTicket);
    let Some(user_id) = two_factor::ticket_user(&key, &form.ticket) else {
        return login_page(&state, lang, &next, "", Some(i18n::text(lang, "code_expired")));
    };
    let rules = SessionRules::from(&state.config.console);
    match user_sessions::second_step(state.store.as_ref(), rules, &user_id, &form.code).await {
        Err(Refused::WrongCredentials) => {
            let ctx = json!({"ticket": form.ticket, "next": next, "error": i18n::text(lang, "wrong_code")});
            let mut resp = public_form(&state, lang, "code.html", ctx);
            *resp.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            resp
        }
        outcome => answer(&state, lang, &next, "", outcome),
    }
}

pub async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap, form: Form<NoFields>) -> Response {
    // The sign-out form has no field but its CSRF token.
    let Form { signed, fields: NoFields {} } = form;
    if let Some(token) = cookies::get(&headers, SESSION_COOKIE)
        && let Err(e) = user_sessions::sign_out(state.store.as_ref(), token).await
    {
        return e.into_response();
    }
    tracing::info!(user = %signed.user.id, "console sign-out");
    let mut resp = Redirect::to("/console/login").into_response();
    let cookie = cookies::set(SESSION_COOKIE, "", "/console", Some(0), "Lax", secure(&state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    csrf: Option<String>,
}

pub async fn forgot_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let lang = session::language(&headers, None);
    public_form(&state, lang, "password.html", json!({"step": "forgot"}))
}

/// Queues the link for an active user's address; the same page whatever the address.
pub async fn forgot(
    State(state): State<Arc<AppState>>,
    axum::Extension(limit): axum::Extension<Arc<PerIpLimit>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<ForgotForm>,
) -> Response {
    let lang = session::language(&headers, None);
    if !public_form_ok(&headers, form.csrf.as_deref()) {
        return session::csrf_refused(lang);
    }
    let ip = crate::http::client_ip::resolve(peer.ip(), &headers, &state.config.http.trusted_proxies);
    if let Err(limited) = limit.check(ip) {
        let ctx = json!({"step": "forgot", "error": i18n::text(lang, "too_many")});
        let mut resp = public_form(&state, lang, "password.html", ctx);
        *resp.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return limited.on(resp);
    }
    if let Err(e) = crate::users::reset::request(state.store.as_ref(), &form.email).await {
        return crate::error::Error::Internal(e).into_response();
    }
    public_form(&state, lang, "password.html", json!({"step": "sent"}))
}

pub async fn reset_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let lang = session::language(&headers, None);
    match crate::users::reset::valid(state.store.as_ref(), &token).await {
        Ok(true) => public_form(&state, lang, "password.html", json!({"step": "reset", "token": token})),
        Ok(false) => public_form(&state, lang, "password.html", json!({"step": "expired"})),
        Err(e) => crate::error::Error::Internal(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    csrf: Option<String>,
}

pub async fn reset(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    axum::extract::Path(token): axum::extract::Path<String>,
    axum::extract::Form(form): axum::extract::Form<ResetForm>,
) -> Response {
    let lang = session::language(&headers, None);
    if !public_form_ok(&headers, form.csrf.as_deref()) {
        return session::csrf_refused(lang);
    }
    let step = |step: &str, error: Option<String>, status| {
        let mut resp =
            public_form(&state, lang, "password.html", json!({"step": step, "token": token, "error": error}));
        *resp.status_mut() = status;
        resp
    };
    match crate::users::reset::reset(state.store.as_ref(), &token, &form.password).await {
        Ok(()) => Redirect::to("/console/login?reset=1").into_response(),
        Err(crate::error::Error::Unprocessable { .. }) => {
            step("reset", Some(i18n::text(lang, "password_too_short")), axum::http::StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(crate::error::Error::NotFound(_)) => step("expired", None, axum::http::StatusCode::NOT_FOUND),
        Err(e) => e.into_response(),
    }
}
