//! The enrollment page of a flyer's QR code: `GET /join/{code}` shows the sign-up form (and
//! counts a scan), `POST /join/{code}` signs the shopper up and shows their card's wallet
//! buttons. No JavaScript, no external assets; English or French by `Accept-Language`.
//!
//! The page reveals nothing about who is a member: a contact already on file gets the same
//! welcome page, with a provisional card linked to no member (`loyalty::provisional`), and the
//! member on file is told by e-mail how to merge it.
//!
//! This file holds the routes and their handlers; the form's model, checks and words are in
//! `join_form`, the pages' HTML in `join_pages`.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};

use super::client_ip;
use super::join_form::{Errors, JoinForm, ticked, validate, words};
use super::join_guard::JoinGuard;
use super::join_pages::{back_to_form, card_page, failure, form, message};
use super::pages;
use crate::access::Actor;
use crate::error::Error;
use crate::http::AppState;
use crate::loyalty::consent::CONSENT_VERSION;
use crate::loyalty::members::{self, Consent, NewMember, Source};
use crate::loyalty::provisional;
use crate::secret_keys::Purpose;
use crate::shops::flyers;
use crate::store::{FlyerRecord, now_ms};

/// The channel members who sign up here are recorded with.
pub const CHANNEL: &str = "flyer";

pub fn router(state: &AppState) -> Router<Arc<AppState>> {
    let key = state.secret_keys.derive(Purpose::FormToken);
    let guard = JoinGuard::new(&state.config.http, &state.passes.public_url, &key).expect("OpenSSL makes an HMAC key");
    Router::new().route("/join/{code}", get(show).post(submit)).layer(Extension(Arc::new(guard)))
}

async fn flyer_and_store_name(state: &AppState, code: &str) -> Result<(FlyerRecord, String), Error> {
    let flyer = flyers::find(state.store.as_ref(), code).await?;
    let store = state.store.shop(&flyer.store_id).await?;
    let name = store.map(|s| s.name).unwrap_or_default();
    Ok((flyer, name))
}

async fn show(
    State(state): State<Arc<AppState>>,
    Extension(guard): Extension<Arc<JoinGuard>>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let shown = async {
        let (flyer, store_name) = flyer_and_store_name(&state, &code).await?;
        let (visitor, visitor_cookie) = guard.visitor(&headers);
        // A lost count is no reason to lose the sign-up.
        if let Err(e) = state.store.count_flyer_scan(&flyer.code, &visitor).await {
            tracing::warn!(code = %flyer.code, "counting a flyer scan: {e:#}");
        }
        let mut resp =
            form(&guard, &headers, StatusCode::OK, &flyer, &store_name, &JoinForm::default(), &Errors::new())?;
        if let Some(cookie) = visitor_cookie {
            let value = HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?;
            resp.headers_mut().append(axum::http::header::SET_COOKIE, value);
        }
        Ok::<_, Error>(resp)
    };
    shown.await.unwrap_or_else(|e| failure(pages::language(&headers), e))
}

