//! Card numbers: generated as 12 digits whose last one is a Luhn check digit, or given by the
//! retailer (an existing numbering scheme), then only checked for length and characters.

use crate::error::Error;

/// Longest card number accepted from callers.
pub const MAX_LEN: usize = 32;

/// The Luhn check digit of `digits` (ASCII digits only).
pub fn luhn_check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            // The rightmost payload digit is doubled: the check digit will sit to its right.
            if i % 2 == 0 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// True for a string of digits whose last one is the Luhn check digit of the others.
pub fn luhn_valid(number: &str) -> bool {
    number.len() >= 2
        && number.bytes().all(|b| b.is_ascii_digit())
        && luhn_check_digit(&number[..number.len() - 1]) == number.as_bytes()[number.len() - 1] - b'0'
}

/// A new random card number: 11 digits (the first not zero) and a Luhn check digit.
pub fn generate() -> String {
    let mut buf = [0u8; 8];
    openssl::rand::rand_bytes(&mut buf).expect("the OpenSSL CSPRNG failed");
    let payload = 10_000_000_000 + u64::from_le_bytes(buf) % 90_000_000_000;
    let payload = payload.to_string();
    format!("{payload}{}", luhn_check_digit(&payload))
}

/// Checks a card number given by the caller: 1-32 characters of A-Z, a-z, 0-9 and '-'.
pub fn validate_given(number: &str) -> Result<String, Error> {
    let number = number.trim();
    if number.is_empty() || number.len() > MAX_LEN || !number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::unprocessable(
            format!("card_number must be 1-{MAX_LEN} characters of A-Z, a-z, 0-9 and '-'"),
            "card_number",
        ));
    }
    Ok(number.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_luhn_numbers() {
        // The classic examples: 7992739871 has check digit 3; a Visa test card number.
        assert_eq!(luhn_check_digit("7992739871"), 3);
        assert!(luhn_valid("79927398713"));
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid("79927398710"));
        assert!(!luhn_valid("7"));
        assert!(!luhn_valid("7992a398713"));
    }

    #[test]
    fn generated_numbers_are_12_digits_with_a_check_digit() {
        for _ in 0..1000 {
            let n = generate();
            assert_eq!(n.len(), 12, "{n}");
            assert!(!n.starts_with('0'), "{n}");
            assert!(luhn_valid(&n), "{n}");
        }
    }

    #[test]
    fn a_single_typo_is_caught() {
        let n = generate();
        for i in 0..n.len() {
            let mut b = n.clone().into_bytes();
            b[i] = b'0' + (b[i] - b'0' + 1) % 10;
            assert!(!luhn_valid(std::str::from_utf8(&b).unwrap()), "{n} changed at {i}");
        }
    }

    #[test]
    fn given_numbers_are_checked() {
        assert_eq!(validate_given(" ML-0042 ").unwrap(), "ML-0042");
        for bad in ["", "   ", "has space", "é123", &"1".repeat(33)] {
            let e = validate_given(bad).unwrap_err();
            assert!(matches!(e, Error::Unprocessable { field: Some(ref f), .. } if f == "card_number"), "{bad:?}");
        }
    }
}
