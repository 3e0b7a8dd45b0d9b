//! The member's private "My receipts" pages, opened from the link on the back of the loyalty
//! pass: `GET /me/{token}` (the loyalty card, the live offers with their wallet buttons, and
//! the receipts, newest first) and
//! `GET /me/{token}/receipts/{receipt_id}` (one receipt with its own wallet buttons). Without a
//! valid token, or for another member's receipt, a plain 404 page that names no one. Plus the
//! admin `POST /api/v1/members/{id}/me-link/revoke`, which puts a fresh link on the pass.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{pages, views};
use crate::access::{Actor, Area};
use crate::error::Result;
use crate::http::AppState;
use crate::loyalty::me;
use crate::offers::coupon::{localized, reward_text};
use crate::receipts::{currency_exponent, format_amount};
use crate::store::{MemberRecord, PassRecord, ReceiptRecord};

/// Most receipts listed on the page.
const MAX_RECEIPTS: i64 = 200;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/me/{token}", get(me_page))
        .route("/me/{token}/receipts/{receipt_id}", get(receipt_page))
        .route("/api/v1/members/{id}/me-link/revoke", post(revoke))
}

/// A token as links carry it: 32 hex characters.
fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn private(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page for an unknown link, a revoked one or a receipt that is not the member's.
fn not_found(headers: &HeaderMap) -> Result<Response> {
    let lang = pages::language(headers);
    let (title, message) = if lang == "fr" {
        ("Lien inconnu", "Ce lien n'existe pas. Vérifiez qu'il a été copié en entier.")
    } else {
        ("Unknown link", "This link does not exist. Check that it was copied in full.")
    };
    let html = pages::render("member_link.html", json!({"lang": lang, "title": title, "message": message}))?;
    Ok(private(StatusCode::NOT_FOUND, html))
}

async fn member(state: &AppState, token: &str) -> Result<Option<MemberRecord>> {
    if !well_formed(token) {
        return Ok(None);
    }
    me::member_for(&state.loyalty, token).await
}

/// The texts of the pages.
fn texts(lang: &str) -> Value {
    if lang == "fr" {
        json!({
            "title": "Mes tickets", "hello": "Bonjour", "card": "Ma carte de fidélité", "points": "points",
            "receipts": "Mes tickets de caisse", "none": "Aucun ticket pour l'instant.",
            "apple": "Ajouter à Apple Wallet", "google": "Enregistrer dans Google Wallet",
            "back": "← Mes tickets", "receipt": "Ticket", "subtotal": "Sous-total", "tax": "TVA",
            "tax_included": "TVA incluse", "total": "Total", "payment": "Paiement", "voided": "Cette carte n'est plus valable.",
            "private": "Page privée : ne partagez pas ce lien.", "offers": "Mes offres", "until": "jusqu'au",
        })
    } else {
        json!({
            "title": "My receipts", "hello": "Hello", "card": "My loyalty card", "points": "points",
            "receipts": "My receipts", "none": "No receipts yet.",
            "apple": "Add to Apple Wallet", "google": "Save to Google Wallet",
            "back": "← My receipts", "receipt": "Receipt", "subtotal": "Subtotal", "tax": "Tax",
            "tax_included": "Tax included", "total": "Total", "payment": "Payment", "voided": "This card is no longer valid.",
            "private": "Private page: do not share this link.", "offers": "My offers", "until": "until",
        })
    }
}

/// The wallet buttons of a pass, the phone's own wallet first.
fn buttons(state: &AppState, pass: &PassRecord, headers: &HeaderMap, t: &Value) -> Vec<Value> {
    if pass.voided {
        return Vec::new();
    }
    let (apple_url, _) = state.passes.urls(pass);
    let mut list = vec![json!({"kind": "apple", "href": apple_url, "label": t["apple"]})];
    if let Some(google) = views::google_save_url(state, pass) {
        let button = json!({"kind": "google", "href": google, "label": t["google"]});
        if pages::is_android(headers) {
            list.insert(0, button);
        } else {
            list.push(button);
        }
    }
    list
}

/// `2026-11-22T15:42:00+01:00` → `2026-11-22 15:42` (the till's own local time).
fn short_date(r: &ReceiptRecord) -> String {
    let given = r.body.get("issued_at").and_then(Value::as_str).unwrap_or_default();
    match (given.get(..10), given.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => views::rfc3339(r.issued_at),
    }
}

fn money(minor: i64, currency: &str) -> String {
    format!("{} {currency}", format_amount(minor, currency_exponent(currency)))
}

fn currency(r: &ReceiptRecord) -> String {
    r.body["totals"]["currency"].as_str().unwrap_or_default().to_owned()
}

async fn store_name(state: &AppState, id: &str) -> Result<String> {
    Ok(state.store.shop(id).await?.map(|s| s.name).unwrap_or_else(|| id.to_owned()))
}

async fn me_page(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let Some(member) = member(&state, &token).await? else { return not_found(&headers) };
    let lang = pages::language(&headers);
    let t = texts(lang);
    let card = match &member.pass_serial {
        Some(serial) => state.store.pass(serial).await?,
        None => None,
    };
    let card = card.map(|p| json!({"voided": p.voided, "buttons": buttons(&state, &p, &headers, &t)}));
    let mut offers = Vec::new();
    for (instance, offer) in crate::offers::card::live(state.store.as_ref(), &member.id).await? {
        let pass = match &instance.pass_serial {
            Some(serial) => state.store.pass(serial).await?,
            None => None,
        };
        let until = views::rfc3339(offer.valid_until);
        offers.push(json!({
            "title": localized(&offer.title, Some(lang)),
            "reward": reward_text(&offer.reward, Some(lang)),
            "until": until.get(..10).unwrap_or_default(),
            "code": instance.code,
            "buttons": pass.map(|p| buttons(&state, &p, &headers, &t)).unwrap_or_default(),
        }));
    }
    let mut receipts = Vec::new();
    for r in state.store.member_receipts(&member.id, None, MAX_RECEIPTS).await? {
        let currency = currency(&r);
        receipts.push(json!({
            "href": format!("/me/{token}/receipts/{}", r.id),
            "date": short_date(&r),
            "store": store_name(&state, &r.store_id).await?,
            "number": r.receipt_number,
            "total": money(r.body["totals"]["total"].as_i64().unwrap_or_default(), &currency),
        }));
    }
    let html = pages::render(
        "me.html",
        json!({
            "lang": lang, "t": t, "first_name": member.first_name, "points": member.points,
            "card_number": member.card_number, "card": card, "receipts": receipts, "offers": offers,
        }),
    )?;
    Ok(private(StatusCode::OK, html))
}

async fn receipt_page(
    State(state): State<Arc<AppState>>,
    Path((token, receipt_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let Some(member) = member(&state, &token).await? else { return not_found(&headers) };
    let Some(r) = state.store.receipt(&receipt_id).await? else { return not_found(&headers) };
    if r.member_id.as_deref() != Some(member.id.as_str()) {
        return not_found(&headers);
    }
    let lang = pages::language(&headers);
    let t = texts(lang);
    let currency = currency(&r);
    let totals = &r.body["totals"];
    let amount = |v: &Value| money(v.as_i64().unwrap_or_default(), &currency);
    let lines: Vec<Value> = r.body["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| json!({"quantity": l["quantity"], "label": l["label"], "total": amount(&l["total"])}))
                .collect()
        })
        .unwrap_or_default();
    let payment = r.body.get("payment").filter(|p| p.is_object()).map(|p| {
        let method = p["method"].as_str().unwrap_or_default();
        let mut chars = method.chars();
        let method: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        match p["last4"].as_str() {
            Some(l) => format!("{method} •••• {l}"),
            None => method,
        }
    });
    let pass = state.store.pass(&r.pass_serial).await?;
    let html = pages::render(
        "me_receipt.html",
        json!({
            "lang": lang, "t": t, "back": format!("/me/{token}"),
            "store": store_name(&state, &r.store_id).await?, "date": short_date(&r), "number": r.receipt_number,
            "lines": lines, "subtotal": amount(&totals["subtotal"]), "tax": amount(&totals["tax"]),
            "tax_included": totals["tax_included"].as_bool().unwrap_or(false), "total": amount(&totals["total"]),
            "payment": payment, "buttons": pass.map(|p| buttons(&state, &p, &headers, &t)).unwrap_or_default(),
        }),
    )?;
    Ok(private(StatusCode::OK, html))
}

/// Revokes the member's "My receipts" links and puts a new one on the pass → 200 `{"me_url"}`.
async fn revoke(State(state): State<Arc<AppState>>, actor: Actor, Path(id): Path<String>) -> Result<Json<Value>> {
    actor.require(Area::Members)?;
    let url = me::revoke(&state.loyalty, &id).await?;
    Ok(Json(json!({"member_id": id, "me_url": url})))
}
