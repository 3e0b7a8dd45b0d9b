//! The `signature` file: a detached PKCS#7 (DER) signature of manifest.json.
//!
//! Apple: signed with the Pass Type ID key, carrying the WWDR intermediate and a
//! signing-time attribute ("Signature must contain a signing date" otherwise).
//! BINARY keeps OpenSSL from rewriting line endings of the signed bytes.

use openssl::pkcs7::{Pkcs7, Pkcs7Flags};

use super::certs::SigningIdentity;

/// Signs `manifest` and returns the DER signature. OpenSSL adds contentType,
/// signingTime and messageDigest as signed attributes; SMIMECapabilities is left out
/// since Wallet ignores it.
pub fn sign_manifest(identity: &SigningIdentity, manifest: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let flags = Pkcs7Flags::BINARY | Pkcs7Flags::DETACHED | Pkcs7Flags::NOSMIMECAP;
    Pkcs7::sign(&identity.cert, &identity.key, &identity.chain, manifest, flags)?.to_der()
}
