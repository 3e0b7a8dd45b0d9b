//! A template's pass drawn from its `example.json`, for the templates page: the pass.json the
//! template renders from that data, its labels in the page's language (`xx.lproj/pass.strings`),
//! its colours (as a stylesheet: the console's CSP allows no inline style) and its images.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::shops::qr;
use crate::templates::{Template, TemplateSet, strings};

/// The front's field rows, in the order Wallet shows them.
const FRONT: [&str; 4] = ["headerFields", "primaryFields", "secondaryFields", "auxiliaryFields"];

/// The labels and texts of `lang` (else English), by the key pass.json uses.
fn localized(t: &Template, lang: &str) -> HashMap<String, String> {
    let table = |l: &str| {
        let path = format!("{l}.lproj/pass.strings");
        t.files.iter().find(|f| f.path == path).and_then(|f| strings::read(&f.bytes).ok())
    };
    table(lang).or_else(|| table("en")).unwrap_or_default().into_iter().collect()
}

/// A field's value as Wallet would show it, roughly: money with its currency, dates shortened.
fn shown(field: &Map<String, Value>, texts: &HashMap<String, String>) -> String {
    let value = &field["value"];
    if let (Some(n), Some(currency)) = (value.as_f64(), field.get("currencyCode").and_then(Value::as_str)) {
        return format!("{n:.2} {currency}");
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if field.contains_key("dateStyle")
        && let Ok(t) = text.parse::<jiff::Timestamp>()
    {
        return t.strftime("%Y-%m-%d %H:%M").to_string();
    }
    texts.get(&text).cloned().unwrap_or(text)
}

fn fields(group: Option<&Value>, texts: &HashMap<String, String>) -> Vec<Value> {
    let Some(Value::Array(items)) = group else { return Vec::new() };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|f| {
            let label = f.get("label").and_then(Value::as_str).unwrap_or_default();
            json!({"label": texts.get(label).map_or(label, String::as_str), "value": shown(f, texts)})
        })
        .collect()
}

/// The first of these images the template ships (a @2x first: the preview is small but sharp).
fn image(t: &Template, names: &[&str]) -> Option<String> {
    names
        .iter()
        .flat_map(|n| [format!("{n}@2x.png"), format!("{n}.png")])
        .find(|path| t.files.iter().any(|f| &f.path == path))
        .map(|path| format!("/console/assets/templates/{}/{path}", t.id))
}

/// The preview of `t` in `lang`, or `None` for a template without example data.
pub fn preview(t: &Template, lang: &str) -> Option<Value> {
    let data = t.validate_data(t.example.as_ref()?).ok()?;
    let pass = t.render(&data);
    let texts = localized(t, lang);
    let body = pass.get(t.style);
    let group = |name: &str| fields(body.and_then(|b| b.get(name)), &texts);
    let barcode = pass.get("barcodes").and_then(|b| b.get(0)).or_else(|| pass.get("barcode"));
    let message = barcode.and_then(|b| b["message"].as_str()).unwrap_or_default();
    let is_qr = barcode.and_then(|b| b["format"].as_str()) == Some("PKBarcodeFormatQR");
    // Made of numbers and fixed markup only (see qr::svg): safe to inline.
    let qr = if is_qr { qr::svg(message).ok() } else { None };
    let text = |key: &str| pass.get(key).and_then(Value::as_str).map(|s| texts.get(s).cloned().unwrap_or(s.to_owned()));
    let front: Vec<Value> = FRONT.iter().map(|g| json!({"name": g, "fields": group(g)})).collect();
    Some(json!({
        "style": t.style,
        "organization": text("organizationName"),
        "logo_text": text("logoText"),
        "description": text("description"),
        "front": front,
        "header": group("headerFields"),
        "primary": group("primaryFields"),
        "secondary": group("secondaryFields"),
        "auxiliary": group("auxiliaryFields"),
        "back": group("backFields"),
        "barcode": {"qr": qr, "text": barcode.and_then(|b| b["altText"].as_str()).unwrap_or(message)},
        "logo": image(t, &["logo"]),
        "strip": image(t, &["strip"]),
        "thumbnail": image(t, &["thumbnail"]),
        "icon": image(t, &["icon"]),
    }))
}

/// `rgb(r, g, b)` (what pass.json holds) as three numbers, re-written rather than copied into CSS.
fn rgb(text: Option<&Value>) -> Option<(u8, u8, u8)> {
    let inner = text?.as_str()?.trim().strip_prefix("rgb(")?.strip_suffix(')')?;
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u8>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// The CSS class of a template's preview (its position: ids are folder names, not CSS).
pub fn class(index: usize) -> String {
    format!("pass-t{index}")
}

/// Every template's colours as CSS custom properties of its preview class.
pub fn stylesheet(set: &TemplateSet) -> String {
    let mut css = String::from("/* Pass previews: each template's pass.json colours. */\n");
    for (i, t) in set.iter().enumerate() {
        let Some(data) = t.example.as_ref().and_then(|e| t.validate_data(e).ok()) else { continue };
        let pass = t.render(&data);
        let colour = |key: &str, fallback: (u8, u8, u8)| {
            let (r, g, b) = rgb(pass.get(key)).unwrap_or(fallback);
            format!("rgb({r}, {g}, {b})")
        };
        let _ = writeln!(
            css,
            ".{} {{ --pass-bg: {}; --pass-fg: {}; --pass-label: {}; }}",
            class(i),
            colour("backgroundColor", (255, 255, 255)),
            colour("foregroundColor", (0, 0, 0)),
            colour("labelColor", (90, 90, 90)),
        );
    }
    css
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_read_as_numbers_only() {
        assert_eq!(rgb(Some(&json!("rgb(27, 38, 59)"))), Some((27, 38, 59)));
        assert_eq!(rgb(Some(&json!("rgb(1,2,3); } body { x"))), None);
        assert_eq!(rgb(Some(&json!("rgb(300, 0, 0)"))), None);
        assert_eq!(rgb(None), None);
    }
}
