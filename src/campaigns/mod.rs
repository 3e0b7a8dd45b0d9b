//! Campaigns: segmented notifications to pass holders, under pressure rules and HQ approval.

pub mod approval_mail;
pub mod audience;
mod decisions;
mod drafts;
pub mod holdout;
pub mod offer;
pub mod plan;
pub mod pressure;
pub mod requests;
pub mod results;
pub mod segment;
pub mod service;
pub mod test_send;
pub mod warnings;
pub mod worker;

pub use service::{Campaigns, Checked, Preview};

use std::collections::BTreeMap;

/// The text for a holder speaking `language`: that language, else its base language
/// (`fr` for `fr-CA`), else English, else the campaign's first language.
pub fn pick_message<'a>(messages: &'a BTreeMap<String, String>, language: Option<&str>) -> &'a str {
    let language = language.unwrap_or("");
    let base = language.split(['-', '_']).next().unwrap_or("");
    [language, base, "en"]
        .iter()
        .find_map(|l| messages.get(*l))
        .or_else(|| messages.values().next())
        .map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_holders_language() {
        let messages: BTreeMap<String, String> =
            [("en", "Hello"), ("fr", "Bonjour")].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        assert_eq!(pick_message(&messages, Some("fr")), "Bonjour");
        assert_eq!(pick_message(&messages, Some("fr-CA")), "Bonjour");
        assert_eq!(pick_message(&messages, Some("de")), "Hello");
        assert_eq!(pick_message(&messages, None), "Hello");
        let only_fr: BTreeMap<String, String> = [("fr".to_owned(), "Salut".to_owned())].into();
        assert_eq!(pick_message(&only_fr, Some("es")), "Salut");
    }
}
