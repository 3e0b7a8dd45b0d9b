//! Keeping Google Wallet objects in step with passes: the sync of one pass (class, object,
//! message) that the `google` job handler runs, and the database-wide rate limiter.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::callback::RootKeyCache;
use super::client::{GoogleError, RateLimiter, WalletApi};
use super::jwt::SaveLinkSigner;
use super::mapping::{self, GoogleContext, ObjectState, Vertical};
use crate::store::{PassRecord, Store, now_ms};
use crate::templates::datetime::parse_w3c;
use crate::templates::{Template, TemplateSet};

/// Google keeps at most 10 messages per object; older ones are pruned before adding.
const MAX_MESSAGES: usize = 10;

/// Everything Google Wallet needs at run time; absent when Google is not configured.
pub struct GoogleService {
    pub api: Arc<dyn WalletApi>,
    pub signer: SaveLinkSigner,
    pub issuer_id: String,
    pub public_url: String,
    pub callback_keys: RootKeyCache,
    /// (template, design) pairs whose class is known to be up to date at Google.
    classes: Mutex<HashSet<(String, String)>>,
}

impl GoogleService {
    pub fn new(
        api: Arc<dyn WalletApi>,
        signer: SaveLinkSigner,
        issuer_id: String,
        public_url: String,
        callback_keys: RootKeyCache,
    ) -> Self {
        Self { api, signer, issuer_id, public_url, callback_keys, classes: Mutex::default() }
    }

    fn ctx(&self) -> GoogleContext<'_> {
        GoogleContext { issuer_id: &self.issuer_id, public_url: &self.public_url }
    }

    /// The "Save to Google Wallet" link of a pass (a skinny JWT naming its object).
    pub fn save_url(&self, template: &Template, serial: &str) -> Result<String> {
        let vertical = Vertical::of(template.definition.kind);
        self.signer.save_url(vertical, &mapping::object_id(&self.ctx(), serial), now_ms() / 1000)
    }

    /// Writes the pass's class (once per design) and object to Google, then adds `message`.
    /// Returns the object id and the pass version now at Google.
    pub async fn sync_pass(
        &self,
        store: &dyn Store,
        templates: &TemplateSet,
        serial: &str,
        message: Option<&str>,
        campaign: Option<&str>,
    ) -> Result<(String, i64), SyncError> {
        let pass = store.pass(serial).await?.with_context(|| format!("pass {serial} no longer exists"))?;
        let known = store.google_object(serial).await?;
        // Already written at this version (e.g. inline when the pass was created): nothing to send.
        if message.is_none()
            && let Some(known) = &known
            && known.synced_version >= Some(pass.version)
        {
            return Ok((known.object_id.clone(), pass.version));
        }
        let template = templates.get(&pass.template).with_context(|| format!("template {} is gone", pass.template))?;
        let data = template.validate_data(&pass.data).map_err(|e| anyhow::anyhow!("stored data: {e}"))?;
        let vertical = Vertical::of(template.definition.kind);
        let ctx = self.ctx();
        let offer = match vertical {
            Vertical::Offer => store.offer_instance_by_pass(serial).await?.map(|i| i.offer_id),
            _ => None,
        };
        let class_id = match &offer {
            // Each offer has its class; written by its first instance (and again on a new design).
            Some(offer_id) => mapping::offer_class_id(&ctx, offer_id),
            None => mapping::class_id(&ctx, &template.id),
        };
        let class_key = (class_id.clone(), template.design_hash.clone());
        if !self.classes.lock().await.contains(&class_key) {
            let class = match &offer {
                Some(_) => mapping::offer_class_json(&ctx, template, &data, &class_id),
                None => mapping::class_json(&ctx, template),
            };
            self.api.upsert(vertical.class_resource(), &class_id, &class).await?;
            self.classes.lock().await.insert(class_key);
        }
        let state = object_state(store, template, &pass).await?;
        let object_id = mapping::object_id(&ctx, serial);
        let mut object = mapping::object_json(&ctx, template, &data, serial, state);
        object["classId"] = json!(class_id);
        if vertical == Vertical::Loyalty && known.as_ref().is_some_and(|k| k.saved) {
            super::offers::link(store, &ctx, &pass, template, &mut object).await?;
        }
        // A new object is inserted (one request); a known one is patched (insert if Google lost it).
        if known.is_some() {
            self.api.patch_or_insert(vertical.object_resource(), &object_id, &object).await?;
        } else {
            self.api.upsert(vertical.object_resource(), &object_id, &object).await?;
        }
        if offer.is_some() && known.is_none() {
            super::offers::relink(store, self.api.as_ref(), &ctx, serial).await?;
        }
        if let Some(text) = message {
            // The id comes from the campaign or the pass version: a retried job never shows it twice.
            let id = campaign.map_or_else(|| format!("v{}", pass.version), |c| format!("campaign-{c}"));
            self.add_message(vertical, &object_id, template, text, &id).await?;
        }
        Ok((object_id, pass.version))
    }

    async fn add_message(
        &self,
        vertical: Vertical,
        object_id: &str,
        template: &Template,
        text: &str,
        id: &str,
    ) -> Result<(), SyncError> {
        let message = json!({"id": id, "header": header(template), "body": text, "messageType": "TEXT_AND_NOTIFY"});
        self.add_message_once(vertical.object_resource(), object_id, message).await
    }

    /// Adds a campaign's message to the class of `template`: every holder of the class sees it,
    /// in their language (`localizedBody`), from one request instead of one per object.
    pub async fn add_class_message(
        &self,
        template: &Template,
        id: &str,
        texts: &BTreeMap<String, String>,
    ) -> Result<(), SyncError> {
        let vertical = Vertical::of(template.definition.kind);
        let ctx = self.ctx();
        let class_id = mapping::class_id(&ctx, &template.id);
        let class_key = (template.id.clone(), template.design_hash.clone());
        if !self.classes.lock().await.contains(&class_key) {
            self.api.upsert(vertical.class_resource(), &class_id, &mapping::class_json(&ctx, template)).await?;
            self.classes.lock().await.insert(class_key);
        }
        let default = crate::campaigns::pick_message(texts, Some("en"));
        let default_language = texts.iter().find(|(_, t)| t.as_str() == default).map_or("en", |(l, _)| l.as_str());
        let translated: Vec<Value> = texts
            .iter()
            .filter(|(l, _)| l.as_str() != default_language)
            .map(|(l, t)| json!({"language": l, "value": t}))
            .collect();
        let message = json!({
            "id": id,
            "header": header(template),
            "body": default,
            "localizedBody": {"defaultValue": {"language": default_language, "value": default}, "translatedValues": translated},
            "messageType": "TEXT_AND_NOTIFY",
        });
        self.add_message_once(vertical.class_resource(), &class_id, message).await
    }

    /// Adds `message` unless the resource already shows one with its id (Google took it before
    /// the job could be marked done: a retry must not show it twice); keeps at most 10.
    async fn add_message_once(&self, resource: &str, target: &str, message: Value) -> Result<(), SyncError> {
        let id = message.get("id").and_then(Value::as_str).unwrap_or_default();
        if let Some(current) = self.api.get(resource, target).await?
            && let Some(messages) = current.get("messages").and_then(|m| m.as_array())
        {
            if messages.iter().any(|m| m.get("id").and_then(Value::as_str) == Some(id)) {
                return Ok(());
            }
            if messages.len() >= MAX_MESSAGES {
                let keep = messages[messages.len() + 1 - MAX_MESSAGES..].to_vec();
                self.api.patch_or_insert(resource, target, &json!({"messages": keep})).await?;
            }
        }
        self.api.add_message(resource, target, &message).await?;
        Ok(())
    }
}

