//! Links mailed to members or printed on their pass: `GET /verify/{token}` (one-time e-mail
//! verification), `GET /consent/{token}` (a one-tap page) and `POST /consent/{token}`
//! (withdraws marketing consent; GET never changes anything, so link previews are harmless),
//! `GET /merge/{token}` and `POST /merge/{token}` (merges a provisional card into the account of
//! the member it was mailed to; again GET only shows the button, since mail scanners follow
//! links), and the admin `POST /api/v1/members/{id}/verify-email` that queues a verification e-mail.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::pages;
use crate::access::Actor;
use crate::error::Result;
use crate::http::AppState;
use crate::loyalty::members;
use crate::loyalty::provisional::{self, MergeOutcome};
use crate::loyalty::verification::{self, VerifyOutcome};
use crate::store::MemberRecord;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/verify/{token}", get(verify))
        .route("/consent/{token}", get(consent_page).post(withdraw))
        .route("/merge/{token}", get(merge_page).post(merge))
        .route("/api/v1/members/{id}/verify-email", post(send_verification))
}

/// A token as links carry it: 32 hex characters. Anything else is unknown without a lookup.
fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The page's language: the member's, else the browser's.
fn language(member: Option<&MemberRecord>, headers: &HeaderMap) -> &'static str {
    match member.and_then(|m| m.language.as_deref()) {
        Some(l) if l.to_ascii_lowercase().starts_with("fr") => "fr",
        Some(_) => "en",
        None => pages::language(headers),
    }
}

