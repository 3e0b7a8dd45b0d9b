//! Unguessable identifiers: serial numbers and authentication tokens from the OS CSPRNG.

/// `bytes` random bytes as lowercase hex (`bytes * 8` bits of entropy).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    openssl::rand::rand_bytes(&mut buf).expect("the OpenSSL CSPRNG failed");
    hex::encode(buf)
}

/// A pass serial number: 128 random bits, 32 hex characters.
pub fn serial_number() -> String {
    random_hex(16)
}

/// A pass `authenticationToken`: 160 random bits, 40 hex characters
/// (Apple requires at least 16 characters; it never changes for a pass).
pub fn authentication_token() -> String {
    random_hex(20)
}
