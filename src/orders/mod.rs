//! Click & collect: an order from the order system and its reservation pass (order number,
//! pickup store with its location, pickup window as relevant date, barcode for the counter).
//! Orders move `placed → ready → collected`, `cancelled` from `placed` or `ready`; orders past
//! their pickup window expire (a background sweep). "ready" changes the pass's status field
//! (the phone shows it); collected, cancelled and expired orders void their pass.

use crate::access::{Actor, Area};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result, phrase_conflict};
use crate::passes::{self, Passes};
use crate::store::{OrderPassUpdate, OrderRecord, OrderUpdate, PassChange, PassRecord, Store, now_ms};
use crate::templates::TemplateSet;
use crate::templates::datetime::{format_w3c, parse_w3c};

/// The template of reservation passes.
pub const ORDER_TEMPLATE: &str = "click-and-collect";
/// Longest order number: it travels in URL paths and in the barcode.
const MAX_NUMBER_LEN: usize = 64;
const MAX_TEXT_LEN: usize = 200;
const MAX_ITEMS: usize = 200;
/// Orders expired per sweep transaction.
const EXPIRY_BATCH: i64 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub order_number: Option<String>,
    pub store_id: Option<String>,
    pub customer: Option<Customer>,
    pub items: Option<Vec<Item>>,
    pub pickup: Option<Pickup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub label: Option<String>,
    pub quantity: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pickup {
    pub from: Option<String>,
    pub until: Option<String>,
}

/// The statuses an order can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Placed,
    Ready,
    Collected,
    Cancelled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "placed",
            Self::Ready => "ready",
            Self::Collected => "collected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Placed, Self::Ready, Self::Collected, Self::Cancelled, Self::Expired]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// Whether an order may move from `self` to `next` through the API.
    pub fn may_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Placed, Self::Ready)
                | (Self::Ready, Self::Collected)
                | (Self::Placed, Self::Cancelled)
                | (Self::Ready, Self::Cancelled)
        )
    }

    /// A pass of an order with this status is voided.
    fn voids_pass(self) -> bool {
        matches!(self, Self::Collected | Self::Cancelled | Self::Expired)
    }

    /// The pass's status text (the status field's `changeMessage` is `%@`: this text is the message).
    fn pass_text(self, store: &str) -> String {
        match self {
            Self::Placed => "Preparing".into(),
            Self::Ready => format!("Ready for pickup at {store}"),
            Self::Collected => "Collected".into(),
            Self::Cancelled => "Cancelled".into(),
            Self::Expired => "Expired".into(),
        }
    }
}

fn not_found(number: &str) -> Error {
    Error::NotFound(format!("no order with number {number:?}"))
}

fn text(value: Option<String>, field: &str, required: bool) -> Result<Option<String>> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    match &value {
        None if required => Err(Error::unprocessable(format!("{field} is required"), field)),
        Some(v) if v.chars().count() > MAX_TEXT_LEN => {
            Err(Error::unprocessable(format!("{field} must be at most {MAX_TEXT_LEN} characters"), field))
        }
        _ => Ok(value),
    }
}

fn time_of(value: Option<String>, field: &str) -> Result<(i64, String)> {
    let value = value.ok_or_else(|| Error::unprocessable(format!("{field} is required"), field))?;
    let at = parse_w3c(value.trim()).map_err(|e| Error::unprocessable(format!("{field}: {e}"), field))?;
    Ok(((at.unix_timestamp_nanos() / 1_000_000) as i64, format_w3c(at)))
}

