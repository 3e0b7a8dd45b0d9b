//! Crockford's base 32 (<https://www.crockford.com/base32.html>): digits and letters without
//! I, L, O or U, so a cashier typing a code cannot confuse them, read back case-insensitively
//! with O as 0 and I, L as 1; and its check symbol (the value modulo 37, five extra symbols).

/// The 32 symbols of a value.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// The 37 symbols of a check: the 32, then `*~$=U`.
const CHECK_SYMBOLS: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/// The low `5 × len` bits of `bits` as `len` symbols, most significant first.
pub fn encode(bits: u64, len: usize) -> String {
    (0..len).map(|i| ALPHABET[((bits >> (5 * (len - 1 - i))) & 31) as usize] as char).collect()
}

/// The value `symbols` encode, read as Crockford says (case-insensitive, O = 0, I = L = 1,
/// hyphens ignored); `None` for any other character or more than 12 symbols.
pub fn decode(symbols: &str) -> Option<u64> {
    let mut value: u64 = 0;
    let mut count = 0;
    for c in symbols.chars().filter(|c| *c != '-').map(read_as) {
        let digit = ALPHABET.iter().position(|a| *a as char == c)?;
        count += 1;
        if count > 12 {
            return None;
        }
        value = (value << 5) | digit as u64;
    }
    (count > 0).then_some(value)
}

/// The check symbol of `value`.
pub fn check_symbol(value: u64) -> char {
    CHECK_SYMBOLS[(value % 37) as usize] as char
}

/// Whether `symbol` is the check symbol of `value`, read as value symbols are (`u` is `U`,
/// `o` is `0`, `l` is `1`).
pub fn checks(value: u64, symbol: char) -> bool {
    check_symbol(value) == read_as(symbol)
}

/// A typed symbol as Crockford reads it: upper case, O as 0, I and L as 1.
fn read_as(c: char) -> char {
    match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_the_check_catches_a_changed_symbol() {
        for value in [0u64, 1, 31, 32, 0x3_FFFF_FFFF_FFFF, 1_234_567_890_123] {
            let text = encode(value, 10);
            assert_eq!(text.len(), 10);
            assert_eq!(decode(&text), Some(value), "{text}");
            assert_eq!(decode(&text.to_lowercase()), Some(value));
            assert!(checks(value, check_symbol(value)));
        }
        assert_eq!(decode("0O1IL"), decode("00111"));
        assert_eq!(decode("AB-CD"), decode("ABCD"));
        assert_eq!(decode("ABU"), None, "U is no value symbol");
        assert_eq!(decode(""), None);
        // One symbol changed (any of 32 differences, below 37) always changes the check.
        let value = decode("7K3QXA9B2M").unwrap();
        for position in 0..10 {
            for delta in 1..32u64 {
                let shift = 5 * (9 - position);
                let digit = (value >> shift) & 31;
                let other = (value & !(31 << shift)) | (((digit + delta) % 32) << shift);
                assert!(!checks(other, check_symbol(value)), "position {position}, delta {delta}");
            }
        }
        assert_eq!(check_symbol(36), 'U');
        assert_eq!(check_symbol(32), '*');
    }
}
