//! `/console/members`: search by card number, e-mail, phone or name (a store manager: its own
//! store's members), and a member's page: points, ledger, tier, receipts, cards and devices,
//! consent, and a points adjustment with a reason (`POST /console/members/{id}/points`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::pages::{self, when};
use super::session::{Form, Signed};
use crate::error::Error;
use crate::http::AppState;
use crate::loyalty::consent::CONSENT_ACTION;
use crate::loyalty::{browse, members};
use crate::receipts::{self, currency_exponent, format_amount};
use crate::store::{AuditQuery, MemberRecord, PointsEntry};

const PAGE: i64 = 50;
const LEDGER: i64 = 20;
const RECEIPTS: i64 = 20;
const CONSENT_HISTORY: i64 = 50;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn name(m: &MemberRecord) -> String {
    match &m.last_name {
        Some(last) => format!("{} {last}", m.first_name),
        None => m.first_name.clone(),
    }
}

/// A domain refusal as a console page: 404 and 403 as themselves, anything else as an error.
pub fn refused(signed: &Signed, e: Error) -> Response {
    match e {
        Error::NotFound(_) => pages::error(signed.lang, StatusCode::NOT_FOUND, "not_found"),
        Error::Forbidden(_) => pages::error(signed.lang, StatusCode::FORBIDDEN, "forbidden"),
        other => other.into_response(),
    }
}

pub async fn list(State(state): State<Arc<AppState>>, signed: Signed, Query(q): Query<SearchQuery>) -> Response {
    let found = match browse::search(&state.loyalty, &signed.actor, &q.q, PAGE).await {
        Ok(found) => found,
        Err(e) => return refused(&signed, e),
    };
    let rows: Vec<Value> = found
        .iter()
        .map(|m| {
            json!({"id": m.id, "name": name(m), "card": m.card_number, "email": m.email, "phone": m.phone,
                   "store": m.home_store_id, "points": m.points, "tier": m.tier})
        })
        .collect();
    pages::render(&signed, "members.html", "members", json!({"q": q.q, "members": rows}))
}

/// Who recorded a consent statement, in words: the sign-up page, the withdrawal link, or the
/// key or user as the audit log names them.
fn consent_source(lang: &str, actor: &str) -> String {
    match actor.split(" (").next() {
        Some("flow:join") => super::i18n::text(lang, "consent_by_join"),
        Some("flow:consent link") => super::i18n::text(lang, "consent_by_link"),
        _ => actor.to_owned(),
    }
}

/// A points form sent back: what was typed, and the message beside the field it is about.
struct PointsRetry {
    delta: String,
    reason: String,
    field: &'static str,
    message: String,
}