/// Places an order and creates its reservation pass. A taken number is `Error::Conflict`
/// (field `order_number`); an unknown store is unprocessable (field `store_id`). A store places
/// orders for itself (`store_id` absent means its own).
pub async fn create(passes: &Passes, actor: &Actor, input: NewOrder) -> Result<(OrderRecord, PassRecord)> {
    let asked = text(input.store_id, "store_id", false)?;
    let store_id = actor
        .store_for_write(Area::Orders, asked.as_deref(), "store_id")?
        .ok_or_else(|| Error::unprocessable("store_id is required", "store_id"))?;
    let number = text(input.order_number, "order_number", true)?.unwrap_or_default();
    if number.len() > MAX_NUMBER_LEN || !passes::valid_serial(&number) {
        return Err(Error::unprocessable(
            format!("order_number must be 1-{MAX_NUMBER_LEN} characters of A-Z, a-z, 0-9, '-', '_', '.'"),
            "order_number",
        ));
    }
    let customer = input.customer.ok_or_else(|| Error::unprocessable("customer is required", "customer"))?;
    let customer_name = text(customer.name, "customer.name", true)?.unwrap_or_default();
    let email = text(customer.email, "customer.email", false)?;
    let phone = text(customer.phone, "customer.phone", false)?;
    let items = input.items.unwrap_or_default();
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(Error::unprocessable(format!("items must list 1-{MAX_ITEMS} items"), "items"));
    }
    let mut lines = Vec::with_capacity(items.len());
    let mut stored_items = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let label = text(item.label, &format!("items[{i}].label"), true)?.unwrap_or_default();
        let quantity = item.quantity.unwrap_or(1);
        if !(1..=10_000).contains(&quantity) {
            let field = format!("items[{i}].quantity");
            return Err(Error::unprocessable(format!("{field} must be between 1 and 10000"), field));
        }
        lines.push(format!("{quantity} × {label}"));
        stored_items.push(json!({"label": label, "quantity": quantity}));
    }
    let pickup = input.pickup.ok_or_else(|| Error::unprocessable("pickup is required", "pickup"))?;
    let (from_ms, from_text) = time_of(pickup.from, "pickup.from")?;
    let (until_ms, until_text) = time_of(pickup.until, "pickup.until")?;
    if from_ms >= until_ms {
        return Err(Error::unprocessable("pickup.from must be before pickup.until", "pickup.until"));
    }
    let store = passes
        .store
        .shop(&store_id)
        .await?
        .ok_or_else(|| Error::unprocessable(format!("no store with id {store_id:?}"), "store_id"))?;
    // Duplicates first: most refusals come before any write (the transaction refuses the rest).
    if passes.store.order(&number).await?.is_some() {
        return Err(Error::conflict(format!("order {number:?} already exists"), "order_number"));
    }
    let data = json!({
        "order_number": number,
        "customer_name": customer_name,
        "store": store.name,
        "store_address": store.address.clone().unwrap_or_default(),
        "store_latitude": store.latitude,
        "store_longitude": store.longitude,
        "pickup_start": from_text,
        "pickup_end": until_text,
        "status": Status::Placed.pass_text(&store.name),
        "items": lines.join("\n"),
    });
    let new_pass = passes.new_pass(ORDER_TEMPLATE, data, None)?;
    let now = now_ms();
    let mut customer = json!({"name": customer_name});
    if let Some(email) = email {
        customer["email"] = Value::from(email);
    }
    if let Some(phone) = phone {
        customer["phone"] = Value::from(phone);
    }
    let order = OrderRecord {
        order_number: number,
        store_id,
        customer,
        items: Value::Array(stored_items),
        pickup_from: from_ms,
        pickup_until: until_ms,
        status: Status::Placed.as_str().into(),
        pass_serial: Some(new_pass.serial_number.clone()),
        created_at: now,
        updated_at: now,
    };
    // One transaction: an order placed meanwhile with the same number leaves no pass behind.
    let (stored, pass) = passes.store.insert_order(&order, new_pass).await.map_err(|e| {
        phrase_conflict(e, |_, number, _| Error::conflict(format!("order {number:?} already exists"), "order_number"))
    })?;
    passes.created(&pass).await?;
    Ok((stored, pass))
}

/// The order, if `actor` may see it (a store: its own store's; another's is 404).
pub async fn get(passes: &Passes, actor: &Actor, number: &str) -> Result<OrderRecord> {
    actor.require(Area::Orders)?;
    let order = passes.store.order(number).await?.filter(|o| actor.may_read(Area::Orders, &o.store_id));
    order.ok_or_else(|| not_found(number))
}

