//! Contact normalisation, so one person is one member however they type their details:
//! e-mail addresses trimmed and lowercased (with a basic shape check), phone numbers in
//! E.164 (`+33612345678`), national numbers read in `PASSERELLE_DEFAULT_COUNTRY`.

/// Longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;
/// Longest phone number as typed (spaces, dots, dashes and brackets included).
const MAX_PHONE_INPUT: usize = 32;

pub use crate::config::Country;

/// The phone number in E.164 form; national numbers (`0612345678`) are read in `country`.
pub fn normalise_phone(raw: &str, country: Country) -> Result<String, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_PHONE_INPUT {
        return Err("must be a phone number of at most 32 characters");
    }
    if !raw.chars().all(|c| c.is_ascii_digit() || " +-.()/".contains(c)) {
        return Err("may hold only digits, spaces, '+', '-', '.', '/' and brackets");
    }
    let number = phonenumber::parse(Some(country.0), raw).map_err(|_| "is not a phone number")?;
    if !phonenumber::is_valid(&number) {
        return Err("is not a valid phone number (write it with its country code, e.g. +33 6 12 34 56 78)");
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The e-mail address trimmed and lowercased, if it has the shape `local@domain.tld`.
pub fn normalise_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() || email.len() > MAX_EMAIL {
        return Err("must be an e-mail address of at most 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("must be an e-mail address such as name@example.com");
    };
    let ok = !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;:\"[]\\".contains(c));
    if ok { Ok(email) } else { Err("must be an e-mail address such as name@example.com") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr() -> Country {
        "fr".parse().unwrap()
    }

    #[test]
    fn national_and_international_forms_are_one_number() {
        for typed in ["+33 6 12 34 56 78", "0612345678", "06 12 34 56 78", "06.12.34.56.78", "0033 6 12 34 56 78"] {
            assert_eq!(normalise_phone(typed, fr()).unwrap(), "+33612345678", "{typed}");
        }
        // A foreign number keeps its own country; the default applies only without a prefix.
        assert_eq!(normalise_phone("+44 20 7946 0958", fr()).unwrap(), "+442079460958");
        assert_eq!(normalise_phone("020 7946 0958", "GB".parse().unwrap()).unwrap(), "+442079460958");
        assert_eq!(normalise_phone("0470 12 34 56", "BE".parse().unwrap()).unwrap(), "+32470123456");
    }

    #[test]
    fn bad_phones_are_refused() {
        for bad in ["", "12", "06123", "hello", "+33 6 12 34 56 78 90 12 34", "06-12-34-56-78x", "+999 123456789"] {
            assert!(normalise_phone(bad, fr()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn countries_parse() {
        assert_eq!(fr().to_string(), "FR");
        assert!("XX".parse::<Country>().is_err());
        assert!("France".parse::<Country>().is_err());
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(normalise_email("  Marie.Dupont@Example.FR ").unwrap(), "marie.dupont@example.fr");
        assert_eq!(normalise_email("a+tag@mail.example.com").unwrap(), "a+tag@mail.example.com");
        for bad in ["", "marie", "marie@", "@example.fr", "marie@example", "ma rie@example.fr", "a@b@c.fr", "a@.fr"] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }
}