/// The member's page, with the points form sent back beside its error if there was one.
async fn member_page(state: &AppState, signed: &Signed, id: &str, retry: Option<PointsRetry>) -> Response {
    let m = match browse::browse(&state.loyalty, &signed.actor, id).await {
        Ok(m) => m,
        Err(e) => return refused(signed, e),
    };
    let page = async {
        let ledger = state.store.points_history(&m.id, None, LEDGER).await?;
        let receipts = receipts::of_member(&state.receipts, &signed.actor, &m.id, RECEIPTS).await?;
        let consents = AuditQuery {
            object_kind: Some("member".into()),
            object_id: Some(m.id.clone()),
            action: Some(CONSENT_ACTION.into()),
            limit: CONSENT_HISTORY,
            ..Default::default()
        };
        let consents = state.store.audit_log(&consents).await?;
        let (pass, devices, google) = match &m.pass_serial {
            Some(serial) => (
                state.store.pass(serial).await?,
                state.store.pass_devices(serial).await?,
                state.store.google_object(serial).await?,
            ),
            None => (None, Vec::new(), None),
        };
        Ok::<_, Error>((ledger, receipts, consents, pass, devices, google))
    };
    let (ledger, receipts, consents, pass, devices, google) = match page.await {
        Ok(parts) => parts,
        Err(e) => return e.into_response(),
    };
    let ledger: Vec<Value> = ledger
        .iter()
        .map(|e| {
            json!({"at": when(e.created_at), "delta": e.delta, "reason": e.reason, "store": e.store_id,
                   "balance": e.balance_after, "tier": e.tier_after})
        })
        .collect();
    let receipts: Vec<Value> = receipts
        .iter()
        .map(|r| {
            let totals = &r.body["totals"];
            let currency = totals["currency"].as_str().unwrap_or("EUR");
            let total = format_amount(totals["total"].as_i64().unwrap_or(0), currency_exponent(currency));
            json!({"number": r.receipt_number, "store": r.store_id, "at": when(r.issued_at),
                   "total": format!("{total} {currency}")})
        })
        .collect();
    let consents: Vec<Value> = consents
        .iter()
        .map(|r| {
            let d = &r.entry.detail;
            json!({"at": when(r.at), "terms": d["terms"], "marketing": d["marketing"], "version": d["version"],
                   "by": consent_source(signed.lang, &r.entry.actor)})
        })
        .collect();
    let ctx = json!({
        "m": {
            "id": m.id, "name": name(&m), "card": m.card_number, "email": m.email, "email_verified": m.email_verified,
            "phone": m.phone, "phone_verified": m.phone_verified, "store": m.home_store_id, "points": m.points,
            "tier": m.tier, "tier_manual": m.tier_manual.is_some(), "language": m.language,
            "joined": when(m.created_at), "source_flyer": m.source_flyer, "source_channel": m.source_channel,
            "consent": {"terms": m.consent_terms, "marketing": m.consent_marketing, "version": m.consent_version,
                        "at": m.consent_at.map(when)},
        },
        "ledger": ledger,
        "receipts": receipts,
        "consents": consents,
        "pass": pass.map(|p| json!({"serial": p.serial_number, "voided": p.voided, "updated": when(p.updated_at)})),
        "devices": devices.iter().map(|d| when(d.registered_at)).collect::<Vec<_>>(),
        "google_saved": google.is_some_and(|g| g.saved),
        "points": retry.as_ref().map(|r| json!({"delta": r.delta, "reason": r.reason, "field": r.field,
            "error": r.message})),
    });
    let mut resp = pages::render(signed, "member.html", "members", ctx);
    if retry.is_some() {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    resp
}

pub async fn show(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    member_page(&state, &signed, &id, None).await
}

#[derive(Deserialize)]
pub struct PointsForm {
    #[serde(default)]
    delta: String,
    #[serde(default)]
    reason: String,
}

/// A points adjustment: a whole number (negative to take points away) and a reason.
pub async fn adjust(State(state): State<Arc<AppState>>, Path(id): Path<String>, form: Form<PointsForm>) -> Response {
    let Form { signed, fields } = form;
    // Only members this user may browse are adjusted here.
    if let Err(e) = browse::browse(&state.loyalty, &signed.actor, &id).await {
        return refused(&signed, e);
    }
    let retry = |field: &'static str, message: String| PointsRetry {
        delta: fields.delta.clone(),
        reason: fields.reason.clone(),
        field,
        message,
    };
    let Ok(delta) = fields.delta.trim().parse::<i64>() else {
        let message = super::i18n::text(signed.lang, "points_whole_number");
        return member_page(&state, &signed, &id, Some(retry("delta", message))).await;
    };
    if fields.reason.trim().is_empty() {
        let message = super::i18n::text(signed.lang, "points_reason_required");
        return member_page(&state, &signed, &id, Some(retry("reason", message))).await;
    }
    let entry = PointsEntry { delta, reason: Some(fields.reason.clone()), store_id: None, idempotency_key: None };
    match members::add_points(&state.loyalty, &signed.actor, &id, entry).await {
        Ok(_) => Redirect::to(&format!("/console/members/{id}")).into_response(),
        Err(Error::Unprocessable { message, field }) => {
            let field = if field.as_deref() == Some("reason") { "reason" } else { "delta" };
            member_page(&state, &signed, &id, Some(retry(field, message))).await
        }
        Err(e) => refused(&signed, e),
    }
}
