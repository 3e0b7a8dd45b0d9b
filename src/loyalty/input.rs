//! What callers send about a member, and its checks: each refusal is a 422 naming the field
//! (`first_name`, `email`, `consent.version`, ...); text is trimmed, empty text is absent.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::contact::{self, Country};
use super::tiers::TierRules;
use crate::error::{Error, Result};

/// Longest free-text value (names, ids, reasons, versions).
const MAX_TEXT: usize = 100;
/// Largest `attributes` object, as JSON.
const MAX_ATTRIBUTES_BYTES: usize = 8_192;

/// Consent as given at sign-up: which wording (`version`) the member agreed to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    #[serde(default)]
    pub terms: bool,
    #[serde(default)]
    pub marketing: bool,
    pub version: Option<String>,
}

/// Where a member signed up.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub flyer: Option<String>,
    pub store: Option<String>,
    /// `api`, `flyer`, `till`, ... (`api` when not given).
    pub channel: Option<String>,
}

/// A sign-up: a first name and an e-mail or a phone are required, the rest is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default)]
    pub phone_verified: bool,
    pub birthday: Option<String>,
    pub language: Option<String>,
    pub home_store_id: Option<String>,
    /// Generated (12 digits with a Luhn check digit) when not given.
    pub card_number: Option<String>,
    #[serde(default)]
    pub consent: Consent,
    pub attributes: Option<Map<String, Value>>,
    #[serde(default)]
    pub source: Source,
}

/// A change: absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub phone: Option<Option<String>>,
    pub email_verified: Option<bool>,
    pub phone_verified: Option<bool>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub birthday: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub language: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub home_store_id: Option<Option<String>>,
    /// A tier set by hand wins over the rules; `null` gives the rules back.
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub tier: Option<Option<String>>,
    pub consent: Option<ConsentPatch>,
    /// Merged into the stored attributes (`null` removes a key).
    pub attributes: Option<Map<String, Value>>,
    /// Why (kept in the audit log with a head-office override: verification, tier, home store).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentPatch {
    pub terms: Option<bool>,
    pub marketing: Option<bool>,
    pub version: Option<String>,
}

/// Trimmed text, `None` when empty; 422 naming `field` when too long.
pub(super) fn text(value: Option<String>, field: &str) -> Result<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.chars().count() > MAX_TEXT || v.chars().any(char::is_control) {
        return Err(Error::unprocessable(format!("{field} must be at most {MAX_TEXT} printable characters"), field));
    }
    Ok(Some(v))
}

pub(super) fn email(value: Option<String>) -> Result<Option<String>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| contact::normalise_email(&v).map_err(|why| Error::unprocessable(format!("email {why}"), "email")))
        .transpose()
}

pub(super) fn phone(country: Country, value: Option<String>) -> Result<Option<String>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            contact::normalise_phone(&v, country).map_err(|why| Error::unprocessable(format!("phone {why}"), "phone"))
        })
        .transpose()
}

pub(super) fn birthday(value: Option<String>) -> Result<Option<String>> {
    let Some(v) = text(value, "birthday")? else { return Ok(None) };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(&v, format)
        .map_err(|_| Error::unprocessable("birthday must be a date written YYYY-MM-DD", "birthday"))?;
    let today = time::OffsetDateTime::now_utc().date();
    if date > today || date.year() < 1900 {
        return Err(Error::unprocessable("birthday must be a past date after 1900", "birthday"));
    }
    Ok(Some(v))
}

pub(super) fn language(value: Option<String>) -> Result<Option<String>> {
    let Some(v) = text(value, "language")? else { return Ok(None) };
    let mut parts = v.split('-');
    let primary = parts.next().unwrap_or_default();
    let ok = (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !ok {
        return Err(Error::unprocessable("language must be a language tag such as fr or en-GB", "language"));
    }
    Ok(Some(v))
}

pub(super) fn attributes(value: Map<String, Value>) -> Result<Value> {
    let value = Value::Object(value);
    if value.to_string().len() > MAX_ATTRIBUTES_BYTES {
        return Err(Error::unprocessable(
            format!("attributes must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON"),
            "attributes",
        ));
    }
    Ok(value)
}

pub(super) fn manual_tier(rules: &TierRules, value: Option<String>) -> Result<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    if !rules.contains(&v) {
        return Err(Error::unprocessable(
            format!("tier must be one of {} (PASSERELLE_TIERS), or null for the rules' tier", rules.names().join(", ")),
            "tier",
        ));
    }
    Ok(Some(v))
}
