//! The sign-up form's model: the fields it posts, their checks, and the page's words in
//! English and French.

use serde::Deserialize;

use crate::http::AppState;
use crate::loyalty::contact;

const MAX_NAME_CHARS: usize = 100;

/// The page's words in one language.
pub(super) struct Words {
    pub(super) heading: &'static str,
    pub(super) intro: &'static str,
    pub(super) first_name: &'static str,
    pub(super) email: &'static str,
    pub(super) phone: &'static str,
    pub(super) contact_hint: &'static str,
    pub(super) birthday: &'static str,
    pub(super) birthday_hint: &'static str,
    pub(super) consent: &'static str,
    pub(super) submit: &'static str,
    pub(super) summary: &'static str,
    pub(super) version: &'static str,
    pub(super) need_first_name: &'static str,
    pub(super) long_first_name: &'static str,
    pub(super) need_contact: &'static str,
    pub(super) bad_email: &'static str,
    pub(super) bad_phone: &'static str,
    pub(super) bad_birthday: &'static str,
    pub(super) need_terms: &'static str,
}

const EN: Words = Words {
    heading: "Join our loyalty programme",
    intro: "Get your loyalty card in Apple Wallet or Google Wallet in a few seconds.",
    first_name: "First name",
    email: "E-mail address",
    phone: "Mobile phone number",
    contact_hint: "An e-mail address or a phone number: one is enough.",
    birthday: "Birthday (optional)",
    birthday_hint: "For a treat on your birthday. Format: YYYY-MM-DD.",
    consent: "Your consent",
    submit: "Get my card",
    summary: "Please correct the following:",
    version: "Consent wording version",
    need_first_name: "Enter your first name.",
    long_first_name: "Your first name must be at most 100 letters.",
    need_contact: "Enter an e-mail address or a phone number.",
    bad_email: "Enter an e-mail address like name@example.com.",
    bad_phone: "Enter a mobile number like 06 12 34 56 78 or +33 6 12 34 56 78.",
    bad_birthday: "Enter a past date like 1990-05-31.",
    need_terms: "Tick this box to join the programme.",
};

const FR: Words = Words {
    heading: "Rejoignez notre programme de fidélité",
    intro: "Obtenez votre carte de fidélité dans Apple Wallet ou Google Wallet en quelques secondes.",
    first_name: "Prénom",
    email: "Adresse e-mail",
    phone: "Numéro de téléphone mobile",
    contact_hint: "Une adresse e-mail ou un numéro de téléphone : l'un des deux suffit.",
    birthday: "Date d'anniversaire (facultatif)",
    birthday_hint: "Pour une attention le jour de votre anniversaire. Format : AAAA-MM-JJ.",
    consent: "Votre consentement",
    submit: "Obtenir ma carte",
    summary: "Merci de corriger ce qui suit :",
    version: "Version du texte de consentement",
    need_first_name: "Indiquez votre prénom.",
    long_first_name: "Votre prénom doit compter au plus 100 lettres.",
    need_contact: "Indiquez une adresse e-mail ou un numéro de téléphone.",
    bad_email: "Indiquez une adresse e-mail comme nom@exemple.fr.",
    bad_phone: "Indiquez un numéro de mobile comme 06 12 34 56 78 ou +33 6 12 34 56 78.",
    bad_birthday: "Indiquez une date passée comme 1990-05-31.",
    need_terms: "Cochez cette case pour rejoindre le programme.",
};

pub(super) fn words(lang: &str) -> &'static Words {
    if lang == "fr" { &FR } else { &EN }
}

/// What the form posts; every field is text, absent when empty.
#[derive(Debug, Default, Deserialize)]
pub struct JoinForm {
    pub(super) csrf: Option<String>,
    #[serde(default)]
    pub(super) first_name: String,
    #[serde(default)]
    pub(super) email: String,
    #[serde(default)]
    pub(super) phone: String,
    #[serde(default)]
    pub(super) birthday: String,
    pub(super) terms: Option<String>,
    pub(super) marketing: Option<String>,
}

/// The value the form's checkboxes send (`value="yes"`).
pub(super) const CHECKED: &str = "yes";

/// Whether a checkbox was ticked: only its own value counts (`terms=` is not consent).
pub(super) fn ticked(value: &Option<String>) -> bool {
    value.as_deref() == Some(CHECKED)
}

/// Field name → message, in the order the fields appear.
pub(super) type Errors = Vec<(&'static str, &'static str)>;

/// The checks of the form, with messages a shopper understands (the API's are for developers).
pub(super) fn validate(state: &AppState, w: &Words, f: &JoinForm) -> Errors {
    let mut errors = Errors::new();
    let name = f.first_name.trim();
    if name.is_empty() {
        errors.push(("first_name", w.need_first_name));
    } else if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        errors.push(("first_name", w.long_first_name));
    }
    let (email, phone) = (f.email.trim(), f.phone.trim());
    if email.is_empty() && phone.is_empty() {
        errors.push(("email", w.need_contact));
    }
    if !email.is_empty() && contact::normalise_email(email).is_err() {
        errors.push(("email", w.bad_email));
    }
    if !phone.is_empty() && contact::normalise_phone(phone, state.config.loyalty.default_country).is_err() {
        errors.push(("phone", w.bad_phone));
    }
    let birthday = f.birthday.trim();
    if !birthday.is_empty() {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let today = time::OffsetDateTime::now_utc().date();
        let ok = time::Date::parse(birthday, format).is_ok_and(|d| d <= today && d.year() >= 1900);
        if !ok {
            errors.push(("birthday", w.bad_birthday));
        }
    }
    if !ticked(&f.terms) {
        errors.push(("terms", w.need_terms));
    }
    errors
}
