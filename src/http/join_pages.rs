//! The enrollment pages' HTML: the sign-up form, the new member's card page and the message
//! pages (errors, "we sent it to you"), with the headers every one of them carries.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use super::join_form::{Errors, JoinForm, ticked, words};
use super::join_guard::JoinGuard;
use super::{pages, views};
use crate::error::Error;
use crate::http::AppState;
use crate::loyalty::consent::{self, CONSENT_VERSION};
use crate::shops::flyers;
use crate::store::{FlyerRecord, MemberRecord, PassRecord};

/// A page: its fragment `name`, then the layout around it (with `lang` and `title` from `ctx`);
/// the shoppers' pages and the site's landing page share it.
pub(super) fn render(name: &str, ctx: Value) -> anyhow::Result<String> {
    let body = pages::render(name, &ctx)?;
    pages::render("join_base.html", json!({"lang": ctx["lang"], "title": ctx["title"], "body": body}))
}

/// Headers of every page here: never cached (they carry a CSRF token); the security headers
/// of every HTML page are added by `layers::security_headers`.
fn page(status: StatusCode, html: String) -> Response {
    let mut resp = (status, Html(html)).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A page of a heading and a few paragraphs (errors, "we sent it to you").
pub(super) fn message(
    status: StatusCode,
    lang: &str,
    store_name: Option<&str>,
    heading: &str,
    paragraphs: &[&str],
    back: Option<(String, &str)>,
) -> Response {
    let ctx = json!({
        "lang": lang,
        "title": heading,
        "store_name": store_name,
        "heading": heading,
        "paragraphs": paragraphs,
        "back": back.map(|(href, label)| json!({"href": href, "label": label})),
    });
    match render("join_message.html", ctx) {
        Ok(html) => page(status, html),
        Err(e) => {
            tracing::error!("rendering join_message.html: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub(super) fn back_to_form(lang: &str, code: &str) -> Option<(String, &'static str)> {
    let label = if lang == "fr" { "Retour au formulaire" } else { "Back to the form" };
    flyers::valid_code(code).then(|| (format!("/join/{code}"), label))
}

/// The HTML answer to a failure: 404 for an unknown flyer, otherwise a logged 500.
pub(super) fn failure(lang: &str, e: Error) -> Response {
    match e {
        Error::NotFound(_) => {
            let (h, p) = if lang == "fr" {
                ("Page introuvable", "Ce lien d'inscription n'existe pas ou plus. Vérifiez le code QR scanné.")
            } else {
                ("Page not found", "This sign-up link does not exist (any more). Check the QR code you scanned.")
            };
            message(StatusCode::NOT_FOUND, lang, None, h, &[p], None)
        }
        other => {
            tracing::error!("enrollment page: {other:#}");
            let (h, p) = if lang == "fr" {
                ("Une erreur est survenue", "Réessayez dans quelques instants.")
            } else {
                ("Something went wrong", "Please try again in a moment.")
            };
            message(StatusCode::INTERNAL_SERVER_ERROR, lang, None, h, &[p], None)
        }
    }
}

/// The form, with the values and errors of a refused submission.
pub(super) fn form(
    guard: &JoinGuard,
    headers: &HeaderMap,
    status: StatusCode,
    flyer: &FlyerRecord,
    store_name: &str,
    values: &JoinForm,
    errors: &Errors,
) -> Result<Response, Error> {
    let lang = pages::language(headers);
    let w = words(lang);
    let texts = consent::texts(lang);
    let (nonce, set_cookie) = guard.nonce(headers);
    // First message per field next to it; all of them in the summary.
    let mut by_field: BTreeMap<&str, &str> = BTreeMap::new();
    for (field, msg) in errors {
        by_field.entry(field).or_insert(msg);
    }
    let hinted = ["email", "phone", "birthday"];
    let attrs: BTreeMap<&str, String> = ["first_name", "email", "phone", "birthday", "terms"]
        .into_iter()
        .map(|f| {
            let mut ids = Vec::new();
            if hinted.contains(&f) {
                ids.push(format!("{f}-hint"));
            }
            if by_field.contains_key(f) {
                ids.push(format!("{f}-error"));
            }
            let mut a = String::new();
            if !ids.is_empty() {
                a.push_str(&format!(" aria-describedby=\"{}\"", ids.join(" ")));
            }
            if by_field.contains_key(f) {
                a.push_str(" aria-invalid=\"true\"");
            }
            (f, a)
        })
        .collect();
    let today = time::OffsetDateTime::now_utc().date();
    let ctx = json!({
        "lang": lang,
        "title": format!("{} · {store_name}", w.heading),
        "store_name": store_name,
        "code": flyer.code,
        "csrf": guard.token(&nonce),
        "consent_version": CONSENT_VERSION,
        "today": format!("{:04}-{:02}-{:02}", today.year(), u8::from(today.month()), today.day()),
        "t": {
            "heading": w.heading, "intro": w.intro, "first_name": w.first_name, "email": w.email,
            "phone": w.phone, "contact_hint": w.contact_hint, "birthday": w.birthday,
            "birthday_hint": w.birthday_hint, "consent": w.consent, "submit": w.submit, "summary": w.summary,
            "version": w.version, "terms": texts.terms, "marketing": texts.marketing,
        },
        "values": {
            "first_name": values.first_name, "email": values.email, "phone": values.phone,
            "birthday": values.birthday, "terms": ticked(&values.terms), "marketing": ticked(&values.marketing),
        },
        "errors": by_field,
        "error_list": errors.iter().map(|(f, m)| json!({"field": f, "message": m})).collect::<Vec<Value>>(),
        "a": attrs,
    });
    let mut resp = page(status, render("join.html", ctx)?);
    if let Some(cookie) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?);
    }
    Ok(resp)
}

/// The new member's page: their wallet's button first.
pub(super) fn card_page(
    state: &AppState,
    headers: &HeaderMap,
    store_name: &str,
    member: &MemberRecord,
    pass: &PassRecord,
) -> Result<Response, Error> {
    let lang = pages::language(headers);
    let (add_apple, add_google) = if lang == "fr" {
        ("Ajouter à Apple Wallet", "Enregistrer dans Google Wallet")
    } else {
        ("Add to Apple Wallet", "Save to Google Wallet")
    };
    let (apple_pass_url, _) = state.passes.urls(pass);
    let mut buttons = vec![json!({"kind": "apple", "href": apple_pass_url, "label": add_apple})];
    if let Some(google_url) = views::google_save_url(state, pass) {
        let google = json!({"kind": "google", "href": google_url, "label": add_google});
        if pages::is_android(headers) {
            buttons.insert(0, google);
        } else {
            buttons.push(google);
        }
    }
    let (heading, intro, card_number, keep) = if lang == "fr" {
        (
            format!("Bienvenue, {} !", member.first_name),
            "Votre carte de fidélité est prête. Ajoutez-la à votre téléphone :",
            "Numéro de carte :",
            "Vos points s'affichent sur la carte et se mettent à jour tout seuls.",
        )
    } else {
        (
            format!("Welcome, {}!", member.first_name),
            "Your loyalty card is ready. Add it to your phone:",
            "Card number:",
            "Your points show on the card and update by themselves.",
        )
    };
    let ctx = json!({
        "lang": lang,
        "title": heading,
        "store_name": store_name,
        "card_number": member.card_number,
        "buttons": buttons,
        "t": {"heading": heading, "intro": intro, "card_number": card_number, "keep": keep},
    });
    Ok(page(StatusCode::OK, render("join_card.html", ctx)?))
}
