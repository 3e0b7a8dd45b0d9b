//! What `POST /api/v1/offers` and `PATCH /api/v1/offers/{id}` take, and the checks of each
//! field (texts per language, the reward, the validity, the stores, the limits).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::campaigns::requests::is_language_tag;
use crate::error::{Error, Result};
use crate::store::OfferRecord;
use crate::templates::datetime::parse_w3c;

const MAX_TITLE: usize = 100;
const MAX_DESCRIPTION: usize = 500;
const MAX_TERMS: usize = 2000;
/// Most instances one holder may hold of an offer.
const MAX_PER_HOLDER: i64 = 100;
/// Most stores an offer names (more: leave `stores` out, every store).
const MAX_STORES: usize = 500;
pub const REWARD_KINDS: [&str; 4] = ["percent", "amount", "points", "gift"];

/// The body of `POST /api/v1/offers`, and of `PATCH` (the fields given replace the offer's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    pub title: Option<BTreeMap<String, String>>,
    pub description: Option<BTreeMap<String, String>>,
    pub terms: Option<BTreeMap<String, String>>,
    pub reward: Option<RewardInput>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    /// Absent or `null`: every store.
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub stores: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub max_per_holder: Option<Option<Value>>,
    #[serde(default, deserialize_with = "crate::patch::present")]
    pub max_redemptions: Option<Option<Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardInput {
    pub kind: Option<String>,
    /// Stays JSON, so a float or a string is refused naming the field.
    pub value: Option<Value>,
    pub currency: Option<String>,
}

/// An offer's fields, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferFields {
    pub title: Value,
    pub description: Value,
    pub terms: Value,
    pub reward: Value,
    pub valid_from: i64,
    pub valid_until: i64,
    pub stores: Option<Vec<String>>,
    pub max_per_holder: i64,
    pub max_redemptions: Option<i64>,
}

fn unprocessable(field: &str, message: impl std::fmt::Display) -> Error {
    Error::unprocessable(format!("{field} {message}"), field)
}

/// Texts per language: language tags as keys, 1 to `max` characters each (`required`: one at least).
fn texts(
    given: Option<BTreeMap<String, String>>,
    base: Option<&Value>,
    field: &str,
    max: usize,
    required: bool,
) -> Result<Value> {
    let map = match (given, base) {
        (Some(map), _) => map,
        (None, Some(base)) => return Ok(base.clone()),
        (None, None) => BTreeMap::new(),
    };
    if required && map.is_empty() {
        return Err(unprocessable(field, "needs at least one language, e.g. {\"en\": \"...\"}"));
    }
    let mut out = serde_json::Map::new();
    for (language, text) in map {
        let f = format!("{field}.{language}");
        if !is_language_tag(&language) {
            return Err(unprocessable(&f, "is not a language code such as en, fr or fr-CA"));
        }
        let text = text.trim().to_owned();
        let chars = text.chars().count();
        if chars == 0 || chars > max {
            return Err(unprocessable(&f, format!("must be 1-{max} characters")));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(unprocessable(&f, "may not hold control characters"));
        }
        out.insert(language, json!(text));
    }
    Ok(Value::Object(out))
}

fn whole(value: &Value, field: &str) -> Result<i64> {
    value.as_i64().ok_or_else(|| unprocessable(field, "must be a whole number"))
}

fn reward(given: Option<RewardInput>, base: Option<&Value>) -> Result<Value> {
    let r = match (given, base) {
        (Some(r), _) => r,
        (None, Some(base)) => return Ok(base.clone()),
        (None, None) => return Err(unprocessable("reward", "is required: {\"kind\", \"value\", \"currency\"?}")),
    };
    let kind = r.kind.unwrap_or_default();
    if !REWARD_KINDS.contains(&kind.as_str()) {
        return Err(unprocessable("reward.kind", format!("must be one of {}", REWARD_KINDS.join(", "))));
    }
    let value = whole(r.value.as_ref().unwrap_or(&Value::Null), "reward.value")?;
    let (low, high, meaning) = match kind.as_str() {
        "percent" => (1, 100, "a percentage from 1 to 100"),
        "amount" => (1, i64::MAX, "a positive amount in minor units (500 for 5.00)"),
        "points" => (1, 10_000_000, "a positive number of points"),
        _ => (0, i64::MAX, "the gift's worth in minor units, 0 or more"),
    };
    if !(low..=high).contains(&value) {
        return Err(unprocessable("reward.value", format!("must be {meaning}")));
    }
    let currency = r.currency.map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty());
    if let Some(c) = &currency
        && (c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(unprocessable("reward.currency", "must be an ISO 4217 code such as EUR"));
    }
    match (kind.as_str(), &currency) {
        ("amount", None) => return Err(unprocessable("reward.currency", "is required for an amount")),
        ("percent" | "points", Some(_)) => {
            return Err(unprocessable("reward.currency", format!("has no meaning for a {kind} reward")));
        }
        _ => {}
    }
    let mut out = json!({"kind": kind, "value": value});
    if let Some(c) = currency {
        out["currency"] = json!(c);
    }
    Ok(out)
}

fn date(given: Option<String>, base: Option<i64>, field: &str) -> Result<i64> {
    match (given, base) {
        (Some(text), _) => {
            let t = parse_w3c(text.trim()).map_err(|e| unprocessable(field, e))?;
            Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
        }
        (None, Some(base)) => Ok(base),
        (None, None) => Err(unprocessable(field, "is required (RFC 3339, e.g. 2026-12-24T18:00:00+01:00)")),
    }
}

