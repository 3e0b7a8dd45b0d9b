//! Till receipts: `POST /api/v1/receipts` checks the amounts (integers in minor units: lines
//! add up to the subtotal, `total = subtotal + tax` unless the prices include the tax), makes
//! the receipt pass (`receipt` template) and links the receipt to its customer.
//!
//! Linking: a card number (shown at the till) links at once; a phone or an e-mail links only to
//! a member who verified that contact. Otherwise the receipt keeps HMAC-SHA256 lookup keys of
//! the normalised contact (keyed with `PASSERELLE_SECRET_KEY`, never the contact itself) and
//! `link_pending` links it when a member verifies that contact later.
//!
//! A receipt is a `sale` or a `return` (negative total); a linked receipt earns its points
//! (`points.rs`) in the transaction that links it, and its lines are stored as rows too, for
//! segments and campaign results.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::access::{Actor, Area};
use crate::error::{Error, Result, phrase_conflict};
use crate::loyalty::Country;
use crate::loyalty::contact::{normalise_email, normalise_phone};
use crate::passes::{self, Passes};
use crate::secret_keys::{Purpose, SecretKeys};
use crate::store::{MemberLookup, MemberRecord, ReceiptLine, ReceiptRecord, now_ms};
use crate::templates::datetime::parse_w3c;
use crate::tokens;

mod amounts;
pub mod barcode;
mod input;
mod linking;
mod lookup;
pub mod points;

use amounts::major;
pub use amounts::{currency_exponent, format_amount};
pub use input::{Customer, NewLine, NewPayment, NewReceipt, NewTotals};
use input::{MAX_LINES, MAX_OFFERS, integer, text, unprocessable};
pub use linking::{link_pending, link_pending_logged, move_to};
pub use lookup::{by_barcode_or_number, of_member};
use points::PointsRule;

/// The pass template of receipts.
pub const RECEIPT_TEMPLATE: &str = "receipt";
/// What posting a receipt did.
#[derive(Debug, Clone)]
pub struct Posted {
    pub receipt: ReceiptRecord,
    /// The idempotency key had been used: this is the receipt it made then.
    pub replayed: bool,
}

/// What receipts work with: the passes, the country of phone numbers written without one, and
/// the key of the contact lookup HMACs.
pub struct Receipts {
    pub passes: Arc<Passes>,
    pub default_country: Country,
    hmac_key: Vec<u8>,
    /// The key of the receipt barcodes' checks.
    barcode_key: Vec<u8>,
    /// The raw PASSERELLE_SECRET_KEY that keyed the lookups before keys were derived per
    /// purpose: receipts stored then still link.
    legacy_key: Option<Vec<u8>>,
    /// Points from the till (PASSERELLE_POINTS_PER_UNIT).
    pub points: PointsRule,
}

impl Receipts {
    /// The contact lookups are keyed with the `ReceiptContact` key of PASSERELLE_SECRET_KEY.
    pub fn new(passes: Arc<Passes>, default_country: Country, keys: &SecretKeys, points: PointsRule) -> Self {
        let hmac_key = keys.derive(Purpose::ReceiptContact).to_vec();
        let barcode_key = keys.derive(Purpose::ReceiptBarcode).to_vec();
        let legacy_key = keys.legacy().map(<[u8]>::to_vec);
        Self { passes, default_country, hmac_key, barcode_key, legacy_key, points }
    }

    /// The barcode a receipt's pass carries (see `barcode`).
    pub fn barcode(&self, store_id: &str, number: &str) -> Result<String> {
        barcode::value(&self.barcode_key, store_id, number)
    }
}

/// HMAC-SHA256 of `text` under `key`.
fn keyed_hmac(key: &[u8], text: &str) -> Result<Vec<u8>> {
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::sign::Signer;
    let key = PKey::hmac(key).map_err(anyhow::Error::from)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(anyhow::Error::from)?;
    signer.update(text.as_bytes()).map_err(anyhow::Error::from)?;
    Ok(signer.sign_to_vec().map_err(anyhow::Error::from)?)
}

/// Hex HMAC-SHA256 of a normalised contact (`kind` is `email` or `phone`).
pub fn contact_hmac(receipts: &Receipts, kind: &str, normalised: &str) -> Result<String> {
    contact_hmac_with(&receipts.hmac_key, kind, normalised)
}

