//! Validation of a template's pass.json against Apple's pass.json reference
//! (top-level keys, styles, field dictionaries, colours, dates, barcodes).

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::datetime::parse_w3c;
use super::definition::{Definition, FieldType};
use super::placeholder::{Segment, join, parse};
use super::problem::Report;

pub use super::pass_keys::STYLES;
use super::pass_keys::{
    BARCODE_FORMATS, COLOURS, DATE_STYLES, FIELD_GROUPS, FIELD_KEYS, NUMBER_STYLES, SERVER_OWNED, TEXT_ALIGNMENTS,
    TOP_LEVEL,
};

/// The identity every pass is signed with, from the certificate.
pub struct Identity<'a> {
    pub pass_type_identifier: &'a str,
    pub team_identifier: &'a str,
}

/// Checks a template's pass.json; problems go to `r`. Returns the style key when there is exactly one.
pub fn check(pass: &Value, def: &Definition, id: &Identity, r: &mut Report) -> Option<&'static str> {
    let Some(top) = pass.as_object() else {
        r.add("(root)", "pass.json must be a JSON object");
        return None;
    };
    let mut c = Checker { def, r };
    c.top_level(top, id);
    let styles: Vec<&'static str> = STYLES.iter().copied().filter(|s| top.contains_key(*s)).collect();
    let style = match styles.as_slice() {
        [one] => Some(*one),
        [] => {
            c.r.add("(root)", format!("needs exactly one style key, one of {}", STYLES.join(", ")));
            None
        }
        many => {
            c.r.add(many[1], format!("only one style key is allowed, found {}", many.join(", ")));
            None
        }
    };
    if let Some(style) = style {
        c.style(style, &top[style]);
    }
    c.placeholders(pass, "");
    c.roles(top, style);
    style
}

struct Checker<'a, 'b> {
    def: &'a Definition,
    r: &'a mut Report<'b>,
}

