//! The consent wording shown on the enrollment page, versioned: a member's record keeps the
//! version they agreed to (`consent_version`), so change the wording only with a new version.

/// The version of the texts below; stored with every member who signs up through the page.
pub const CONSENT_VERSION: &str = "2026-11-v1";

/// The consent checkboxes' labels in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentTexts {
    /// Required: joining the loyalty programme.
    pub terms: &'static str,
    /// Optional: offers and news.
    pub marketing: &'static str,
}

const EN: ConsentTexts = ConsentTexts {
    terms: "I join the loyalty programme and agree to its terms: my name, contact details and points are kept \
            to run my card, and I can leave at any time.",
    marketing: "Send me offers and news (optional; withdraw at any time from the back of the card).",
};

const FR: ConsentTexts = ConsentTexts {
    terms: "J'adhère au programme de fidélité et j'en accepte les conditions : mon nom, mes coordonnées et mes \
            points sont conservés pour gérer ma carte, et je peux partir à tout moment.",
    marketing: "Envoyez-moi des offres et des nouvelles (facultatif ; retrait à tout moment depuis le dos de la \
                carte).",
};

/// The texts of `CONSENT_VERSION` in `lang` (`fr`, otherwise English).
pub fn texts(lang: &str) -> ConsentTexts {
    if lang == "fr" { FR } else { EN }
}