/// Brings the order's pass up to date with its status, inside the store's transaction: the
/// status text, and voided once the order is over. No change when the pass already shows it.
fn pass_update(templates: Arc<TemplateSet>) -> OrderPassUpdate {
    Arc::new(move |order: &OrderRecord, pass: &PassRecord| {
        if pass.voided {
            return Ok(None);
        }
        let Some(template) = templates.get(&pass.template) else {
            tracing::warn!(serial = %pass.serial_number, "template {:?} is gone: the pass is not updated", pass.template);
            return Ok(None);
        };
        let status = Status::parse(&order.status).unwrap_or(Status::Placed);
        let mut data = pass.data.as_object().cloned().unwrap_or_default();
        let store = data.get("store").and_then(Value::as_str).unwrap_or_default().to_owned();
        let status_field = template.definition.roles.status.clone().unwrap_or_else(|| "status".into());
        data.insert(status_field, Value::from(status.pass_text(&store)));
        let data = Value::Object(data);
        if data == pass.data && !status.voids_pass() {
            return Ok(None);
        }
        template.validate_data(&data)?;
        Ok(Some(PassChange { data, voided: status.voids_pass(), message: None, campaign: None }))
    })
}

/// Moves the order to `status` (`ready`, `collected` or `cancelled`); any other move is
/// `Error::Conflict` naming the current status. The pass changes in the same transaction.
pub async fn set_status(
    passes: &Passes,
    actor: &Actor,
    number: &str,
    status: Option<String>,
) -> Result<(OrderRecord, Option<PassRecord>)> {
    actor.require(Area::Orders)?;
    let wanted = status.as_deref().map(str::trim).unwrap_or_default();
    // A known status that is not a move from the current one is a conflict (409), below.
    let next = match Status::parse(wanted) {
        Some(s) => s,
        None => {
            return Err(Error::unprocessable(
                format!("status must be \"ready\", \"collected\" or \"cancelled\", got {wanted:?}"),
                "status",
            ));
        }
    };
    let (reader, asked) = (actor.clone(), number.to_owned());
    let update: OrderUpdate = Box::new(move |current: &OrderRecord| {
        // Checked on the locked row: another store's order is not there for this actor.
        if !reader.may_read(Area::Orders, &current.store_id) {
            return Err(not_found(&asked));
        }
        let from = Status::parse(&current.status).unwrap_or(Status::Expired);
        if !from.may_become(next) {
            return Err(Error::conflict(
                format!("order {} is {}: it cannot become {}", current.order_number, current.status, next.as_str()),
                "status",
            ));
        }
        let mut o = current.clone();
        o.status = next.as_str().into();
        o.updated_at = now_ms();
        Ok(o)
    });
    let (order, pass) = passes
        .store
        .update_order(number, update, pass_update(passes.templates.clone()))
        .await?
        .ok_or_else(|| not_found(number))?;
    Ok((order, pass))
}

/// Expires every open order whose pickup window ended before `now` (unix ms) and voids its
/// pass; returns how many expired. What the background sweep runs.
pub async fn expire_due(passes: &Passes, now: i64) -> Result<usize> {
    let total = expire_due_in(passes.store.as_ref(), &passes.templates, now).await?;
    Ok(total)
}

/// `expire_due` on any store (another process's push workers pick up the queued pushes; tests
/// call this directly).
pub async fn expire_due_in(store: &dyn Store, templates: &Arc<TemplateSet>, now: i64) -> Result<usize> {
    let mut total = 0;
    loop {
        let expired = store.expire_orders(now, EXPIRY_BATCH, pass_update(templates.clone())).await?;
        total += expired.len();
        if (expired.len() as i64) < EXPIRY_BATCH {
            return Ok(total);
        }
    }
}

/// The background sweep of `serve`: expires due orders every `interval` until `stopped`.
pub async fn run_expiry(passes: Arc<Passes>, interval: Duration, stopped: tokio::sync::watch::Receiver<bool>) {
    let sweep = || {
        let passes = passes.clone();
        async move {
            match expire_due(&passes, now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(orders = n, "expired orders past their pickup window"),
                Err(e) => tracing::error!("expiring orders: {e}"),
            }
        }
    };
    crate::jobs::background::every(interval, stopped, sweep).await;
}
