//! The enrollment page of a flyer's QR code: `GET /join/{code}` shows the sign-up form (and
//! counts a scan), `POST /join/{code}` signs the shopper up and shows their card's wallet
//! buttons. No JavaScript, no external assets; English or French by `Accept-Language`.
//!
//! An e-mail or phone that already belongs to a member never shows that member's card here
//! (anyone knowing an address could see it): the card link goes to the address on file.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::join_guard::{JoinGuard, Limited};
use super::{client_ip, pages, views};
use crate::app::AppState;
use crate::error::Error;
use crate::loyalty::consent::{self, CONSENT_VERSION};
use crate::loyalty::contact;
use crate::loyalty::members::{self, Consent, NewMember, Source};
use crate::store::{FlyerRecord, MemberRecord, PassRecord};
use crate::stores::flyers;

/// The channel members who sign up here are recorded with.
pub const CHANNEL: &str = "flyer";
const MAX_NAME_CHARS: usize = 100;

pub fn router(state: &AppState) -> Router<Arc<AppState>> {
    let guard = JoinGuard::new(&state.config, &state.public_url).expect("OpenSSL makes an HMAC key");
    Router::new().route("/join/{code}", get(show).post(submit)).layer(Extension(Arc::new(guard)))
}

/// The page's words in one language.
struct Words {
    heading: &'static str,
    intro: &'static str,
    first_name: &'static str,
    email: &'static str,
    phone: &'static str,
    contact_hint: &'static str,
    birthday: &'static str,
    birthday_hint: &'static str,
    consent: &'static str,
    submit: &'static str,
    summary: &'static str,
    version: &'static str,
    need_first_name: &'static str,
    long_first_name: &'static str,
    need_contact: &'static str,
    bad_email: &'static str,
    bad_phone: &'static str,
    bad_birthday: &'static str,
    need_terms: &'static str,
}

const EN: Words = Words {
    heading: "Join our loyalty programme",
    intro: "Get your loyalty card in Apple Wallet or Google Wallet in a few seconds.",
    first_name: "First name",
    email: "E-mail address",
    phone: "Mobile phone number",
    contact_hint: "An e-mail address or a phone number: one is enough.",
    birthday: "Birthday (optional)",
    birthday_hint: "For a treat on your birthday. Format: YYYY-MM-DD.",
    consent: "Your consent",
    submit: "Get my card",
    summary: "Please correct the following:",
    version: "Consent wording version",
    need_first_name: "Enter your first name.",
    long_first_name: "Your first name must be at most 100 letters.",
    need_contact: "Enter an e-mail address or a phone number.",
    bad_email: "Enter an e-mail address like name@example.com.",
    bad_phone: "Enter a mobile number like 06 12 34 56 78 or +33 6 12 34 56 78.",
    bad_birthday: "Enter a past date like 1990-05-31.",
    need_terms: "Tick this box to join the programme.",
};

const FR: Words = Words {
    heading: "Rejoignez notre programme de fidélité",
    intro: "Obtenez votre carte de fidélité dans Apple Wallet ou Google Wallet en quelques secondes.",
    first_name: "Prénom",
    email: "Adresse e-mail",
    phone: "Numéro de téléphone mobile",
    contact_hint: "Une adresse e-mail ou un numéro de téléphone : l'un des deux suffit.",
    birthday: "Date d'anniversaire (facultatif)",
    birthday_hint: "Pour une attention le jour de votre anniversaire. Format : AAAA-MM-JJ.",
    consent: "Votre consentement",
    submit: "Obtenir ma carte",
    summary: "Merci de corriger ce qui suit :",
    version: "Version du texte de consentement",
    need_first_name: "Indiquez votre prénom.",
    long_first_name: "Votre prénom doit compter au plus 100 lettres.",
    need_contact: "Indiquez une adresse e-mail ou un numéro de téléphone.",
    bad_email: "Indiquez une adresse e-mail comme nom@exemple.fr.",
    bad_phone: "Indiquez un numéro de mobile comme 06 12 34 56 78 ou +33 6 12 34 56 78.",
    bad_birthday: "Indiquez une date passée comme 1990-05-31.",
    need_terms: "Cochez cette case pour rejoindre le programme.",
};

fn words(lang: &str) -> &'static Words {
    if lang == "fr" { &FR } else { &EN }
}

/// What the form posts; every field is text, absent when empty.
#[derive(Debug, Default, Deserialize)]
pub struct JoinForm {
    csrf: Option<String>,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    birthday: String,
    terms: Option<String>,
    marketing: Option<String>,
}

/// Field name → message, in the order the fields appear.
type Errors = Vec<(&'static str, &'static str)>;

/// The checks of the form, with messages a shopper understands (the API's are for developers).
fn validate(state: &AppState, w: &Words, f: &JoinForm) -> Errors {
    let mut errors = Errors::new();
    let name = f.first_name.trim();
    if name.is_empty() {
        errors.push(("first_name", w.need_first_name));
    } else if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        errors.push(("first_name", w.long_first_name));
    }
    let (email, phone) = (f.email.trim(), f.phone.trim());
    if email.is_empty() && phone.is_empty() {
        errors.push(("email", w.need_contact));
    }
    if !email.is_empty() && contact::normalise_email(email).is_err() {
        errors.push(("email", w.bad_email));
    }
    if !phone.is_empty() && contact::normalise_phone(phone, state.config.default_country).is_err() {
        errors.push(("phone", w.bad_phone));
    }
    let birthday = f.birthday.trim();
    if !birthday.is_empty() {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let today = time::OffsetDateTime::now_utc().date();
        let ok = time::Date::parse(birthday, format).is_ok_and(|d| d <= today && d.year() >= 1900);
        if !ok {
            errors.push(("birthday", w.bad_birthday));
        }
    }
    if f.terms.is_none() {
        errors.push(("terms", w.need_terms));
    }
    errors
}

