//! Pass life cycle shared by the admin API and the web service: create, change, void, build.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::apple::{PassBuilder, PassKeys};
use crate::error::{Error, Result, phrase_conflict};
use crate::google::sync::GoogleService;
use crate::store::{NewPass, PassChange, PassRecord, Store};
use crate::templates::{Template, TemplateSet};
use crate::tokens;

/// What the pass life cycle works with: the store, the templates, the signer, the public URL
/// that passes carry, and Google Wallet when it is configured.
pub struct Passes {
    pub store: Arc<dyn Store>,
    pub templates: Arc<TemplateSet>,
    pub builder: Arc<PassBuilder>,
    /// Base URL without a trailing slash; passes carry it as webServiceURL.
    pub public_url: String,
    /// Google Wallet, when PASSERELLE_GOOGLE_SA_KEY and PASSERELLE_GOOGLE_ISSUER_ID are set.
    pub google: Option<Arc<GoogleService>>,
    /// How long a creation waits for Google to create the object before leaving it to the queue.
    pub google_wait: Duration,
}

/// Longest serial number accepted from API callers.
const MAX_SERIAL_LEN: usize = 64;

/// Serial numbers travel in URL paths: keep them to URL-safe characters.
pub fn valid_serial(serial: &str) -> bool {
    (1..=MAX_SERIAL_LEN).contains(&serial.len())
        && serial.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Passes {
    fn template(&self, id: &str) -> Result<Arc<Template>> {
        self.templates.get(id).cloned().ok_or_else(|| {
            Error::unprocessable(
                format!("unknown template {id:?} (have: {})", self.templates.ids().join(", ")),
                "template",
            )
        })
    }

    /// The public URLs of a pass: the .pkpass itself and its HTML page (no API key needed; unguessable).
    pub fn urls(&self, pass: &PassRecord) -> (String, String) {
        let page = format!("{}/p/{}", self.public_url, pass.share_token);
        (format!("{page}/pass.pkpass"), page)
    }

    /// Validates the data against the template and stores a new pass.
    pub async fn create(&self, template_id: &str, data: Value, serial: Option<String>) -> Result<PassRecord> {
        let pass = self.store.insert_pass(self.new_pass(template_id, data, serial)?).await.map_err(|e| {
            phrase_conflict(e, |_, serial, _| {
                Error::conflict(format!("a pass with serial number {serial:?} already exists"), "serial_number")
            })
        })?;
        self.created(&pass).await?;
        Ok(pass)
    }

    /// A new pass, its data validated against the template, to store alone (`create`) or with
    /// the row it belongs to (a member, an order, a receipt), then hand to `created`.
    pub fn new_pass(&self, template_id: &str, data: Value, serial: Option<String>) -> Result<NewPass> {
        let template = self.template(template_id)?;
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
        Ok(NewPass {
            serial_number,
            template: template.id.clone(),
            data,
            authentication_token: tokens::authentication_token(),
            share_token: tokens::serial_number(),
        })
    }

    /// After a new pass is stored: the save link is only useful once the object exists at
    /// Google, so write it now when Google answers in time; otherwise the sync queued with the
    /// pass does it shortly.
    pub async fn created(&self, pass: &PassRecord) -> Result<()> {
        if let Some(google) = &self.google {
            let sync = google.sync_pass(self.store.as_ref(), &self.templates, &pass.serial_number, None, None);
            match tokio::time::timeout(self.google_wait, sync).await {
                Ok(Ok((object_id, version))) => {
                    self.store.mark_google_synced(&pass.serial_number, &object_id, version).await?;
                }
                Ok(Err(e)) => {
                    tracing::warn!(serial = %pass.serial_number, "Google object not created yet, queued: {e}")
                }
                Err(_) => tracing::warn!(serial = %pass.serial_number, "Google object not created in time, queued"),
            }
        }
        Ok(())
    }

    /// Merges `patch` into the pass's data (a `null` removes a field), puts `message` in the
    /// template's offer field, validates, and stores the result at a new version tag.
    pub async fn change(
        &self,
        serial: &str,
        patch: Option<Map<String, Value>>,
        message: Option<String>,
    ) -> Result<PassRecord> {
        let current = self.store.pass(serial).await?.ok_or_else(|| not_found(serial))?;
        let template = self.template(&current.template)?;
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
        let pass = self.store.update_pass(serial, update).await?.ok_or_else(|| not_found(serial))?;
        Ok(pass)
    }

    /// Voids the pass (it stays stored and served, with `voided: true`, for the devices holding it).
    pub async fn void(&self, serial: &str) -> Result<PassRecord> {
        let current = self.store.pass(serial).await?.ok_or_else(|| not_found(serial))?;
        if current.voided {
            return Ok(current);
        }
        let update = Box::new(|pass: &PassRecord| {
            Ok(PassChange { data: pass.data.clone(), voided: true, message: None, campaign: None })
        });
        let pass = self.store.update_pass(serial, update).await?.ok_or_else(|| not_found(serial))?;
        Ok(pass)
    }

    /// The signed .pkpass of a stored pass, built off the async workers (signing is CPU work).
    pub async fn pkpass(&self, pass: &PassRecord) -> Result<Vec<u8>> {
        let template = self.templates.get(&pass.template).cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "pass {} uses template {:?}, which is no longer in the templates folder",
                pass.serial_number,
                pass.template
            )
        })?;
        // Stored data was valid when written; defaults may have changed since, so validate again.
        let data = template.validate_data(&pass.data).map_err(|e| {
            anyhow::anyhow!("stored data of pass {} no longer fits its template: {e}", pass.serial_number)
        })?;
        let locations = self.loyalty_locations(&template, &data, &pass.serial_number).await?;
        let builder = self.builder.clone();
        let (serial, token, voided) = (pass.serial_number.clone(), pass.authentication_token.clone(), pass.voided);
        let web_service_url = self.public_url.clone();
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
    /// then the nearest (at most 10); a coupon its offer's stores nearest the holder's home
    /// store. Other passes keep their template's locations.
    async fn loyalty_locations(
        &self,
        template: &Template,
        data: &Map<String, Value>,
        serial: &str,
    ) -> Result<Vec<Value>> {
        match template.definition.kind {
            crate::templates::Kind::Loyalty => {}
            crate::templates::Kind::Offer => {
                return crate::offers::coupon::locations(self.store.as_ref(), serial).await;
            }
            _ => return Ok(Vec::new()),
        }
        let card = template.definition.roles.card_number.as_ref().and_then(|f| data.get(f)).and_then(Value::as_str);
        let home = match card {
            Some(card) => {
                let lookup = crate::store::MemberLookup { card_number: Some(card.to_owned()), ..Default::default() };
                self.store.find_members(&lookup).await?.into_iter().next().and_then(|m| m.home_store_id)
            }
            None => None,
        };
        crate::shops::locations_for(self.store.as_ref(), home.as_deref()).await
    }
}

pub fn not_found(serial: &str) -> Error {
    Error::NotFound(format!("no pass with serial number {serial:?}"))
}

/// Data errors name the field as `data.<field>`, where the API caller put it.
fn prefix_data_field(e: crate::templates::DataError) -> Error {
    let field = if e.field == "data" { e.field } else { format!("data.{}", e.field) };
    Error::Unprocessable { message: format!("{field} {}", e.message), field: Some(field) }
}