/// Hex HMAC-SHA256 of a normalised contact under `key` (the current key, or the legacy one).
fn contact_hmac_with(key: &[u8], kind: &str, normalised: &str) -> Result<String> {
    Ok(hex::encode(keyed_hmac(key, &format!("receipt-{kind}:{normalised}"))?))
}

fn member_name(m: &MemberRecord) -> String {
    match &m.last_name {
        Some(last) => format!("{} {last}", m.first_name),
        None => m.first_name.clone(),
    }
}

/// The receipt an idempotency key made, when `input` is that receipt again; a different receipt
/// under a used key is 409 naming the key (as the points API does), never the first one back.
fn replay(existing: ReceiptRecord, input: &NewReceipt, store_id: &str, key: &str) -> Result<Posted> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let total = input.totals.as_ref().and_then(|t| t.total.clone());
    let same = store_id == existing.store_id
        && given(&input.receipt_number) == existing.receipt_number
        && existing.body["issued_at"].as_str() == Some(given(&input.issued_at).as_str())
        && total.as_ref() == Some(&existing.body["totals"]["total"]);
    if !same {
        return Err(Error::conflict(
            format!("idempotency key {key:?} was used for another receipt ({})", existing.receipt_number),
            "idempotency_key",
        ));
    }
    Ok(Posted { receipt: existing, replayed: true })
}

