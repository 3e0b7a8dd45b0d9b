//! What a marketer should know before a campaign goes out, though nothing forbids it: a
//! language of the audience without text, a store the segment names that does not exist, an
//! audience of nobody, most of the audience in quiet hours now. Warnings never block.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::store::SegmentCounts;

pub const MISSING_LANGUAGE: &str = "missing_language";
pub const UNKNOWN_STORE: &str = "unknown_store";
pub const EMPTY_AUDIENCE: &str = "empty_audience";
pub const MOSTLY_QUIET_HOURS: &str = "mostly_quiet_hours";

/// One warning: a code to act on, a sentence to show, and the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
    #[serde(flatten)]
    pub detail: Map<String, Value>,
}

impl Warning {
    fn new(code: &'static str, message: String, detail: Value) -> Self {
        let detail = match detail {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Warning { code, message, detail }
    }
}

/// Whether a holder speaking `language` gets text in it (or in its base language, `fr` for
/// `fr-CA`), as `pick_message` chooses.
fn has_text(messages: &BTreeMap<String, String>, language: &str) -> bool {
    let base = language.split(['-', '_']).next().unwrap_or("");
    messages.contains_key(language) || messages.contains_key(base)
}

/// The warnings the counts show (`messages`: the campaign's texts, when known), in a fixed order.
pub fn from_counts(counts: &SegmentCounts, messages: Option<&BTreeMap<String, String>>) -> Vec<Warning> {
    let mut out = Vec::new();
    if let Some(messages) = messages.filter(|m| !m.is_empty()) {
        let missing: Vec<(&String, i64)> =
            counts.languages.iter().filter(|(l, _)| !has_text(messages, l)).map(|(l, n)| (l, *n)).collect();
        if !missing.is_empty() {
            let fallback = if messages.contains_key("en") { "en" } else { messages.keys().next().map_or("", |k| k) };
            let listed: Vec<String> = missing.iter().map(|(l, n)| format!("{l} ({n} {})", members(*n))).collect();
            let message = format!("no text in {}: they get the {fallback} text", listed.join(", "));
            let languages: Vec<Value> = missing.iter().map(|(l, n)| json!({"language": l, "members": n})).collect();
            out.push(Warning::new(MISSING_LANGUAGE, message, json!({"languages": languages, "fallback": fallback})));
        }
    }
    if counts.passes == 0 {
        let message = format!(
            "the segment matches nobody: no consenting member with a card in a wallet ({} consenting {})",
            counts.members,
            members(counts.members)
        );
        out.push(Warning::new(EMPTY_AUDIENCE, message, json!({"members": counts.members})));
    }
    let quiet: i64 = counts.quiet.iter().map(|z| z.holders).sum();
    if quiet * 2 > counts.passes && counts.passes > 0 {
        let zones: Vec<(String, String, i64)> = counts
            .quiet
            .iter()
            .map(|z| {
                let tz = TimeZone::get(&z.timezone).unwrap_or(TimeZone::UTC);
                let end = Timestamp::from_millisecond(z.until).unwrap_or_default().to_zoned(tz);
                (end.strftime("%H:%M").to_string(), end.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(), z.holders)
            })
            .collect();
        let ends: Vec<String> =
            counts.quiet.iter().zip(&zones).map(|(z, (hm, _, _))| format!("{hm} {}", z.timezone)).collect();
        let message = format!(
            "{quiet} of the {} holders are in quiet hours now: they get it once these end ({})",
            counts.passes,
            ends.join(", ")
        );
        let until: Vec<Value> = counts
            .quiet
            .iter()
            .zip(&zones)
            .map(|(z, (_, at, holders))| json!({"timezone": z.timezone, "until": at, "holders": holders}))
            .collect();
        out.push(Warning::new(
            MOSTLY_QUIET_HOURS,
            message,
            json!({"holders": quiet, "of": counts.passes, "until": until}),
        ));
    }
    out
}

/// A warning for each store the segment names that does not exist (`missing`, in order).
pub fn unknown_stores(missing: &[String]) -> Option<Warning> {
    let (first, rest) = missing.split_first()?;
    let names = rest.iter().fold(format!("{first:?}"), |acc, s| format!("{acc}, {s:?}"));
    let message = format!("the segment names no existing store: {names} (a typo matches nobody)");
    Some(Warning::new(UNKNOWN_STORE, message, json!({"stores": missing})))
}

fn members(n: i64) -> &'static str {
    if n == 1 { "member" } else { "members" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::QuietZone;

    fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn languages_without_text_are_named_with_their_holders() {
        let counts = SegmentCounts {
            members: 6,
            passes: 6,
            languages: [("en".to_owned(), 3), ("fr-CA".to_owned(), 2), ("de".to_owned(), 1)].into(),
            ..SegmentCounts::default()
        };
        let w = from_counts(&counts, Some(&texts(&[("fr", "Bonjour")])));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, MISSING_LANGUAGE);
        assert_eq!(
            w[0].detail["languages"],
            json!([{"language": "de", "members": 1}, {"language": "en", "members": 3}])
        );
        assert_eq!(w[0].message, "no text in de (1 member), en (3 members): they get the fr text");
        assert!(from_counts(&counts, None).is_empty(), "no texts given, nothing to say about them");
    }

    #[test]
    fn an_empty_audience_and_quiet_hours() {
        let empty = SegmentCounts { members: 2, ..SegmentCounts::default() };
        assert_eq!(from_counts(&empty, None)[0].code, EMPTY_AUDIENCE);
        let until = "2026-11-24T08:00:00Z".parse::<Timestamp>().unwrap().as_millisecond();
        let quiet = |holders| SegmentCounts {
            members: 4,
            passes: 4,
            quiet: vec![QuietZone { timezone: "Europe/Paris".into(), until, holders }],
            ..SegmentCounts::default()
        };
        assert!(from_counts(&quiet(2), None).is_empty(), "half is not most");
        let w = from_counts(&quiet(3), None);
        assert_eq!(w[0].code, MOSTLY_QUIET_HOURS);
        assert!(w[0].message.contains("09:00 Europe/Paris"), "{}", w[0].message);
        assert_eq!(w[0].detail["until"][0]["until"], "2026-11-24T09:00:00+01:00");
    }
}