/// The header of a message: the organisation name of the template.
fn header(template: &Template) -> String {
    template.render(&serde_json::Map::new()).get("organizationName").and_then(|v| v.as_str()).unwrap_or("").to_owned()
}

/// The Google state of a pass's object. A receipt is done as soon as it is issued (COMPLETED:
/// kept in the wallet, not pinned). A reservation pass follows its order's stored status:
/// collected → COMPLETED, cancelled → INACTIVE, expired → EXPIRED. Any other voided pass is
/// INACTIVE, the rest ACTIVE.
async fn object_state(store: &dyn Store, template: &Template, pass: &PassRecord) -> Result<ObjectState> {
    use crate::orders::Status;
    use crate::templates::definition::Kind;
    let fallback = if pass.voided { ObjectState::Inactive } else { ObjectState::Active };
    match template.definition.kind {
        Kind::Receipt if !pass.voided => Ok(ObjectState::Completed),
        // A used coupon is done, not withdrawn; past its last day, expired.
        Kind::Offer if pass.voided => Ok(ObjectState::Completed),
        Kind::Offer => {
            let until = pass.data.get("valid_until").and_then(Value::as_str).and_then(|d| parse_w3c(d).ok());
            let expired = until.is_some_and(|t| t.unix_timestamp_nanos() / 1_000_000 <= i128::from(now_ms()));
            Ok(if expired { ObjectState::Expired } else { ObjectState::Active })
        }
        Kind::Reservation if template.id == crate::orders::ORDER_TEMPLATE => {
            let Some(number) = pass.data.get("order_number").and_then(|v| v.as_str()) else { return Ok(fallback) };
            let order = store.order(number).await?;
            // Only the order this pass was made for (a refused duplicate's pass names a taken number).
            let Some(order) = order.filter(|o| o.pass_serial.as_deref() == Some(pass.serial_number.as_str())) else {
                return Ok(fallback);
            };
            Ok(match Status::parse(&order.status) {
                Some(Status::Collected) => ObjectState::Completed,
                Some(Status::Cancelled) => ObjectState::Inactive,
                Some(Status::Expired) => ObjectState::Expired,
                _ => fallback,
            })
        }
        _ => Ok(fallback),
    }
}

/// Why a sync failed: Google's answer (maybe worth retrying) or our own data.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Google(#[from] GoogleError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The per-issuer rate limit, shared by every process through the database.
pub struct DbRateLimiter {
    pub store: Arc<dyn Store>,
    pub interval: Duration,
}

#[async_trait]
impl RateLimiter for DbRateLimiter {
    async fn acquire(&self) {
        let interval = self.interval.as_millis() as i64;
        match self.store.reserve_rate_slot("google", interval).await {
            Ok(slot) => {
                let wait = slot - now_ms();
                if wait > 0 {
                    tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                }
            }
            Err(e) => {
                tracing::warn!("Google rate limit unavailable ({e:#}); pacing locally");
                tokio::time::sleep(self.interval).await;
            }
        }
    }
}