/// Validates a receipt, links it if its customer can be trusted, makes its pass and stores it.
/// The same idempotency key with the same receipt returns the receipt it made (nothing new is
/// stored); with another receipt it is 409. A store posts its own receipts (`store_id` absent
/// means its own); the store must exist.
pub async fn post(receipts: &Receipts, actor: &Actor, input: NewReceipt) -> Result<Posted> {
    let asked = text(input.store_id.clone(), "store_id", false)?;
    let store_id = actor
        .store_for_write(Area::Receipts, asked.as_deref(), "store_id")?
        .ok_or_else(|| unprocessable("store_id", "is required"))?;
    let idempotency_key = text(input.idempotency_key.clone(), "idempotency_key", false)?;
    if let Some(key) = &idempotency_key
        && let Some(existing) = receipts.passes.store.receipt_by_idempotency_key(key).await?
    {
        return replay(existing, &input, &store_id, key);
    }
    crate::shops::require_known(receipts.passes.store.as_ref(), &store_id, "store_id").await?;
    let receipt_number = text(input.receipt_number, "receipt_number", true)?.unwrap_or_default();
    if !passes::valid_serial(&receipt_number) {
        return Err(unprocessable("receipt_number", "must be 1-64 characters of A-Z, a-z, 0-9, '-', '_', '.'"));
    }
    let issued_given = text(input.issued_at, "issued_at", true)?.unwrap_or_default();
    let issued = parse_w3c(&issued_given).map_err(|e| unprocessable("issued_at", e))?;
    let issued_at = (issued.unix_timestamp_nanos() / 1_000_000) as i64;
    let kind = match text(input.kind, "kind", false)?.as_deref() {
        None | Some("sale") => "sale",
        Some("return") => "return",
        Some(_) => return Err(unprocessable("kind", "must be \"sale\" or \"return\"")),
    };

    if input.offers.len() > MAX_OFFERS {
        return Err(unprocessable("offers", format!("may list at most {MAX_OFFERS} offers")));
    }
    let offer_targets = input
        .offers
        .iter()
        .enumerate()
        .map(|(i, v)| crate::offers::redeem::receipt_target(v, i))
        .collect::<Result<Vec<_>>>()?;

    // Amounts.
    if input.lines.is_empty() {
        return Err(unprocessable("lines", "must list at least one line"));
    }
    if input.lines.len() > MAX_LINES {
        return Err(unprocessable("lines", format!("may list at most {MAX_LINES} lines")));
    }
    let totals = input.totals.ok_or_else(|| unprocessable("totals", "is required"))?;
    let currency = text(totals.currency, "totals.currency", true)?.unwrap_or_default().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(unprocessable("totals.currency", "must be an ISO 4217 code such as EUR"));
    }
    let exponent = currency_exponent(&currency);
    let mut lines = Vec::with_capacity(input.lines.len());
    let mut rows = Vec::with_capacity(input.lines.len());
    let mut sum: i64 = 0;
    for (i, line) in input.lines.into_iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        let label = text(line.label, &f("label"), true)?.unwrap_or_default();
        let sku = text(line.sku, &f("sku"), false)?;
        let quantity = integer(&line.quantity, &f("quantity"))?;
        if quantity == 0 {
            return Err(unprocessable(&f("quantity"), "may not be zero"));
        }
        let unit_price = integer(&line.unit_price, &f("unit_price"))?;
        let total = integer(&line.total, &f("total"))?;
        let expected = quantity.checked_mul(unit_price).ok_or_else(|| unprocessable(&f("total"), "is out of range"))?;
        if total != expected {
            return Err(unprocessable(
                &f("total"),
                format!("is {total} but quantity × unit_price is {quantity} × {unit_price} = {expected}"),
            ));
        }
        sum = sum.checked_add(total).ok_or_else(|| unprocessable(&f("total"), "is out of range"))?;
        lines.push(json!({"sku": sku, "label": label, "quantity": quantity, "unit_price": unit_price, "total": total}));
        rows.push(ReceiptLine { sku, quantity, amount: total });
    }
    let subtotal = integer(&totals.subtotal, "totals.subtotal")?;
    if subtotal != sum {
        return Err(unprocessable("totals.subtotal", format!("is {subtotal} but the lines add up to {sum}")));
    }
    let tax = match &totals.tax {
        None | Some(Value::Null) => 0,
        v => integer(v, "totals.tax")?,
    };
    // A return gives the tax back: its amounts are all negative.
    if kind == "sale" && tax < 0 {
        return Err(unprocessable("totals.tax", "may not be negative on a sale"));
    }
    if kind == "return" && tax > 0 {
        return Err(unprocessable("totals.tax", "may not be positive on a return (its amounts are negative)"));
    }
    let total = integer(&totals.total, "totals.total")?;
    let tax_included = input.tax_included || totals.tax_included;
    let expected_total = if tax_included {
        subtotal
    } else {
        subtotal.checked_add(tax).ok_or_else(|| unprocessable("totals.total", "is out of range"))?
    };
    if total != expected_total {
        let rule = if tax_included {
            format!("the subtotal {subtotal} (tax included)")
        } else {
            format!("subtotal + tax = {subtotal} + {tax} = {expected_total}")
        };
        return Err(unprocessable("totals.total", format!("is {total} but should be {rule}")));
    }
    if kind == "sale" && total < 0 {
        return Err(unprocessable(
            "totals.total",
            format!("is {total}: a sale's total may not be negative (post a \"kind\": \"return\")"),
        ));
    }
    if kind == "return" && total > 0 {
        return Err(unprocessable(
            "totals.total",
            format!("is {total}: a return's total must be negative (minor units given back)"),
        ));
    }

    // Payment.
    let payment = match input.payment {
        None => None,
        Some(p) => {
            let method = text(p.method, "payment.method", true)?.unwrap_or_default();
            let last4 = text(p.last4, "payment.last4", false)?;
            if let Some(l) = &last4
                && (l.len() != 4 || !l.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(unprocessable("payment.last4", "must be the last 4 digits of the card"));
            }
            Some((method, last4))
        }
    };

    // The customer.
    let customer = input.customer.unwrap_or_default();
    let mut member: Option<MemberRecord> = None;
    let (mut email_hmac, mut phone_hmac) = (None, None);
    if let Some(card) = text(customer.card_number, "customer.card_number", false)? {
        let lookup = MemberLookup { card_number: Some(card.clone()), ..Default::default() };
        member = Some(
            receipts
                .passes
                .store
                .find_members(&lookup)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| unprocessable("customer.card_number", format!("{card:?} is no member's card")))?,
        );
    }
    if let Some(raw) = text(customer.email, "customer.email", false)? {
        let email = normalise_email(&raw).map_err(|e| unprocessable("customer.email", e))?;
        let lookup = MemberLookup { email: Some(email.clone()), ..Default::default() };
        let verified = receipts.passes.store.find_members(&lookup).await?.into_iter().find(|m| m.email_verified);
        if member.is_none() && verified.is_some() {
            member = verified;
        } else if member.is_none() {
            email_hmac = Some(contact_hmac(receipts, "email", &email)?);
        }
    }
    if let Some(raw) = text(customer.phone, "customer.phone", false)? {
        let phone = normalise_phone(&raw, receipts.default_country).map_err(|e| unprocessable("customer.phone", e))?;
        let lookup = MemberLookup { phone: Some(phone.clone()), ..Default::default() };
        let verified = receipts.passes.store.find_members(&lookup).await?.into_iter().find(|m| m.phone_verified);
        if member.is_none() && verified.is_some() {
            member = verified;
        } else if member.is_none() {
            phone_hmac = Some(contact_hmac(receipts, "phone", &phone)?);
        }
    }
    if member.is_some() {
        (email_hmac, phone_hmac) = (None, None);
    }

    // The pass.
    let store_name = match receipts.passes.store.shop(&store_id).await? {
        Some(s) => s.name,
        None => store_id.clone(),
    };
    let lines_text = lines
        .iter()
        .map(|l| {
            format!(
                "{} × {}  {}",
                l["quantity"],
                l["label"].as_str().unwrap_or_default(),
                format_amount(l["total"].as_i64().unwrap_or_default(), exponent)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let payment_text = payment.as_ref().map(|(method, last4)| {
        let mut chars = method.chars();
        let method: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        match last4 {
            Some(l) => format!("{method} •••• {l}"),
            None => method,
        }
    });
    let mut data = Map::new();
    data.insert("receipt_number".into(), json!(receipt_number));
    data.insert("store".into(), json!(store_name));
    data.insert("issued_at".into(), json!(issued_given));
    data.insert("total".into(), major(total, exponent));
    data.insert("currency".into(), json!(currency));
    data.insert("tax".into(), major(tax, exponent));
    data.insert("lines".into(), json!(lines_text));
    if let Some(p) = &payment_text {
        data.insert("payment".into(), json!(p));
    }
    if let Some(m) = &member {
        data.insert("member_name".into(), json!(member_name(m)));
    }
    // A retailer's own receipt template may predate the keyed barcode.
    if receipts.passes.templates.get(RECEIPT_TEMPLATE).is_some_and(|t| t.definition.fields.contains_key("barcode")) {
        data.insert("barcode".into(), json!(receipts.barcode(&store_id, &receipt_number)?));
    }
    let new_pass = receipts.passes.new_pass(RECEIPT_TEMPLATE, Value::Object(data), None)?;

    let body = json!({
        "issued_at": issued_given,
        "kind": kind,
        "lines": lines,
        "totals": {"subtotal": subtotal, "tax": tax, "total": total, "currency": currency, "tax_included": tax_included},
        "payment": payment.map(|(method, last4)| json!({"method": method, "last4": last4})),
    });
    let record = ReceiptRecord {
        id: format!("rcp_{}", tokens::random_hex(8)),
        receipt_number,
        store_id,
        issued_at,
        kind: kind.to_owned(),
        total,
        currency,
        body,
        member_id: member.map(|m| m.id),
        idempotency_key: idempotency_key.clone(),
        email_hmac,
        phone_hmac,
        pass_serial: new_pass.serial_number.clone(),
        created_at: now_ms(),
    };
    let points = receipts.points.for_linking(&receipts.passes.templates);
    let redeem = offer_targets
        .into_iter()
        .enumerate()
        .map(|(i, target)| {
            let field = format!("offers[{i}]");
            let receipt = Some((record.id.as_str(), record.receipt_number.as_str()));
            crate::offers::redeem::prepare(&receipts.passes, target, &record.store_id, receipt, &field, &field)
        })
        .collect();
    // One transaction: a refused receipt (or offer) leaves no pass, and no redemption, behind.
    match receipts.passes.store.insert_receipt(&record, &rows, new_pass, points, redeem).await {
        Ok((stored, pass, redeemed)) => {
            receipts.passes.created(&pass).await?;
            for (redemption, _) in &redeemed {
                crate::offers::card::refresh(&receipts.passes, &redemption.member_id).await;
            }
            Ok(Posted { receipt: stored, replayed: false })
        }
        Err(e) => {
            // The same key posted twice at once: the other request stored it.
            if let Some(key) = &idempotency_key
                && let Some(existing) = receipts.passes.store.receipt_by_idempotency_key(key).await?
            {
                return Ok(Posted { receipt: existing, replayed: true });
            }
            Err(phrase_conflict(e, |_, number, _| {
                Error::conflict(
                    format!("receipt {number:?} of store {:?} exists already", record.store_id),
                    "receipt_number",
                )
            }))
        }
    }
}
