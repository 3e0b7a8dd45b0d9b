//! Offer codes: 50 bits from the OS CSPRNG as 10 symbols of Crockford's base 32, then its
//! check symbol (`crate::crockford`), printed as the coupon's barcode and typed at a till.
//! A mistyped symbol fails the check before any lookup.

use crate::crockford;

/// Value symbols of a code: 10 × 5 = 50 random bits.
const SYMBOLS: usize = 10;

/// A new code: `7K3QXA9B2M` and its check symbol.
pub fn new_code() -> String {
    let mut bytes = [0u8; 8];
    openssl::rand::rand_bytes(&mut bytes).expect("the OpenSSL CSPRNG failed");
    let bits = u64::from_be_bytes(bytes) >> (64 - 5 * SYMBOLS);
    format!("{}{}", crockford::encode(bits, SYMBOLS), crockford::check_symbol(bits))
}

/// The code as stored, from what a till typed or scanned (any case, O for 0, I or L for 1,
/// hyphens and spaces ignored); `None` if it is no code or its check symbol does not match.
pub fn normalise(typed: &str) -> Option<String> {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let mut chars: Vec<char> = compact.chars().collect();
    if chars.len() != SYMBOLS + 1 {
        return None;
    }
    let check = chars.pop()?;
    let value = crockford::decode(&chars.iter().collect::<String>())?;
    crockford::checks(value, check)
        .then(|| format!("{}{}", crockford::encode(value, SYMBOLS), crockford::check_symbol(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_checked_and_read_back_as_typed() {
        let codes: std::collections::HashSet<String> = (0..2000).map(|_| new_code()).collect();
        assert_eq!(codes.len(), 2000);
        for code in codes.iter().take(50) {
            assert_eq!(code.len(), 11);
            assert_eq!(normalise(code).as_deref(), Some(code.as_str()));
            let typed = format!("{}-{} ", &code[..5], &code[5..]).to_lowercase().replace('0', "o").replace('1', "l");
            assert_eq!(normalise(&typed).as_deref(), Some(code.as_str()), "{typed}");
            // One value symbol changed: the check refuses it.
            let mut wrong: Vec<char> = code.chars().collect();
            wrong[3] = if wrong[3] == 'A' { 'B' } else { 'A' };
            assert_eq!(normalise(&wrong.iter().collect::<String>()), None);
        }
        assert_eq!(normalise("SHORT"), None);
    }
}
