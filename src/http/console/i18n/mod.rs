//! The console's words in English and French, by key (templates read `t.<key>`), one file per
//! part of the console.

mod accounts;
mod campaigns;
mod general;
mod members;
mod pages;

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// Every (key, English, French) of the console.
fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    [general::TEXTS, members::TEXTS, campaigns::TEXTS, accounts::TEXTS, pages::TEXTS].into_iter().flatten()
}

/// Every text in `lang` (`en` or `fr`), as the templates' `t` (built once per language).
pub fn texts(lang: &str) -> Value {
    static EN: OnceLock<Value> = OnceLock::new();
    static FR: OnceLock<Value> = OnceLock::new();
    let (cell, french) = if lang == "fr" { (&FR, true) } else { (&EN, false) };
    cell.get_or_init(|| {
        let map: Map<String, Value> =
            all().map(|(k, en, fr)| ((*k).to_owned(), Value::from(if french { *fr } else { *en }))).collect();
        Value::Object(map)
    })
    .clone()
}

/// One text in `lang`.
pub fn text(lang: &str, key: &str) -> String {
    let found = all().find(|(k, _, _)| *k == key).map(|(_, en, fr)| if lang == "fr" { *fr } else { *en });
    found.unwrap_or(key).to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_unique_and_translated() {
        let mut keys = std::collections::HashSet::new();
        for (key, en, fr) in super::all() {
            assert!(keys.insert(key), "{key} twice");
            assert!(!en.is_empty() && !fr.is_empty(), "{key}");
        }
    }
}