/// A page: its fragment `name`, then the layout around it (with `lang` and `title` from `ctx`).
fn render(name: &str, ctx: Value) -> anyhow::Result<String> {
    let body = pages::render(name, &ctx)?;
    pages::render("join_base.html", json!({"lang": ctx["lang"], "title": ctx["title"], "body": body}))
}

/// Headers of every page here: never cached (they carry a CSRF token), never framed, and
/// nothing loaded from anywhere.
fn page(status: StatusCode, html: String) -> Response {
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// A page of a heading and a few paragraphs (errors, "we sent it to you").
fn message(
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

fn back_to_form(lang: &str, code: &str) -> Option<(String, &'static str)> {
    let label = if lang == "fr" { "Retour au formulaire" } else { "Back to the form" };
    flyers::valid_code(code).then(|| (format!("/join/{code}"), label))
}

/// The HTML answer to a failure: 404 for an unknown flyer, otherwise a logged 500.
fn failure(lang: &str, e: Error) -> Response {
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

async fn flyer_and_store_name(state: &AppState, code: &str) -> Result<(FlyerRecord, String), Error> {
    let flyer = flyers::find(state, code).await?;
    let store = state.store.store(&flyer.store_id).await?;
    let name = store.map(|s| s.name).unwrap_or_default();
    Ok((flyer, name))
}

/// The form, with the values and errors of a refused submission.
fn form(
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
            "birthday": values.birthday, "terms": values.terms.is_some(), "marketing": values.marketing.is_some(),
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

async fn show(
    State(state): State<Arc<AppState>>,
    Extension(guard): Extension<Arc<JoinGuard>>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let shown = async {
        let (flyer, store_name) = flyer_and_store_name(&state, &code).await?;
        // A lost count is no reason to lose the sign-up.
        if let Err(e) = state.store.count_flyer_scan(&flyer.code).await {
            tracing::warn!(code = %flyer.code, "counting a flyer scan: {e:#}");
        }
        form(&guard, &headers, StatusCode::OK, &flyer, &store_name, &JoinForm::default(), &Errors::new())
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
    if let Err(Limited(wait)) = guard.check_rate(ip) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::info!(%ip, code = %flyer.code, "sign-up form rate limit reached");
        let (h, p) = if lang == "fr" {
            ("Trop de tentatives", "Trop d'inscriptions depuis cette connexion. Réessayez dans une minute.")
        } else {
            ("Too many attempts", "Too many sign-ups from this connection. Please try again in a minute.")
        };
        let mut resp = message(StatusCode::TOO_MANY_REQUESTS, lang, Some(&store_name), h, &[p], None);
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        return resp;
    }
    let form_data = match body {
        Ok(Form(f)) => Some(f),
        Err(e) => {
            tracing::info!("unreadable sign-up form: {}", e.body_text());
            None
        }
    };
    let csrf_ok = form_data.as_ref().is_some_and(|f| guard.verify(&parts.headers, f.csrf.as_deref()));
    let Some(f) = form_data.filter(|_| csrf_ok) else {
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
        match members::create(&state, new_member(lang, &flyer, &f)).await {
            Ok((member, pass)) => {
                // The e-mail counts as verified once its owner follows this link (receipts rely on it).
                if member.email.is_some()
                    && let Err(e) = crate::loyalty::verification::send_verification(&state, &member).await
                {
                    tracing::warn!(member = %member.id, "verification e-mail not sent: {e:#}");
                }
                card_page(&state, &parts.headers, &store_name, &member, &pass)
            }
            Err(Error::Duplicate { member_id, .. }) => {
                let existing = members::get(&state, &member_id).await?;
                send_card_link(&state, &existing).await;
                Ok(sent_page(lang, &store_name, &flyer.code))
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
            terms: f.terms.is_some(),
            marketing: f.marketing.is_some(),
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

/// Sends an existing member their card's link, to the address on file; never fails the page
/// (it says the same whether or not anything could be sent).
async fn send_card_link(state: &AppState, member: &MemberRecord) {
    if member.email.is_none() {
        tracing::warn!(member = %member.id, "a sign-up repeated a phone-only member's number: SMS is not configured, so no card link was sent");
        return;
    }
    if let Err(e) = crate::loyalty::verification::send_card_link(state, member).await {
        tracing::error!(member = %member.id, "sending the card link to the address on file: {e:#}");
    }
}

fn sent_page(lang: &str, store_name: &str, code: &str) -> Response {
    let (h, p1, p2) = if lang == "fr" {
        (
            "Vérifiez votre messagerie",
            "Si vous avez déjà une carte, nous vous l'avons envoyée à l'adresse enregistrée.",
            "Ouvrez le lien reçu sur votre téléphone pour ajouter la carte à votre portefeuille.",
        )
    } else {
        (
            "Check your inbox",
            "If you already have a card, we sent it to the address on file.",
            "Open the link we sent on your phone to add the card to your wallet.",
        )
    };
    message(StatusCode::OK, lang, Some(store_name), h, &[p1, p2], back_to_form(lang, code))
}

/// The new member's page: their wallet's button first.
fn card_page(
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
    let (apple_pass_url, _) = views::pass_urls(state, pass);
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