impl Checker<'_, '_> {
    fn top_level(&mut self, top: &Map<String, Value>, id: &Identity) {
        for (k, v) in top {
            if SERVER_OWNED.contains(&k.as_str()) {
                self.r.add(k, "is set by the server for each pass; remove it from the template");
            } else if !TOP_LEVEL.contains(&k.as_str()) {
                self.r.add(k, "unknown top-level key (see Apple's pass.json reference)");
            } else if COLOURS.contains(&k.as_str()) && !is_rgb(v) {
                self.r.add(k, "colour must be rgb(r, g, b) with each component 0-255");
            }
        }
        if top.get("formatVersion").is_some_and(|v| v != 1) {
            self.r.add("formatVersion", "must be 1");
        }
        for (key, expected, what) in
            [("passTypeIdentifier", id.pass_type_identifier, "UID"), ("teamIdentifier", id.team_identifier, "OU")]
        {
            if let Some(v) = top.get(key).filter(|v| v.as_str() != Some(expected)) {
                self.r
                    .add(key, format!("{v} does not match the certificate's {what} ({expected}); remove it or fix it"));
            }
        }
        for key in ["organizationName", "description"] {
            if top.get(key).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
                self.r.add(key, "is required and must be a non-empty string");
            }
        }
        for key in ["relevantDate", "expirationDate"] {
            if let Some(v) = top.get(key) {
                self.date(key, v);
            }
        }
        if let Some(dates) = top.get("relevantDates").and_then(Value::as_array) {
            for (i, d) in dates.iter().enumerate() {
                for k in ["relevantDate", "startDate", "endDate"] {
                    if let Some(v) = d.get(k) {
                        self.date(&format!("relevantDates[{i}].{k}"), v);
                    }
                }
            }
        }
        if let Some(v) = top.get("barcodes") {
            self.barcodes(v);
        }
        if top.get("barcode").and_then(|b| b.get("format")).and_then(Value::as_str) == Some("PKBarcodeFormatCode128") {
            self.r.add("barcode.format", "Code128 is only allowed inside barcodes[], not the deprecated barcode");
        }
        if top.get("locations").and_then(Value::as_array).is_some_and(|l| l.len() > 10) {
            self.r.add("locations", "Wallet uses at most 10 locations");
        }
    }

    fn barcodes(&mut self, v: &Value) {
        let Some(list) = v.as_array() else {
            self.r.add("barcodes", "must be an array of barcode dictionaries");
            return;
        };
        for (i, b) in list.iter().enumerate() {
            let path = format!("barcodes[{i}]");
            match b.get("format").and_then(Value::as_str) {
                Some(f) if BARCODE_FORMATS.contains(&f) => {}
                _ => self.r.add(join(&path, "format"), format!("must be one of {}", BARCODE_FORMATS.join(", "))),
            }
            for k in ["message", "messageEncoding"] {
                if !b.get(k).is_some_and(Value::is_string) {
                    self.r.add(join(&path, k), "is required and must be a string");
                }
            }
        }
    }

    fn style(&mut self, style: &str, body: &Value) {
        let Some(body) = body.as_object() else {
            self.r.add(style, "must be a dictionary of field groups");
            return;
        };
        let mut seen: HashSet<String> = HashSet::new();
        for (group, fields) in body {
            let path = join(style, group);
            if group == "transitType" && style == "boardingPass" {
                continue;
            }
            if group == "additionalInfoFields" && style != "eventTicket" {
                self.r.add(&path, "additionalInfoFields is for eventTicket only");
                continue;
            }
            if !FIELD_GROUPS.contains(&group.as_str()) {
                self.r.add(&path, format!("unknown style key (allowed: {})", FIELD_GROUPS.join(", ")));
                continue;
            }
            let Some(fields) = fields.as_array() else {
                self.r.add(&path, "must be an array of field dictionaries");
                continue;
            };
            if let Some(max) = max_fields(style, group)
                && fields.len() > max
            {
                self.r.add(&path, format!("at most {max} fields are shown, found {}", fields.len()));
            }
            for (i, f) in fields.iter().enumerate() {
                self.field(&format!("{path}[{i}]"), group, f, &mut seen);
            }
        }
        if style == "boardingPass" && !body.contains_key("transitType") {
            self.r.add(join(style, "transitType"), "is required for a boardingPass");
        }
    }

    fn field(&mut self, path: &str, group: &str, f: &Value, seen: &mut HashSet<String>) {
        let Some(f) = f.as_object() else {
            self.r.add(path, "must be a field dictionary");
            return;
        };
        for k in f.keys().filter(|k| !FIELD_KEYS.contains(&k.as_str())) {
            self.r.add(join(path, k), "unknown field key (see Apple's PassFieldContent)");
        }
        match f.get("key").and_then(Value::as_str) {
            Some(key) if !seen.insert(key.to_owned()) => self
                .r
                .add(join(path, "key"), format!("duplicate field key {key:?}: keys must be unique across the pass")),
            Some(_) => {}
            None => self.r.add(join(path, "key"), "is required and must be a string"),
        }
        if !f.contains_key("value") {
            self.r.add(join(path, "value"), "is required");
        }
        if let Some(m) = f.get("changeMessage")
            && !m.as_str().is_some_and(|m| m.contains("%@"))
        {
            self.r.add(join(path, "changeMessage"), "must contain %@ (replaced by the new value), or no message shows");
        }
        self.enumerated(path, f, "textAlignment", &TEXT_ALIGNMENTS);
        self.enumerated(path, f, "dateStyle", &DATE_STYLES);
        self.enumerated(path, f, "timeStyle", &DATE_STYLES);
        self.enumerated(path, f, "numberStyle", &NUMBER_STYLES);
        if f.contains_key("textAlignment") && (group == "primaryFields" || group == "backFields") {
            self.r.add(join(path, "textAlignment"), "is not allowed on primary or back fields");
        }
        if f.contains_key("dataDetectorTypes") && group != "backFields" {
            self.r.add(join(path, "dataDetectorTypes"), "is allowed on back fields only");
        }
        if let Some(code) = f.get("currencyCode").and_then(Value::as_str)
            && !code.contains("{{")
            && !(code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
        {
            self.r.add(join(path, "currencyCode"), "must be an ISO 4217 code of three capital letters");
        }
        if (f.contains_key("dateStyle") || f.contains_key("timeStyle"))
            && let Some(v) = f.get("value")
        {
            self.date(&join(path, "value"), v);
        }
    }

    fn enumerated(&mut self, path: &str, f: &Map<String, Value>, key: &str, allowed: &[&str]) {
        if let Some(v) = f.get(key)
            && !v.as_str().is_some_and(|s| allowed.contains(&s))
        {
            self.r.add(join(path, key), format!("must be one of {}", allowed.join(", ")));
        }
    }

    /// A date is a W3C literal, or exactly one placeholder naming a datetime field.
    fn date(&mut self, path: &str, v: &Value) {
        let Some(s) = v.as_str() else {
            self.r.add(path, "must be a W3C date-time string");
            return;
        };
        if let Ok(segments) = parse(s)
            && segments.iter().any(|seg| matches!(seg, Segment::Field(_)))
        {
            match segments.as_slice() {
                [Segment::Field(name)] => match self.def.fields.get(name) {
                    Some(spec) if spec.ty != FieldType::Datetime => self.r.add(
                        path,
                        format!("placeholder {{{{{name}}}}} must name a datetime field, not a {}", spec.ty.name()),
                    ),
                    _ => {} // undeclared names are reported by `placeholders`
                },
                _ => self.r.add(path, "a date must be exactly one placeholder, without other text"),
            }
            return;
        }
        if let Err(e) = parse_w3c(s) {
            self.r.add(path, format!("bad date {s:?}: {e}"));
        }
    }

    fn placeholders(&mut self, v: &Value, path: &str) {
        match v {
            Value::String(s) if s.contains("{{") => match parse(s) {
                Err(e) => self.r.add(path, e),
                Ok(segments) => {
                    for seg in segments {
                        if let Segment::Field(name) = seg
                            && !self.def.fields.contains_key(&name)
                        {
                            self.r.add(
                                path,
                                format!("placeholder {{{{{name}}}}} names no field declared in template.toml"),
                            );
                        }
                    }
                }
            },
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.placeholders(item, &format!("{path}[{i}]"));
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    self.placeholders(item, &join(path, k));
                }
            }
            _ => {}
        }
    }

    /// The fields that carry the offer and status roles must notify the holder.
    fn roles(&mut self, top: &Map<String, Value>, style: Option<&str>) {
        let Some(body) = style.and_then(|s| top.get(s)).and_then(Value::as_object) else {
            return;
        };
        let mut shown: BTreeMap<String, bool> = BTreeMap::new();
        for fields in body.values().filter_map(Value::as_array) {
            for f in fields {
                let value = f.get("value").and_then(Value::as_str).and_then(|s| parse(s).ok());
                if let Some([Segment::Field(name)]) = value.as_deref() {
                    *shown.entry(name.clone()).or_default() |= f.get("changeMessage").is_some();
                }
            }
        }
        for (role, field) in [("offer", &self.def.roles.offer), ("status", &self.def.roles.status)] {
            let Some(field) = field else { continue };
            if shown.get(field) != Some(&true) {
                self.r.add(
                    format!("{{{{{field}}}}}"),
                    format!("the {role} role's field must be the value of a pass field that has a changeMessage"),
                );
            }
        }
    }
}

fn max_fields(style: &str, group: &str) -> Option<usize> {
    match (group, style) {
        ("headerFields", _) => Some(3),
        ("primaryFields", "boardingPass") => Some(2),
        ("primaryFields", _) => Some(3),
        ("secondaryFields", _) => Some(4),
        ("auxiliaryFields", "boardingPass") => Some(5),
        ("auxiliaryFields", _) => Some(4),
        _ => None,
    }
}

/// `rgb(r, g, b)` with integer components 0-255, as Wallet expects.
fn is_rgb(v: &Value) -> bool {
    let Some(inner) = v.as_str().and_then(|s| s.trim().strip_prefix("rgb(")).and_then(|s| s.strip_suffix(')')) else {
        return false;
    };
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::is_rgb;
    use serde_json::json;

    #[test]
    fn colours() {
        assert!(is_rgb(&json!("rgb(27, 38, 59)")));
        assert!(is_rgb(&json!("rgb(0,0,255)")));
        assert!(!is_rgb(&json!("rgb(256, 0, 0)")));
        assert!(!is_rgb(&json!("#ffffff")));
        assert!(!is_rgb(&json!("rgb(1, 2)")));
    }
}
