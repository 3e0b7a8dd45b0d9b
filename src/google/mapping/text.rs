//! Text for Google Wallet: `LocalizedString`s from a template's lproj tables, and Apple field values
//! (dates, amounts, numbers) as readable English text.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::templates::{Template, datetime, strings};

/// The language of `defaultValue`: the `en.lproj` table (templates keep English in pass.json too).
pub const DEFAULT_LANGUAGE: &str = "en";

/// A text in English with its translations into the template's other languages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Text {
    pub en: String,
    /// `(language, value)` for every other lproj table that has the text as a key.
    pub translations: Vec<(String, String)>,
}

impl Text {
    /// A text no table translates (data values, formatted dates and amounts).
    pub fn plain(s: impl Into<String>) -> Self {
        Self { en: s.into(), translations: Vec::new() }
    }

    /// Google's `LocalizedString`; `translatedValues` only when some table translates the text.
    pub fn localized(&self) -> Value {
        let mut v = json!({ "defaultValue": { "language": DEFAULT_LANGUAGE, "value": self.en } });
        if !self.translations.is_empty() {
            v["translatedValues"] = self
                .translations
                .iter()
                .map(|(language, value)| json!({ "language": language, "value": value }))
                .collect();
        }
        v
    }

    /// The `LocalizedString`, only if there are translations (for the optional `localized*` fields).
    pub fn translated(&self) -> Option<Value> {
        (!self.translations.is_empty()).then(|| self.localized())
    }
}

/// The template's `xx.lproj/pass.strings` tables, by language (BCP 47: `pt_BR` becomes `pt-BR`).
#[derive(Debug, Default)]
pub struct Strings {
    tables: Vec<(String, HashMap<String, String>)>,
}

impl Strings {
    pub fn of(template: &Template) -> Self {
        let mut tables: Vec<(String, HashMap<String, String>)> = template
            .files
            .iter()
            .filter_map(|f| {
                let language = f.path.strip_suffix(".lproj/pass.strings").filter(|l| !l.contains('/'))?;
                // The loader already refused unreadable tables.
                let entries = strings::read(&f.bytes).ok()?;
                Some((language.replace('_', "-"), entries.into_iter().collect()))
            })
            .collect();
        tables.sort_by(|a, b| a.0.cmp(&b.0));
        Self { tables }
    }

    /// `s` looked up as Wallet would: the English value if `s` is a key, else `s` itself.
    pub fn text(&self, s: &str) -> Text {
        let mut text = Text::plain(s);
        for (language, table) in &self.tables {
            match table.get(s) {
                Some(v) if language == DEFAULT_LANGUAGE => text.en = v.clone(),
                Some(v) => text.translations.push((language.clone(), v.clone())),
                None => {}
            }
        }
        text
    }
}

/// An Apple field's `value` as text: dates per `dateStyle`/`timeStyle`, amounts with `currencyCode`,
/// percentages, and strings looked up in the lproj tables.
pub fn field_value(field: &Map<String, Value>, strings: &Strings) -> Text {
    let attr = |k: &str| field.get(k).and_then(Value::as_str);
    match field.get("value").unwrap_or(&Value::Null) {
        Value::String(s) => match date(s, attr("dateStyle"), attr("timeStyle")) {
            Some(d) => Text::plain(d),
            None => strings.text(s),
        },
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or_default();
            Text::plain(match (attr("currencyCode"), attr("numberStyle")) {
                (Some(code), _) => money(x, code),
                (None, Some("PKNumberStylePercent")) => format!("{}%", number(x * 100.0)),
                _ if n.is_f64() => number(x),
                _ => n.to_string(),
            })
        }
        Value::Bool(b) => Text::plain(if *b { "Yes" } else { "No" }),
        Value::Null => Text::default(),
        other => Text::plain(other.to_string()),
    }
}

