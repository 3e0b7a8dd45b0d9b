//! The campaign warnings in the console's language: the API words them in English; the
//! console says the same in French from each warning's code and figures.

use serde_json::Value;

use crate::campaigns::warnings::{EMPTY_AUDIENCE, MISSING_LANGUAGE, MOSTLY_QUIET_HOURS, UNKNOWN_STORE, Warning};

/// The warning in `lang` (`en` or `fr`).
pub fn say(lang: &str, w: &Warning) -> String {
    if lang != "fr" {
        return w.message.clone();
    }
    let number = |key: &str| w.detail.get(key).and_then(Value::as_i64).unwrap_or(0);
    let list = |key: &str| w.detail.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    match w.code {
        MISSING_LANGUAGE => {
            let listed: Vec<String> = list("languages")
                .iter()
                .map(|l| {
                    let n = l["members"].as_i64().unwrap_or(0);
                    format!("{} ({n} {})", l["language"].as_str().unwrap_or("?"), membres(n))
                })
                .collect();
            let fallback = w.detail.get("fallback").and_then(Value::as_str).unwrap_or("");
            format!("pas de texte en {} : ils reçoivent le texte {fallback}", listed.join(", "))
        }
        EMPTY_AUDIENCE => {
            let n = number("members");
            let consenting = if n > 1 { "consentants" } else { "consentant" };
            format!(
                "le segment ne touche personne : aucun membre consentant avec une carte dans un wallet \
                 ({n} {} {consenting})",
                membres(n)
            )
        }
        MOSTLY_QUIET_HOURS => {
            // `until` is RFC 3339 with the zone's offset: its hour and minute are local.
            let ends: Vec<String> = list("until")
                .iter()
                .map(|z| {
                    let at = z["until"].as_str().unwrap_or("");
                    format!("{} {}", at.get(11..16).unwrap_or(at), z["timezone"].as_str().unwrap_or(""))
                })
                .collect();
            format!(
                "{} des {} détenteurs sont en heures calmes : ils la recevront à leur fin ({})",
                number("holders"),
                number("of"),
                ends.join(", ")
            )
        }
        UNKNOWN_STORE => {
            let stores: Vec<String> =
                list("stores").iter().map(|s| format!("« {} »", s.as_str().unwrap_or(""))).collect();
            format!(
                "le segment nomme un magasin qui n'existe pas : {} (une faute de frappe ne touche personne)",
                stores.join(", ")
            )
        }
        _ => w.message.clone(),
    }
}

fn membres(n: i64) -> &'static str {
    if n > 1 { "membres" } else { "membre" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::warnings::{from_counts, unknown_stores};
    use crate::store::SegmentCounts;

    #[test]
    fn french_says_what_english_says() {
        let counts = SegmentCounts { members: 2, passes: 0, ..SegmentCounts::default() };
        let empty = &from_counts(&counts, None)[0];
        assert_eq!(say("en", empty), empty.message);
        assert_eq!(
            say("fr", empty),
            "le segment ne touche personne : aucun membre consentant avec une carte dans un wallet (2 membres consentants)"
        );
        let store = unknown_stores(&["pari-01".to_owned()]).unwrap();
        assert_eq!(
            say("fr", &store),
            "le segment nomme un magasin qui n'existe pas : « pari-01 » (une faute de frappe ne touche personne)"
        );
    }
}