fn page(status: StatusCode, lang: &str, title: &str, message: &str, form: Option<(&str, &str)>) -> Result<Response> {
    let (action, button) = form.unzip();
    let html = pages::render(
        "member_link.html",
        json!({"lang": lang, "title": title, "message": message, "form_action": action, "button": button}),
    )?;
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn unknown_link(lang: &str) -> Result<Response> {
    let (title, message) = if lang == "fr" {
        ("Lien inconnu", "Ce lien n'existe pas. Vérifiez qu'il a été copié en entier.")
    } else {
        ("Unknown link", "This link does not exist. Check that it was copied in full.")
    };
    page(StatusCode::NOT_FOUND, lang, title, message, None)
}

async fn verify(State(state): State<Arc<AppState>>, Path(token): Path<String>, headers: HeaderMap) -> Result<Response> {
    let outcome = if well_formed(&token) {
        verification::verify_email(&state.loyalty, &token).await?
    } else {
        VerifyOutcome::Unknown
    };
    let fr = |member: Option<&MemberRecord>| language(member, &headers) == "fr";
    match outcome {
        VerifyOutcome::Verified(member) => {
            let lang = language(Some(&member), &headers);
            let (title, message) = if fr(Some(&member)) {
                ("Adresse confirmée", "Merci ! Votre adresse e-mail est confirmée.")
            } else {
                ("Address confirmed", "Thank you! Your e-mail address is confirmed.")
            };
            page(StatusCode::OK, lang, title, message, None)
        }
        VerifyOutcome::AlreadyUsed => {
            let lang = language(None, &headers);
            let (title, message) = if fr(None) {
                ("Lien déjà utilisé", "Ce lien a déjà servi : votre adresse est sans doute déjà confirmée.")
            } else {
                ("Link already used", "This link has been used already: your address is most likely confirmed.")
            };
            page(StatusCode::GONE, lang, title, message, None)
        }
        VerifyOutcome::Expired => {
            let lang = language(None, &headers);
            let (title, message) = if fr(None) {
                ("Lien expiré", "Ce lien n'est plus valable. Demandez un nouveau lien de confirmation.")
            } else {
                ("Link expired", "This link is no longer valid. Ask for a new confirmation link.")
            };
            page(StatusCode::GONE, lang, title, message, None)
        }
        VerifyOutcome::Unknown => unknown_link(language(None, &headers)),
    }
}

async fn consent_page(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let member = if well_formed(&token) { verification::consent_member(&state.loyalty, &token).await? } else { None };
    let Some(member) = member else { return unknown_link(language(None, &headers)) };
    let lang = language(Some(&member), &headers);
    let action = format!("/consent/{token}");
    match (lang, member.consent_marketing) {
        ("fr", true) => page(
            StatusCode::OK,
            lang,
            "Offres et actualités",
            "Vous ne souhaitez plus recevoir nos offres ? Un seul geste suffit. Votre carte de fidélité et vos points restent inchangés.",
            Some((&action, "Ne plus recevoir d'offres")),
        ),
        (_, true) => page(
            StatusCode::OK,
            lang,
            "Offers and news",
            "No longer want our offers? One tap is enough. Your loyalty card and points stay as they are.",
            Some((&action, "Stop offers and news")),
        ),
        (_, false) => withdrawn(lang),
    }
}

fn withdrawn(lang: &str) -> Result<Response> {
    let (title, message) = if lang == "fr" {
        ("C'est noté", "Vous ne recevrez plus nos offres. Votre carte de fidélité et vos points restent inchangés.")
    } else {
        ("Done", "You will no longer receive our offers. Your loyalty card and points stay as they are.")
    };
    page(StatusCode::OK, lang, title, message, None)
}

async fn withdraw(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let member = if well_formed(&token) { verification::withdraw_consent(&state.loyalty, &token).await? } else { None };
    match member {
        Some(member) => withdrawn(language(Some(&member), &headers)),
        None => unknown_link(language(None, &headers)),
    }
}

fn merge_closed(lang: &str) -> Result<Response> {
    let (title, message) = if lang == "fr" {
        ("Lien déjà utilisé", "Cette carte a déjà été regroupée avec votre compte, ou elle a expiré.")
    } else {
        ("Link already used", "This card was already merged into your account, or it has expired.")
    };
    page(StatusCode::GONE, lang, title, message, None)
}

/// The merge link's page: one button (the POST below) and nothing changed.
async fn merge_page(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let lang = language(None, &headers);
    let open = if well_formed(&token) { provisional::merge_open(&state.loyalty, &token).await? } else { None };
    match open {
        None => unknown_link(lang),
        Some(false) => merge_closed(lang),
        Some(true) => {
            let action = format!("/merge/{token}");
            let (title, message, button) = if lang == "fr" {
                (
                    "Regrouper la nouvelle carte",
                    "La nouvelle carte et ses points rejoignent votre compte ; elle est ensuite annulée.",
                    "Regrouper avec mon compte",
                )
            } else {
                (
                    "Merge the new card",
                    "The new card and its points move into your account; the new card is then cancelled.",
                    "Merge into my account",
                )
            };
            page(StatusCode::OK, lang, title, message, Some((&action, button)))
        }
    }
}

/// Merges: only a POST to the link's own URL does (the token in it is the proof).
async fn merge(State(state): State<Arc<AppState>>, Path(token): Path<String>, headers: HeaderMap) -> Result<Response> {
    let outcome =
        if well_formed(&token) { provisional::merge(&state.loyalty, &token).await? } else { MergeOutcome::Unknown };
    match outcome {
        MergeOutcome::Merged(member) => {
            let lang = language(Some(&member), &headers);
            let (title, message) = if lang == "fr" {
                (
                    "C'est fait",
                    "La carte a rejoint votre compte, avec ses points. Vous pouvez la supprimer de votre téléphone.",
                )
            } else {
                ("Done", "The card is merged into your account, with its points. You can remove it from your phone.")
            };
            page(StatusCode::OK, lang, title, message, None)
        }
        MergeOutcome::Closed => merge_closed(language(None, &headers)),
        MergeOutcome::Unknown => unknown_link(language(None, &headers)),
    }
}

/// Queues the e-mail with a one-time link that verifies the member's address → 202
/// `{"sent_to"}`; the job queue sends it (and retries while the mail server is down).
async fn send_verification(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>)> {
    let member = members::get_as(&state.loyalty, &actor, &id).await?;
    verification::queue_verification(&state.loyalty, &member).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"member_id": member.id, "sent_to": member.email}))))
}
