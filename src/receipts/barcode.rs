//! The receipt pass's barcode: the receipt number, a dash and an 8-character keyed check
//! (40 bits of an HMAC of the store and number, in Crockford's base 32). Holding the barcode
//! proves holding the receipt: another store may read a receipt for a return only with it.

use super::keyed_hmac;
use crate::crockford;
use crate::error::Result;

/// Characters of the check: 8 × 5 bits = the first 40 bits of the HMAC.
const CHECK_LEN: usize = 8;

fn check(key: &[u8], store_id: &str, number: &str) -> Result<String> {
    let mac = keyed_hmac(key, &format!("receipt-barcode:{store_id}\n{number}"))?;
    let bits = mac[..5].iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Ok(crockford::encode(bits, CHECK_LEN))
}

/// What the receipt pass's barcode carries: `R-0042-7K3QXA9B`.
pub fn value(key: &[u8], store_id: &str, number: &str) -> Result<String> {
    Ok(format!("{number}-{}", check(key, store_id, number)?))
}

/// The receipt number a scanned barcode names, if it has the shape of one (not yet verified).
pub fn number_of(scanned: &str) -> Option<&str> {
    let (number, check) = scanned.rsplit_once('-')?;
    (check.len() == CHECK_LEN && !number.is_empty()).then_some(number)
}

/// Whether `scanned` is the barcode of receipt `number` of `store_id` (constant time).
pub fn matches(key: &[u8], store_id: &str, number: &str, scanned: &str) -> Result<bool> {
    let expected = value(key, store_id, number)?;
    let scanned = scanned.to_ascii_uppercase();
    let expected_upper = expected.to_ascii_uppercase();
    Ok(expected_upper.len() == scanned.len() && openssl::memcmp::eq(expected_upper.as_bytes(), scanned.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_barcode_names_its_number_and_only_its_own_store_and_number_match() {
        let key = b"k";
        let code = value(key, "paris-01", "R-0042").unwrap();
        assert_eq!(number_of(&code), Some("R-0042"));
        assert_eq!(code.len(), "R-0042-".len() + CHECK_LEN);
        assert!(code[7..].bytes().all(|b| crockford::ALPHABET.contains(&b)), "{code}");
        assert!(matches(key, "paris-01", "R-0042", &code).unwrap());
        assert!(matches(key, "paris-01", "R-0042", &code.to_lowercase()).unwrap());
        assert!(!matches(key, "lyon-01", "R-0042", &code).unwrap());
        assert!(!matches(key, "paris-01", "R-0043", &code).unwrap());
        assert!(!matches(key, "paris-01", "R-0042", "R-0042-AAAAAAAA").unwrap());
        assert_eq!(number_of("R-0042"), None);
    }
}
