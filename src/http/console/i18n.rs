//! The console's words in English and French, by key (templates read `t.<key>`).

use serde_json::{Map, Value};

/// (key, English, French).
const TEXTS: &[(&str, &str, &str)] = &[
    ("console", "Console", "Console"),
    ("overview", "Overview", "Vue d'ensemble"),
    ("campaigns", "Campaigns", "Campagnes"),
    ("approvals", "Approvals", "Validations"),
    ("members", "Members", "Membres"),
    ("stores", "Stores", "Magasins"),
    ("flyers", "Flyers", "Flyers"),
    ("templates", "Templates", "Modèles"),
    ("operations", "Operations", "Exploitation"),
    ("sign_in", "Sign in", "Se connecter"),
    ("sign_out", "Sign out", "Se déconnecter"),
    ("email", "E-mail address", "Adresse e-mail"),
    ("password", "Password", "Mot de passe"),
    ("sign_in_title", "Sign in to the console", "Connexion à la console"),
    (
        "sign_in_intro",
        "Passerelle's console, for head office and store managers.",
        "La console Passerelle, pour le siège et les responsables de magasin.",
    ),
    ("wrong_credentials", "Wrong e-mail address or password.", "Adresse e-mail ou mot de passe incorrect."),
    (
        "locked",
        "Too many wrong passwords: this account is locked until {until}. Try again then.",
        "Trop de mots de passe erronés : ce compte est bloqué jusqu'à {until}. Réessayez ensuite.",
    ),
    (
        "too_many",
        "Too many sign-in attempts from your network. Wait a minute and try again.",
        "Trop de tentatives de connexion depuis votre réseau. Patientez une minute et réessayez.",
    ),
    ("language", "Language", "Langue"),
    ("signed_in_as", "Signed in as", "Connecté en tant que"),
    ("role_hq_admin", "Head office administrator", "Administrateur siège"),
    ("role_hq_marketer", "Head office marketer", "Marketing siège"),
    ("role_store_manager", "Store manager", "Responsable de magasin"),
    ("members_total", "Members", "Membres"),
    ("members_total_help", "Loyalty members, all time", "Membres du programme, depuis le début"),
    ("signups_7d", "New sign-ups", "Nouvelles inscriptions"),
    ("signups_7d_help", "Members who joined in the last 7 days", "Membres inscrits ces 7 derniers jours"),
    ("apple_cards", "On iPhones", "Sur iPhone"),
    (
        "apple_cards_help",
        "Loyalty cards registered by at least one iPhone",
        "Cartes enregistrées par au moins un iPhone",
    ),
    ("google_cards", "In Google Wallet", "Dans Google Wallet"),
    ("google_cards_help", "Loyalty cards saved to Google Wallet", "Cartes enregistrées dans Google Wallet"),
    ("waiting_approval", "Waiting for approval", "En attente de validation"),
    (
        "waiting_approval_help",
        "Store campaigns head office has not decided on",
        "Campagnes de magasin que le siège n'a pas encore validées",
    ),
    ("scope_all", "All stores", "Tous les magasins"),
    ("scope_store", "Store {store}", "Magasin {store}"),
    ("error_title", "Something is wrong", "Un problème est survenu"),
    (
        "error_csrf",
        "This form has expired or did not come from the console. Go back, reload the page and try again.",
        "Ce formulaire a expiré ou ne vient pas de la console. Revenez en arrière, rechargez la page et réessayez.",
    ),
    (
        "error_not_found",
        "There is no such page, or it is not yours to see.",
        "Cette page n'existe pas, ou elle ne vous est pas accessible.",
    ),
    ("error_forbidden", "Your role does not allow this.", "Votre rôle ne le permet pas."),
    ("error_too_large", "What was sent is too large.", "L'envoi est trop volumineux."),
    (
        "error_bad_form",
        "The form could not be read. Reload the page and try again.",
        "Le formulaire est illisible. Rechargez la page et réessayez.",
    ),
    ("search", "Search", "Rechercher"),
    ("member_search_label", "Card number, e-mail, phone or name", "Numéro de carte, e-mail, téléphone ou nom"),
    ("no_members", "No member matches.", "Aucun membre ne correspond."),
    ("newest_members", "Newest members", "Derniers inscrits"),
    ("results_for", "Members matching", "Membres correspondant à"),
    ("name", "Name", "Nom"),
    ("card_number", "Card number", "Numéro de carte"),
    ("contact", "Contact", "Contact"),
    ("phone", "Phone", "Téléphone"),
    ("home_store", "Home store", "Magasin de rattachement"),
    ("points", "Points", "Points"),
    ("tier", "Tier", "Niveau"),
    ("tier_by_hand", "set by hand", "fixé à la main"),
    ("verified", "verified", "vérifié"),
    ("not_verified", "not verified", "non vérifié"),
    ("language_label", "Language", "Langue"),
    ("joined", "Joined", "Inscrit le"),
    ("source", "Came from", "Provenance"),
    ("ledger", "Points history", "Historique des points"),
    ("no_ledger", "No points movement yet.", "Aucun mouvement de points."),
    ("date", "Date", "Date"),
    ("change", "Change", "Variation"),
    ("reason", "Reason", "Motif"),
    ("store", "Store", "Magasin"),
    ("balance", "Balance", "Solde"),
    ("receipts", "Receipts", "Tickets"),
    ("no_receipts", "No receipt.", "Aucun ticket."),
    ("receipt_number", "Receipt", "Ticket"),
    ("total", "Total", "Total"),
    ("cards", "Wallet cards", "Cartes dans les wallets"),
    ("loyalty_pass", "Loyalty pass", "Carte de fidélité"),
    ("voided", "voided", "annulée"),
    ("iphones", "iPhones holding it", "iPhone qui la détiennent"),
    ("registered_on", "registered on", "enregistré le"),
    ("none", "none", "aucun"),
    ("google_wallet", "Google Wallet", "Google Wallet"),
    ("saved", "saved", "enregistrée"),
    ("not_saved", "not saved", "non enregistrée"),
    ("consent", "Consent", "Consentements"),
    ("terms", "Terms accepted", "Conditions acceptées"),
    ("marketing", "Marketing messages", "Messages marketing"),
    ("yes", "yes", "oui"),
    ("no", "no", "non"),
    ("consent_version", "Version", "Version"),
    ("consent_at", "Last changed", "Dernière modification"),
    ("adjust_points", "Adjust points", "Ajuster les points"),
    (
        "adjust_points_help",
        "A whole number: negative to take points away. The reason is kept in the history.",
        "Un nombre entier, négatif pour retirer des points. Le motif est conservé dans l'historique.",
    ),
    ("points_change", "Points to add or remove", "Points à ajouter ou retirer"),
    ("apply", "Apply", "Appliquer"),
    (
        "points_whole_number",
        "Give a whole number of points, such as 50 or -20.",
        "Indiquez un nombre entier de points, par exemple 50 ou -20.",
    ),
    (
        "points_reason_required",
        "Say why: the reason is kept in the points history.",
        "Indiquez le motif : il est conservé dans l'historique des points.",
    ),
    ("queues", "Job queues", "Files de tâches"),
    (
        "queues_help",
        "Work waiting to be done: pushes to iPhones, Google Wallet syncs, webhooks.",
        "Le travail en attente : notifications iPhone, synchronisations Google Wallet, webhooks.",
    ),
    ("kind", "Kind", "Type"),
    ("pending", "Waiting", "En attente"),
    ("leased", "In progress", "En cours"),
    ("dead", "Failed for good", "Échecs définitifs"),
    ("oldest", "Oldest waiting since", "Plus ancien en attente depuis"),
    ("retry_all", "Retry every failed job", "Relancer tous les échecs"),
    ("dead_jobs", "Latest failed jobs", "Derniers échecs"),
    ("no_dead_jobs", "No failed job.", "Aucun échec."),
    ("attempts", "Attempts", "Tentatives"),
    ("last_error", "Last error", "Dernière erreur"),
    ("failed_at", "Failed at", "Échec le"),
    ("retry", "Retry", "Relancer"),
    ("services", "Services", "Services"),
    ("service", "Service", "Service"),
    ("state", "State", "État"),
    ("last_success", "Last success", "Dernier succès"),
    ("state_ok", "working", "fonctionne"),
    ("state_failing", "failing", "en échec"),
    ("state_unknown", "not used yet", "pas encore utilisé"),
    ("state_off", "not configured", "non configuré"),
    ("api_keys", "API keys", "Clés d'API"),
    ("key_name", "Name", "Nom"),
    ("role", "Role", "Rôle"),
    ("store_id", "Store id (store roles only)", "Identifiant du magasin (rôles magasin)"),
    ("last_used", "Last used", "Dernière utilisation"),
    ("revoke", "Revoke", "Révoquer"),
    ("revoked", "revoked", "révoquée"),
    ("active", "active", "active"),
    ("create_key", "Make a key", "Créer une clé"),
    (
        "new_key_once",
        "Copy this key now: it is shown only once.",
        "Copiez cette clé maintenant : elle n'est affichée qu'une fois.",
    ),
    ("users", "Console users", "Utilisateurs de la console"),
    ("last_sign_in", "Last sign-in", "Dernière connexion"),
    ("disabled", "disabled", "désactivé"),
    ("disable", "Disable", "Désactiver"),
    ("create_user", "Add a user", "Ajouter un utilisateur"),
    ("user_created", "User created:", "Utilisateur créé :"),
    (
        "initial_password",
        "Password to give them (12 characters or more)",
        "Mot de passe à lui transmettre (12 caractères ou plus)",
    ),
    ("role_store", "Till (store)", "Caisse (magasin)"),
    ("service_apns", "Apple Wallet pushes (APNs)", "Notifications Apple Wallet (APNs)"),
    ("service_google", "Google Wallet API", "API Google Wallet"),
    ("service_smtp", "E-mail (SMTP)", "E-mail (SMTP)"),
    ("kind_push", "iPhone pushes", "Notifications iPhone"),
    ("kind_google", "Google Wallet updates", "Mises à jour Google Wallet"),
    ("kind_webhook", "Webhooks", "Webhooks"),
    ("kind_mail", "E-mails", "E-mails"),
    ("back_to_console", "Back to the console", "Retour à la console"),
    ("skip", "Skip to the content", "Aller au contenu"),
];

/// Every text in `lang` (`en` or `fr`), as the templates' `t`.
pub fn texts(lang: &str) -> Value {
    let french = lang == "fr";
    let map: Map<String, Value> =
        TEXTS.iter().map(|(k, en, fr)| ((*k).to_owned(), Value::from(if french { *fr } else { *en }))).collect();
    Value::Object(map)
}

/// One text in `lang`.
pub fn text(lang: &str, key: &str) -> String {
    texts(lang)[key].as_str().unwrap_or(key).to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_unique_and_translated() {
        let mut keys = std::collections::HashSet::new();
        for (key, en, fr) in super::TEXTS {
            assert!(keys.insert(key), "{key} twice");
            assert!(!en.is_empty() && !fr.is_empty(), "{key}");
        }
    }
}