fn stores(given: Option<Option<Vec<String>>>, base: Option<&OfferRecord>) -> Result<Option<Vec<String>>> {
    let list = match given {
        Some(list) => list,
        None => return Ok(base.and_then(|b| b.stores.clone())),
    };
    let Some(list) = list else { return Ok(None) };
    if list.is_empty() {
        return Err(unprocessable("stores", "may not be empty (leave it out for every store)"));
    }
    if list.len() > MAX_STORES {
        return Err(unprocessable("stores", format!("may list at most {MAX_STORES} stores")));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for id in list {
        let id = id.trim().to_owned();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(Some(out))
}

/// Checks a request; the fields it leaves out are `base`'s (a `PATCH`) or their defaults.
pub fn fields(req: OfferRequest, base: Option<&OfferRecord>) -> Result<OfferFields> {
    let title = texts(req.title, base.map(|b| &b.title), "title", MAX_TITLE, true)?;
    let description = texts(req.description, base.map(|b| &b.description), "description", MAX_DESCRIPTION, false)?;
    let terms = texts(req.terms, base.map(|b| &b.terms), "terms", MAX_TERMS, false)?;
    let reward = reward(req.reward, base.map(|b| &b.reward))?;
    let valid_from = date(req.valid_from, base.map(|b| b.valid_from), "valid_from")?;
    let valid_until = date(req.valid_until, base.map(|b| b.valid_until), "valid_until")?;
    if valid_until <= valid_from {
        return Err(unprocessable("valid_until", "must be after valid_from"));
    }
    let stores = stores(req.stores, base)?;
    let max_per_holder = match req.max_per_holder {
        None => base.map_or(1, |b| b.max_per_holder),
        Some(None) => 1,
        Some(Some(v)) => whole(&v, "max_per_holder")?,
    };
    if !(1..=MAX_PER_HOLDER).contains(&max_per_holder) {
        return Err(unprocessable("max_per_holder", format!("must be from 1 to {MAX_PER_HOLDER}")));
    }
    let max_redemptions = match req.max_redemptions {
        None => base.and_then(|b| b.max_redemptions),
        Some(None) => None,
        Some(Some(v)) => Some(whole(&v, "max_redemptions")?),
    };
    if max_redemptions.is_some_and(|m| m < 1) {
        return Err(unprocessable("max_redemptions", "must be 1 or more (leave it out for no budget)"));
    }
    Ok(OfferFields {
        title,
        description,
        terms,
        reward,
        valid_from,
        valid_until,
        stores,
        max_per_holder,
        max_redemptions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Value) -> OfferRequest {
        serde_json::from_value(body).unwrap()
    }

    fn field(body: Value) -> String {
        match fields(request(body), None) {
            Err(Error::Unprocessable { field, .. }) => field.unwrap_or_default(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fields_are_checked_and_named() {
        let ok = json!({"title": {"fr": "-10 %"}, "reward": {"kind": "percent", "value": 10},
            "valid_from": "2026-12-01T00:00:00Z", "valid_until": "2026-12-31T00:00:00Z"});
        let f = fields(request(ok.clone()), None).unwrap();
        assert_eq!((f.max_per_holder, f.max_redemptions, f.stores.clone()), (1, None, None));
        let with = |key: &str, v: Value| {
            let mut b = ok.clone();
            b[key] = v;
            b
        };
        assert_eq!(field(with("title", json!({}))), "title");
        assert_eq!(field(with("title", json!({"French": "x"}))), "title.French");
        assert_eq!(field(with("reward", json!({"kind": "percent", "value": 101}))), "reward.value");
        assert_eq!(field(with("reward", json!({"kind": "percent", "value": 1.5}))), "reward.value");
        assert_eq!(field(with("reward", json!({"kind": "amount", "value": 500}))), "reward.currency");
        assert_eq!(field(with("reward", json!({"kind": "cash", "value": 5}))), "reward.kind");
        assert_eq!(field(with("valid_until", json!("2026-11-01T00:00:00Z"))), "valid_until");
        assert_eq!(field(with("valid_from", json!("soon"))), "valid_from");
        assert_eq!(field(with("stores", json!([]))), "stores");
        assert_eq!(field(with("max_per_holder", json!(0))), "max_per_holder");
        assert_eq!(field(with("max_redemptions", json!(0))), "max_redemptions");
        // A patch keeps what it does not give.
        let base = OfferRecord {
            id: "off_1".into(),
            status: "approved".into(),
            store_id: None,
            title: f.title.clone(),
            description: json!({}),
            terms: json!({}),
            reward: f.reward.clone(),
            valid_from: f.valid_from,
            valid_until: f.valid_until,
            stores: Some(vec!["paris-01".into()]),
            max_per_holder: 2,
            max_redemptions: Some(5),
            redeemed: 0,
            issued: 0,
            first_issued_at: None,
            reject_reason: None,
            created_by: "k".into(),
            created_at: 0,
            updated_at: 0,
        };
        let patched = fields(request(json!({"max_redemptions": null})), Some(&base)).unwrap();
        assert_eq!((patched.max_per_holder, patched.max_redemptions), (2, None));
        assert_eq!(patched.stores, base.stores);
    }
}
