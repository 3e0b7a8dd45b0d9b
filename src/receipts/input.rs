//! What a till sends (`POST /api/v1/receipts`) and the checks of its texts and whole-number amounts.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Most lines on one receipt.
pub(super) const MAX_LINES: usize = 500;
/// Most offers redeemed with one receipt.
pub(super) const MAX_OFFERS: usize = 20;
/// Longest receipt number, store id, label or idempotency key.
const MAX_TEXT: usize = 200;

/// The body of `POST /api/v1/receipts`. Amounts stay JSON values so that a float or a string
/// is refused naming its field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReceipt {
    pub store_id: Option<String>,
    pub issued_at: Option<String>,
    pub receipt_number: Option<String>,
    /// `sale` (the default) or `return` (negative lines and totals).
    pub kind: Option<String>,
    #[serde(default)]
    pub lines: Vec<NewLine>,
    pub totals: Option<NewTotals>,
    pub payment: Option<NewPayment>,
    pub customer: Option<Customer>,
    pub idempotency_key: Option<String>,
    /// Offers redeemed with the sale, in its transaction: each a code or `{"card_number", "offer_id"}`.
    #[serde(default)]
    pub offers: Vec<Value>,
    /// Prices include the tax (French TTC): `total = subtotal`. Also accepted in `totals`.
    #[serde(default)]
    pub tax_included: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    pub sku: Option<String>,
    pub label: Option<String>,
    pub quantity: Option<Value>,
    pub unit_price: Option<Value>,
    pub total: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTotals {
    pub subtotal: Option<Value>,
    pub tax: Option<Value>,
    pub total: Option<Value>,
    pub currency: Option<String>,
    #[serde(default)]
    pub tax_included: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    pub method: Option<String>,
    pub last4: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub card_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

pub(super) fn unprocessable(field: &str, message: impl std::fmt::Display) -> Error {
    Error::unprocessable(format!("{field} {message}"), field)
}

pub(super) fn text(value: Option<String>, field: &str, required: bool) -> Result<Option<String>> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    match value {
        None if required => Err(unprocessable(field, "is required")),
        Some(v) if v.chars().count() > MAX_TEXT => Err(unprocessable(field, "is longer than 200 characters")),
        Some(v) if v.chars().any(char::is_control) => Err(unprocessable(field, "may not hold control characters")),
        v => Ok(v),
    }
}

/// An amount (or quantity): a JSON integer, never a float or a string.
pub(super) fn integer(value: &Option<Value>, field: &str) -> Result<i64> {
    match value {
        None | Some(Value::Null) => Err(unprocessable(field, "is required")),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| unprocessable(field, "must be a whole number (amounts are in minor units: 1299 for 12.99)")),
    }
}