/// A data value as plain text (`None` when absent or empty).
pub fn data_value(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// A W3C date-time as Apple's English styles show it, in the date-time's own offset
/// (`Nov 24, 2026, 10:00`); `None` if the field is not a date or the value not a date-time.
pub fn date(value: &str, date_style: Option<&str>, time_style: Option<&str>) -> Option<String> {
    if date_style.is_none() && time_style.is_none() {
        return None;
    }
    let dt = datetime::parse_w3c(value).ok()?;
    let date_format: Option<&[BorrowedFormatItem]> = match date_style? {
        "PKDateStyleShort" => Some(format_description!("[month padding:none]/[day padding:none]/[year repr:last_two]")),
        "PKDateStyleMedium" => Some(format_description!("[month repr:short] [day padding:none], [year]")),
        "PKDateStyleLong" => Some(format_description!("[month repr:long] [day padding:none], [year]")),
        "PKDateStyleFull" => {
            Some(format_description!("[weekday repr:long], [month repr:long] [day padding:none], [year]"))
        }
        _ => None,
    };
    let time_format: Option<&[BorrowedFormatItem]> = match time_style.unwrap_or("PKDateStyleNone") {
        "PKDateStyleNone" => None,
        "PKDateStyleShort" => Some(format_description!("[hour]:[minute]")),
        _ => Some(format_description!("[hour]:[minute]:[second]")),
    };
    let parts: Vec<String> =
        [date_format, time_format].into_iter().flatten().filter_map(|f| dt.format(f).ok()).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A number without a useless `.0`, otherwise as written.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

/// An amount in English form: `€1,234.50`, `¥500`, `CHF 52.40`.
pub fn money(amount: f64, code: &str) -> String {
    let decimals = match code {
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" | "XAF" | "XOF" | "XPF" | "HUF" | "TWD" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    };
    let fixed = format!("{:.*}", decimals, amount.abs());
    let (int, frac) = fixed.split_once('.').map_or((fixed.as_str(), None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(frac) = frac {
        grouped = format!("{grouped}.{frac}");
    }
    let sign = if amount < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match code {
        "EUR" => format!("{sign}€{grouped}"),
        "USD" => format!("{sign}${grouped}"),
        "GBP" => format!("{sign}£{grouped}"),
        "JPY" => format!("{sign}¥{grouped}"),
        _ => format!("{sign}{code} {grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_amounts() {
        assert_eq!(money(52.4, "EUR"), "€52.40");
        assert_eq!(money(1234567.891, "USD"), "$1,234,567.89");
        assert_eq!(money(-3.0, "CHF"), "-CHF 3.00");
        assert_eq!(money(500.0, "JPY"), "¥500");
        assert_eq!(money(-0.001, "EUR"), "€0.00");
    }

    #[test]
    fn formats_dates_like_apple_english() {
        let d = "2026-11-24T10:00:00+01:00";
        assert_eq!(date(d, Some("PKDateStyleMedium"), Some("PKDateStyleShort")).unwrap(), "Nov 24, 2026, 10:00");
        assert_eq!(date(d, Some("PKDateStyleShort"), None).unwrap(), "11/24/26");
        assert_eq!(date(d, Some("PKDateStyleFull"), None).unwrap(), "Tuesday, November 24, 2026");
        assert_eq!(date(d, Some("PKDateStyleNone"), Some("PKDateStyleMedium")).unwrap(), "10:00:00");
        assert_eq!(date(d, None, None), None);
        assert_eq!(date("soon", Some("PKDateStyleShort"), None), None);
    }

    #[test]
    fn field_values() {
        let s = Strings::default();
        let f = |v: Value| field_value(json!({ "key": "k", "value": v }).as_object().unwrap(), &s).en;
        assert_eq!(f(json!(320)), "320");
        assert_eq!(f(json!(2.5)), "2.5");
        assert_eq!(f(json!(3.0)), "3");
        assert_eq!(f(json!("x")), "x");
        let pct = json!({ "value": 0.25, "numberStyle": "PKNumberStylePercent" });
        assert_eq!(field_value(pct.as_object().unwrap(), &s).en, "25%");
    }

    #[test]
    fn localized_string_shapes() {
        assert_eq!(Text::plain("A").localized(), json!({ "defaultValue": { "language": "en", "value": "A" } }));
        let t = Text { en: "Tier".into(), translations: vec![("fr".into(), "Statut".into())] };
        assert_eq!(t.translated().unwrap()["translatedValues"], json!([{ "language": "fr", "value": "Statut" }]));
        assert!(Text::plain("A").translated().is_none());
    }
}
