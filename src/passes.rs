//! Pass life cycle shared by the admin API and the web service: create, change, void, build.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::app::AppState;
use crate::apple::PassKeys;
use crate::error::{Error, Result};
use crate::store::{NewPass, PassChange, PassRecord};
use crate::templates::Template;
use crate::tokens;

/// Longest serial number accepted from API callers.
const MAX_SERIAL_LEN: usize = 64;

/// Serial numbers travel in URL paths: keep them to URL-safe characters.
pub fn valid_serial(serial: &str) -> bool {
    (1..=MAX_SERIAL_LEN).contains(&serial.len())
        && serial.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn template(state: &AppState, id: &str) -> Result<Arc<Template>> {
    state.templates.get(id).cloned().ok_or_else(|| {
        Error::unprocessable(
            format!("unknown template {id:?} (have: {})", state.templates.ids().join(", ")),
            "template",
        )
    })
}

/// Validates the data against the template and stores a new pass.
pub async fn create(state: &AppState, template_id: &str, data: Value, serial: Option<String>) -> Result<PassRecord> {
    let template = template(state, template_id)?;
    template.validate_data(&data).map_err(prefix_data_field)?;
    let serial_number = match serial {
        Some(s) if valid_serial(&s) => s,
        Some(_) => {
            return Err(Error::unprocessable(
                format!("serial_number must be 1-{MAX_SERIAL_LEN} characters of A-Z, a-z, 0-9, '-', '_', '.'"),
                "serial_number",
            ));
        }
        None => tokens::serial_number(),
    };
    let pass = state
        .store
        .insert_pass(NewPass {
            serial_number,
            template: template.id.clone(),
            data,
            authentication_token: tokens::authentication_token(),
            share_token: tokens::serial_number(),
        })
        .await?;
    // The save link is only useful once the object exists at Google: write it now when
    // Google answers in time; otherwise the queued sync (same transaction) does it shortly.
    if let Some(google) = &state.google {
        let sync = google.sync_pass(state.store.as_ref(), &state.templates, &pass.serial_number, None, None);
        match tokio::time::timeout(std::time::Duration::from_millis(state.config.google.timeout_ms), sync).await {
            Ok(Ok((object_id, version))) => {
                state.store.mark_google_synced(&pass.serial_number, &object_id, version).await?;
            }
            Ok(Err(e)) => tracing::warn!(serial = %pass.serial_number, "Google object not created yet, queued: {e}"),
            Err(_) => tracing::warn!(serial = %pass.serial_number, "Google object not created in time, queued"),
        }
    }
    Ok(pass)
}

/// Merges `patch` into the pass's data (a `null` removes a field), puts `message` in the
/// template's offer field, validates, and stores the result at a new version tag.
pub async fn change(
    state: &AppState,
    serial: &str,
    patch: Option<Map<String, Value>>,
    message: Option<String>,
) -> Result<PassRecord> {
    let current = state.store.pass(serial).await?.ok_or_else(|| not_found(serial))?;
    let template = template(state, &current.template)?;
    let offer_field = match (&message, &template.definition.roles.offer) {
        (Some(_), None) => {
            return Err(Error::unprocessable(
                format!("template {} has no offer field to carry a message", template.id),
                "message",
            ));
        }
        (_, field) => field.clone(),
    };
    let google_message = message.clone();
    let update = Box::new(move |pass: &PassRecord| -> Result<PassChange> {
        if pass.voided {
            return Err(Error::conflict("the pass is voided and can no longer change", "serial_number"));
        }
        let mut data = pass.data.as_object().cloned().unwrap_or_default();
        for (k, v) in patch.unwrap_or_default() {
            if v.is_null() {
                data.remove(&k);
            } else {
                data.insert(k, v);
            }
        }
        if let (Some(message), Some(field)) = (message, offer_field) {
            data.insert(field, Value::String(message));
        }
        let data = Value::Object(data);
        template.validate_data(&data).map_err(prefix_data_field)?;
        Ok(PassChange { data, voided: false, message: google_message, campaign: None })
    });
    let pass = state.store.update_pass(serial, update).await?.ok_or_else(|| not_found(serial))?;
    Ok(pass)
}

/// Voids the pass (it stays stored and served, with `voided: true`, for the devices holding it).
pub async fn void(state: &AppState, serial: &str) -> Result<PassRecord> {
    let current = state.store.pass(serial).await?.ok_or_else(|| not_found(serial))?;
    if current.voided {
        return Ok(current);
    }
    let update = Box::new(|pass: &PassRecord| {
        Ok(PassChange { data: pass.data.clone(), voided: true, message: None, campaign: None })
    });
    let pass = state.store.update_pass(serial, update).await?.ok_or_else(|| not_found(serial))?;
    Ok(pass)
}

/// The signed .pkpass of a stored pass, built off the async workers (signing is CPU work).
pub async fn pkpass(state: &AppState, pass: &PassRecord) -> Result<Vec<u8>> {
    let template = state.templates.get(&pass.template).cloned().ok_or_else(|| {
        anyhow::anyhow!(
            "pass {} uses template {:?}, which is no longer in the templates folder",
            pass.serial_number,
            pass.template
        )
    })?;
    // Stored data was valid when written; defaults may have changed since, so validate again.
    let data = template
        .validate_data(&pass.data)
        .map_err(|e| anyhow::anyhow!("stored data of pass {} no longer fits its template: {e}", pass.serial_number))?;
    let locations = loyalty_locations(state, &template, &data).await?;
    let builder = state.passes.clone();
    let (serial, token, voided) = (pass.serial_number.clone(), pass.authentication_token.clone(), pass.voided);
    let web_service_url = state.public_url.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let keys = PassKeys {
            serial_number: &serial,
            authentication_token: &token,
            web_service_url: &web_service_url,
            voided,
            locations: &locations,
        };
        builder.build(&template, &data, &keys)
    })
    .await
    .map_err(|e| Error::Internal(e.into()))??;
    Ok(bytes)
}

/// A loyalty card shows the stores on the lock screen nearby: the holder's home store first,
/// then the nearest (at most 10). Other passes keep their template's locations.
async fn loyalty_locations(state: &AppState, template: &Template, data: &Map<String, Value>) -> Result<Vec<Value>> {
    if template.definition.kind != crate::templates::Kind::Loyalty {
        return Ok(Vec::new());
    }
    let card = template.definition.roles.card_number.as_ref().and_then(|f| data.get(f)).and_then(Value::as_str);
    let home = match card {
        Some(card) => {
            let lookup = crate::store::MemberLookup { card_number: Some(card.to_owned()), ..Default::default() };
            state.store.find_members(&lookup).await?.into_iter().next().and_then(|m| m.home_store_id)
        }
        None => None,
    };
    crate::stores::locations_for(state.store.as_ref(), home.as_deref()).await
}

pub fn not_found(serial: &str) -> Error {
    Error::NotFound(format!("no pass with serial number {serial:?}"))
}

/// Data errors name the field as `data.<field>`, where the API caller put it.
fn prefix_data_field(e: crate::templates::DataError) -> Error {
    let field = if e.field == "data" { e.field } else { format!("data.{}", e.field) };
    Error::Unprocessable { message: format!("{field} {}", e.message), field: Some(field) }
}
