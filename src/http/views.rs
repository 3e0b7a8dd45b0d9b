//! JSON shapes the admin API answers with.

use serde_json::{Value, json};

use crate::http::AppState;
use crate::store::{ApiKeyRecord, PassRecord};

pub use crate::templates::datetime::rfc3339;

/// The pass object of the admin API.
pub fn pass(state: &AppState, pass: &PassRecord) -> Value {
    let (apple_pass_url, pass_page_url) = state.passes.urls(pass);
    json!({
        "serial_number": pass.serial_number,
        "template": pass.template,
        "pass_type_identifier": state.passes.builder.identity().pass_type_identifier,
        "data": pass.data,
        "voided": pass.voided,
        "apple_pass_url": apple_pass_url,
        "pass_page_url": pass_page_url,
        "google_save_url": google_save_url(state, pass),
        "created_at": rfc3339(pass.created_at),
        "updated_at": rfc3339(pass.updated_at),
    })
}

/// The short pass object of the objects that own a pass (members, receipts, orders).
pub fn pass_ref(state: &AppState, pass: &PassRecord) -> Value {
    let (apple_pass_url, pass_page_url) = state.passes.urls(pass);
    json!({
        "serial_number": pass.serial_number,
        "apple_pass_url": apple_pass_url,
        "pass_page_url": pass_page_url,
        "google_save_url": google_save_url(state, pass),
    })
}

/// The signed "Save to Google Wallet" link, when Google is configured.
pub fn google_save_url(state: &AppState, pass: &PassRecord) -> Option<String> {
    let google = state.google.as_ref()?;
    let template = state.templates.get(&pass.template)?;
    google
        .save_url(template, &pass.serial_number)
        .map_err(|e| tracing::error!("signing a Google save link: {e:#}"))
        .ok()
}

/// An API key as listed (never its secret).
pub fn api_key(key: &ApiKeyRecord) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "role": key.role,
        "store_id": key.store_id,
        "created_at": rfc3339(key.created_at),
        "last_used_at": key.last_used_at.map(rfc3339),
        "revoked_at": key.revoked_at.map(rfc3339),
    })
}
