//! Reading a rendered Apple pass.json for Google: fields in display order and the data field each
//! shows, barcode, background colour, locations, logo.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::templates::Template;
use crate::templates::placeholder::{self, Segment};

/// Apple's field groups, in the order a reader meets them (front, then back).
const GROUPS: [&str; 5] = ["headerFields", "primaryFields", "secondaryFields", "auxiliaryFields", "backFields"];

/// Logo candidates, best first: Google wants a large image, and `icon.png` always exists.
const LOGOS: [&str; 6] = ["logo@3x.png", "logo@2x.png", "logo.png", "icon@3x.png", "icon@2x.png", "icon.png"];

/// One Apple field dictionary (`key`, `label`, `value`, `dateStyle`, ...).
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub group: &'static str,
    pub key: &'a str,
    pub dict: &'a Map<String, Value>,
    /// The data field this Apple field shows, when its value is exactly `{{that_field}}`.
    pub shows: Option<&'a str>,
}

impl Field<'_> {
    pub fn label(&self) -> Option<&str> {
        self.dict.get("label").and_then(Value::as_str).filter(|l| !l.is_empty())
    }
}

/// A template's pass.json rendered for one pass (or for the class, with placeholders kept).
#[derive(Debug)]
pub struct ApplePass {
    pub json: Map<String, Value>,
    style: &'static str,
    /// Apple field key → the data field it shows.
    shows: HashMap<String, String>,
}

impl ApplePass {
    /// pass.json filled with the pass's (validated, complete) data.
    pub fn render(template: &Template, data: &Map<String, Value>) -> Self {
        let mut pass = Self::design(template);
        pass.json = template.render(data);
        pass
    }

    /// pass.json with every placeholder left as `{{field}}`: what all passes of the template share.
    pub fn design(template: &Template) -> Self {
        let markers: Map<String, Value> =
            template.definition.fields.keys().map(|k| (k.clone(), Value::String(format!("{{{{{k}}}}}")))).collect();
        let json = template.render(&markers);
        let mut shows = HashMap::new();
        for (_, key, dict) in group_fields(&json, template.style) {
            if let Some(Value::String(v)) = dict.get("value")
                && let Ok(segments) = placeholder::parse(v)
                && let [Segment::Field(name)] = segments.as_slice()
            {
                shows.insert(key.to_owned(), name.clone());
            }
        }
        Self { json, style: template.style, shows }
    }

    /// Every field with a key, header fields first and back fields last.
    pub fn fields(&self) -> Vec<Field<'_>> {
        group_fields(&self.json, self.style)
            .into_iter()
            .map(|(group, key, dict)| Field { group, key, dict, shows: self.shows.get(key).map(String::as_str) })
            .collect()
    }

    /// The first field showing `data_field` (a role's field), if any.
    pub fn field_showing(&self, data_field: Option<&str>) -> Option<Field<'_>> {
        let data_field = data_field?;
        self.fields().into_iter().find(|f| f.shows == Some(data_field))
    }

    /// A top-level string, with any `{{field}}` left by [`ApplePass::design`] removed.
    pub fn text(&self, key: &str) -> Option<String> {
        without_placeholders(self.json.get(key)?.as_str()?)
    }

    /// `backgroundColor` `rgb(r, g, b)` as `#rrggbb`.
    pub fn hex_background(&self) -> Option<String> {
        let s = self.json.get("backgroundColor")?.as_str()?.trim();
        let inner = s.strip_prefix("rgb(")?.strip_suffix(')')?;
        let rgb: Vec<u8> = inner.split(',').map(|c| c.trim().parse::<u8>()).collect::<Result<_, _>>().ok()?;
        match rgb.as_slice() {
            [r, g, b] => Some(format!("#{r:02x}{g:02x}{b:02x}")),
            _ => None,
        }
    }

    /// The first barcode (`barcodes[0]`, else the legacy `barcode`) as a Google `Barcode`.
    pub fn barcode(&self) -> Option<Value> {
        let apple = match self.json.get("barcodes").and_then(Value::as_array) {
            Some(list) => list.first()?,
            None => self.json.get("barcode")?,
        };
        let kind = match apple.get("format")?.as_str()? {
            "PKBarcodeFormatQR" => "QR_CODE",
            "PKBarcodeFormatPDF417" => "PDF_417",
            "PKBarcodeFormatAztec" => "AZTEC",
            "PKBarcodeFormatCode128" => "CODE_128",
            _ => return None,
        };
        let text = |k: &str| match apple.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        };
        let mut barcode = json!({ "type": kind, "value": text("message")? });
        if let Some(alt) = text("altText").filter(|a| !a.is_empty()) {
            barcode["alternateText"] = Value::String(alt);
        }
        Some(barcode)
    }

    /// `locations` as Google `MerchantLocation`s (at most 10, Google's limit).
    pub fn merchant_locations(&self) -> Vec<Value> {
        let list = self.json.get("locations").and_then(Value::as_array);
        list.into_iter()
            .flatten()
            .filter_map(|l| {
                let (lat, lon) = (l.get("latitude")?.as_f64()?, l.get("longitude")?.as_f64()?);
                Some(json!({ "latitude": lat, "longitude": lon }))
            })
            .take(10)
            .collect()
    }
}

/// `s` without its `{{field}}`s, trimmed; `None` if nothing is left.
pub fn without_placeholders(s: &str) -> Option<String> {
    let text: String = match placeholder::parse(s) {
        Ok(segments) => segments
            .into_iter()
            .filter_map(|seg| match seg {
                Segment::Text(t) => Some(t),
                Segment::Field(_) => None,
            })
            .collect(),
        Err(_) => s.to_owned(),
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `(group, key, dict)` of every field of `style`, in [`GROUPS`] order.
fn group_fields<'a>(json: &'a Map<String, Value>, style: &str) -> Vec<(&'static str, &'a str, &'a Map<String, Value>)> {
    let groups = json.get(style).and_then(Value::as_object);
    GROUPS
        .iter()
        .filter_map(|g| Some((*g, groups?.get(*g)?.as_array()?)))
        .flat_map(|(g, list)| list.iter().filter_map(move |f| Some((g, f.get("key")?.as_str()?, f.as_object()?))))
        .collect()
}

/// The file Google shows as the logo, and whether it is Apple's wide logo (not the square icon).
pub fn logo_file(template: &Template) -> Option<(&'static str, bool)> {
    LOGOS.into_iter().find(|name| template.files.iter().any(|f| f.path == *name)).map(|n| (n, n.starts_with("logo")))
}