async fn submit(
    State(state): State<Arc<AppState>>,
    Extension(guard): Extension<Arc<JoinGuard>>,
    Path(code): Path<String>,
    parts: Parts,
    body: Result<Form<JoinForm>, FormRejection>,
) -> Response {
    let lang = pages::language(&parts.headers);
    let (flyer, store_name) = match flyer_and_store_name(&state, &code).await {
        Ok(found) => found,
        Err(e) => return failure(lang, e),
    };
    // Floods first: every POST counts, even one refused below.
    let ip = client_ip::of_request(&parts, &guard.trusted_proxies);
    if let Err(limited) = guard.check_rate(ip) {
        tracing::info!(%ip, code = %flyer.code, "sign-up form rate limit reached");
        let (h, p) = if lang == "fr" {
            ("Trop de tentatives", "Trop d'inscriptions depuis cette connexion. Réessayez dans une minute.")
        } else {
            ("Too many attempts", "Too many sign-ups from this connection. Please try again in a minute.")
        };
        return limited.on(message(StatusCode::TOO_MANY_REQUESTS, lang, Some(&store_name), h, &[p], None));
    }
    let form_data = match body {
        Ok(Form(f)) => Some(f),
        Err(e) => {
            tracing::info!("unreadable sign-up form: {}", e.body_text());
            None
        }
    };
    let token = form_data.as_ref().and_then(|f| guard.verify(&parts.headers, f.csrf.as_deref()));
    // One token, one submission: a refused one re-renders the form with a fresh token.
    let fresh = match &token {
        Some(t) => match state.store.use_form_token(&t.id, t.expires_at * 1000, now_ms()).await {
            Ok(fresh) => fresh,
            Err(e) => return failure(lang, e.into()),
        },
        None => false,
    };
    let Some(f) = form_data.filter(|_| fresh) else {
        let (h, p) = if lang == "fr" {
            (
                "Le formulaire a expiré",
                "Pour votre sécurité, ce formulaire n'est plus valable. Rouvrez-le et envoyez-le à nouveau \
                 (les cookies doivent être autorisés).",
            )
        } else {
            (
                "This form has expired",
                "For your security this form is no longer valid. Open it again and send it once more \
                 (cookies must be allowed).",
            )
        };
        return message(StatusCode::FORBIDDEN, lang, Some(&store_name), h, &[p], back_to_form(lang, &flyer.code));
    };
    let outcome = async {
        let w = words(lang);
        let errors = validate(&state, w, &f);
        if !errors.is_empty() {
            return form(&guard, &parts.headers, StatusCode::UNPROCESSABLE_ENTITY, &flyer, &store_name, &f, &errors);
        }
        match members::create(&state.loyalty, &Actor::flow("join"), new_member(lang, &flyer, &f)).await {
            Ok((member, pass)) => {
                // The e-mail counts as verified once its owner follows this link (receipts rely on it).
                if member.email.is_some()
                    && let Err(e) = crate::loyalty::verification::send_verification(&state.loyalty, &member).await
                {
                    tracing::warn!(member = %member.id, "verification e-mail not sent: {e:#}");
                }
                card_page(&state, &parts.headers, &store_name, &member, &pass)
            }
            // The same page as a new member's, with a card of their own linked to no member.
            Err(Error::Duplicate { member_id, .. }) => {
                let days = state.config.loyalty.provisional_card_days;
                let (card, pass) =
                    provisional::create(&state.loyalty, new_member(lang, &flyer, &f), &member_id, days).await?;
                card_page(&state, &parts.headers, &store_name, &card, &pass)
            }
            // Whatever the checks above let through: shown next to its field.
            Err(Error::Unprocessable { field: Some(field), .. }) => {
                let field = match field.as_str() {
                    "first_name" => ("first_name", w.need_first_name),
                    "phone" => ("phone", w.bad_phone),
                    "birthday" => ("birthday", w.bad_birthday),
                    _ => ("email", w.bad_email),
                };
                form(&guard, &parts.headers, StatusCode::UNPROCESSABLE_ENTITY, &flyer, &store_name, &f, &vec![field])
            }
            Err(e) => Err(e),
        }
    };
    outcome.await.unwrap_or_else(|e| failure(lang, e))
}

fn new_member(lang: &str, flyer: &FlyerRecord, f: &JoinForm) -> NewMember {
    let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    NewMember {
        first_name: given(&f.first_name),
        email: given(&f.email),
        phone: given(&f.phone),
        birthday: given(&f.birthday),
        language: Some(lang.to_owned()),
        home_store_id: Some(flyer.store_id.clone()),
        consent: Consent {
            terms: ticked(&f.terms),
            marketing: ticked(&f.marketing),
            version: Some(CONSENT_VERSION.into()),
        },
        source: Source {
            flyer: Some(flyer.code.clone()),
            store: Some(flyer.store_id.clone()),
            channel: Some(CHANNEL.into()),
        },
        ..Default::default()
    }
}
