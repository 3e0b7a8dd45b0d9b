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

/// The audit action of a consent statement: one per sign-up, change or withdrawal, so a
/// member's page (and a data-rights answer) shows what they agreed to, when and through what.
pub const CONSENT_ACTION: &str = "member.consent";

/// Records the member's consent as it now stands, with who recorded it (`join` for the sign-up
/// page, `consent link` for the withdrawal link, else the key or console user).
pub async fn record(
    store: &dyn crate::store::Store,
    actor: &crate::access::Actor,
    member: &crate::store::MemberRecord,
) -> crate::error::Result<()> {
    let detail = serde_json::json!({
        "terms": member.consent_terms, "marketing": member.consent_marketing, "version": member.consent_version,
    });
    let what = crate::access::audit::Audited {
        action: CONSENT_ACTION,
        object_kind: "member",
        object_id: &member.id,
        store_id: member.home_store_id.as_deref(),
        detail,
    };
    crate::access::audit::record(store, actor, what).await
}
